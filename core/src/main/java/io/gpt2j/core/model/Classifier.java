package io.gpt2j.core.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs a {@link ClassificationHead} over GPT-2: texts (token ids) in, logits out, batched by length so that
 * padding is small, with the matmuls on the model's worker pool. Texts are right-padded: with causal attention a
 * real token never sees a pad, so every text gets the logits it would get alone. Immutable and thread-safe (each
 * call owns its inference states).
 */
public final class Classifier {
    /** KV-cache bytes one batch may use; batches are at least one text. */
    public static final long DEFAULT_BATCH_BYTES = 256L << 20;

    private final Gpt2 model;
    private final ClassificationHead head;
    private final int maxBatchTokens;

    public Classifier(Gpt2 model, ClassificationHead head) {
        this(model, head, DEFAULT_BATCH_BYTES);
    }

    /** {@code batchBytes}: KV-cache budget of one forward (B × T tokens × layers × 2 × n_embd floats). */
    public Classifier(Gpt2 model, ClassificationHead head, long batchBytes) {
        Gpt2Config c = model.config();
        if (head.nEmbd() != c.nEmbd() || head.weight().length != head.numLabels() * c.nEmbd()) {
            throw new IllegalArgumentException("the head's weight is [" + head.numLabels() + ", " + head.weight().length / head.numLabels()
                    + "] but the model's n_embd is " + c.nEmbd());
        }
        this.model = model;
        this.head = head;
        long perToken = 2L * c.nLayer() * c.nEmbd() * Float.BYTES;
        this.maxBatchTokens = (int) Math.max(1, Math.min(1 << 16, batchBytes / perToken));
    }

    public Gpt2 model() {
        return model;
    }

    public ClassificationHead head() {
        return head;
    }

    /**
     * The position transformers' GPT2ForSequenceClassification pools for this text run on its own:
     * {@code (argmax(ids == pad_token_id) - 1) mod T}, i.e. the token before the first pad id, the last token when the
     * text holds no pad id or the config has none. A text that itself contains the pad id (often eos) is cut there.
     */
    public static int pooledIndex(int[] ids, int padTokenId) {
        int t = ids.length;
        if (t == 0) throw new IllegalArgumentException("empty text: sequence classification needs at least one token");
        if (padTokenId < 0) return t - 1;
        for (int i = 0; i < t; i++) if (ids[i] == padTokenId) return Math.floorMod(i - 1, t);
        return t - 1;
    }

    /**
     * Logits of every text: K values for sequence classification, T × K (row per token) for token classification.
     * Each text must fit the context window (n_positions) and hold at least one token.
     */
    public List<float[]> logits(List<int[]> texts) {
        final int n = texts.size(), E = model.config().nEmbd(), K = head.numLabels();
        for (int i = 0; i < n; i++) {
            int len = texts.get(i).length;
            if (len == 0) throw new IllegalArgumentException("text " + i + " has no tokens");
            if (len > model.config().nPositions()) {
                throw new IllegalArgumentException("text " + i + " has " + len + " tokens; the model's context window n_positions is "
                        + model.config().nPositions() + " (truncate it first)");
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Integer.compare(texts.get(a).length, texts.get(b).length));
        float[][] out = new float[n][];
        int fill = head.padTokenId() >= 0 ? head.padTokenId() : Math.max(0, model.config().eosTokenId());
        for (int from = 0; from < n; ) {
            int to = from + 1, maxLen = texts.get(order[from]).length;
            while (to < n && (long) (to - from + 1) * Math.max(maxLen, texts.get(order[to]).length) <= maxBatchTokens) {
                maxLen = Math.max(maxLen, texts.get(order[to]).length);
                to++;
            }
            int B = to - from, T = maxLen;
            int[][] tokens = new int[B][T];
            for (int b = 0; b < B; b++) {
                int[] ids = texts.get(order[from + b]);
                Arrays.fill(tokens[b], fill);
                System.arraycopy(ids, 0, tokens[b], 0, ids.length);
            }
            float[] hidden = new float[B * T * E];
            model.forward(model.newState(B, T), tokens, null, null, null, hidden, true);
            for (int b = 0; b < B; b++) {
                int[] ids = texts.get(order[from + b]);
                int[] rows;
                if (head.kind() == ClassificationHead.Kind.SEQUENCE_CLASSIFICATION) {
                    rows = new int[]{b * T + pooledIndex(ids, head.padTokenId())};
                } else {
                    rows = new int[ids.length];
                    for (int t = 0; t < ids.length; t++) rows[t] = b * T + t;
                }
                float[] logits = new float[rows.length * K];
                project(logits, hidden, rows, E, K);
                out[order[from + b]] = logits;
            }
            from = to;
        }
        return new ArrayList<>(Arrays.asList(out));
    }

    // out (R,K), hidden (B*T,E) read at rows[r], weight (K,E), bias (K) or null
    private void project(float[] out, float[] hidden, int[] rows, int E, int K) {
        final float[] w = head.weight(), bias = head.bias();
        model.pool().forRange(rows.length * K, 64, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int r = i / K, k = i % K, h = rows[r] * E, wo = k * E;
                float s = 0;
                for (int e = 0; e < E; e++) s += hidden[h + e] * w[wo + e];
                out[i] = bias == null ? s : s + bias[k];
            }
        });
    }
}
