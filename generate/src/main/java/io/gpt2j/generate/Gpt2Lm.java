package io.gpt2j.generate;

import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.InferenceState;

/**
 * Adapts the core Gpt2 forward pass (immutable, shareable) to {@link CausalLm}. When all hidden states of a
 * left-padded prefill are asked for (contrastive search), the pad positions get transformers' values
 * ({@link PadHiddenStates}). {@link #newRowSession} keeps every row in its own batch-1 cache, so that a scheduler
 * can step rows of different sessions together ({@link Gpt2#decodeBatch}).
 */
public final class Gpt2Lm implements CausalLm {
    private final Gpt2 model;

    public Gpt2Lm(Gpt2 model) {
        this.model = model;
    }

    public Gpt2 model() {
        return model;
    }

    @Override
    public int vocabSize() {
        return model.config().vocabSize();
    }

    @Override
    public int contextLength() {
        return model.config().nPositions();
    }

    @Override
    public int hiddenSize() {
        return model.config().nEmbd();
    }

    @Override
    public Session newSession(int batch, int capacity) {
        return new S(model.newState(batch, capacity));
    }

    /**
     * A session whose rows are independent batch-1 caches: for rows without left padding it computes what
     * {@link #newSession} does (each row alone), and {@link Rows#row} exposes each row's cache so that decode steps
     * of many sessions can run as one batch. Reorder and gather copy single rows.
     */
    public Rows newRowSession(int batch, int capacity) {
        InferenceState[] rows = new InferenceState[batch];
        for (int r = 0; r < batch; r++) rows[r] = model.newState(1, capacity);
        return new Rows(rows);
    }

    /**
     * Prefills several fresh single-row sessions at once: their common prompt prefix (the shortest prompt's length)
     * runs as ONE multi-row forward pass, so the weights are read once for all of them; each longer prompt's rest
     * then runs on its own row. Each row's result is what {@code sessions[i].forward({prompts[i]}, ...)} gives
     * (the same arithmetic per row; the kernels may round differently at the last bit only across batch sizes).
     *
     * @param logits out, one [V] array per session: the last prompt position's logits
     */
    public void prefill(Rows[] sessions, int[][] prompts, float[][] logits) {
        int B = sessions.length, V = vocabSize(), L = Integer.MAX_VALUE;
        if (prompts.length != B || logits.length != B) throw new IllegalArgumentException(B + " sessions, " + prompts.length + " prompts, " + logits.length + " logits");
        for (int i = 0; i < B; i++) {
            if (sessions[i].batch() != 1 || sessions[i].length() != 0) {
                throw new IllegalArgumentException("prefill needs fresh single-row sessions; session " + i + " has "
                        + sessions[i].batch() + " rows and " + sessions[i].length() + " cached positions");
            }
            if (prompts[i].length == 0) throw new IllegalArgumentException("prompt " + i + " is empty");
            L = Math.min(L, prompts[i].length);
        }
        if (B == 1) {
            sessions[0].forward(new int[][]{prompts[0]}, null, logits[0], null, false);
            return;
        }
        InferenceState shared = model.newState(B, L);
        int[][] prefix = new int[B][];
        for (int i = 0; i < B; i++) prefix[i] = java.util.Arrays.copyOf(prompts[i], L);
        float[] last = new float[B * V];
        model.forward(shared, prefix, null, null, last, null, false);
        for (int i = 0; i < B; i++) {
            InferenceState own = shared.gather(new int[]{i}, sessions[i].rows[0].capacity());
            sessions[i].rows[0] = own;
            if (prompts[i].length == L) {
                System.arraycopy(last, i * V, logits[i], 0, V);
            } else {
                int[][] rest = {java.util.Arrays.copyOfRange(prompts[i], L, prompts[i].length)};
                model.forward(own, rest, null, null, logits[i], null, false);
            }
        }
    }

    /**
     * Scores a token sequence with one forward pass over all positions (in chunks of 32, so the logits buffer stays
     * small): log_softmax of each position's logits at the next token, and the {@code top} best alternatives.
     */
    public TokenLogprobs tokenLogprobs(int[] ids, int top) {
        int T = ids.length, V = vocabSize(), chunk = 32;
        float[] lp = new float[T];
        lp[0] = Float.NaN;
        int[][] topIds = new int[T][top];
        float[][] topLp = new float[T][top];
        InferenceState st = model.newState(1, T);
        float[] logits = new float[chunk * V];
        for (int s = 0; s < T - 1; s += chunk) {
            int n = Math.min(chunk, T - 1 - s);
            model.forward(st, new int[][]{java.util.Arrays.copyOfRange(ids, s, s + n)}, null, null, logits, null, true);
            for (int t = 0; t < n; t++) {
                int off = t * V, next = s + t + 1;
                float max = Float.NEGATIVE_INFINITY;
                for (int v = 0; v < V; v++) max = Math.max(max, logits[off + v]);
                double sum = 0;
                for (int v = 0; v < V; v++) sum += Math.exp(logits[off + v] - max);
                float logZ = (float) (max + Math.log(sum));
                lp[next] = logits[off + ids[next]] - logZ;
                for (int k = 0; k < top; k++) {
                    int best = -1;
                    for (int v = 0; v < V; v++) {
                        boolean taken = false;
                        for (int q = 0; q < k; q++) taken |= topIds[next][q] == v;
                        if (!taken && (best < 0 || logits[off + v] > logits[off + best])) best = v;
                    }
                    topIds[next][k] = best;
                    topLp[next][k] = logits[off + best] - logZ;
                }
            }
        }
        return new TokenLogprobs(lp, topIds, topLp);
    }

    /** out logits [B*V] of the last position, hidden [B*T*E] or [B*E]; see {@link Session#forward}. */
    private void forward(InferenceState state, int[][] tokens, int[][] mask, float[] logits, float[] hidden, boolean allHidden) {
        if (!allHidden || tokens[0].length == 1) {
            model.forward(state, tokens, null, mask, logits, hidden, false);
            return;
        }
        // all positions: the model then writes logits for every position too; keep only the last ones
        int b = tokens.length, t = tokens[0].length, v = vocabSize();
        float[] all = logits == null ? null : new float[b * t * v];
        boolean prefill = state.length() == 0;
        model.forward(state, tokens, null, mask, all, hidden, true);
        if (prefill && hidden != null && mask != null) PadHiddenStates.fix(model, state, tokens, mask, hidden);
        if (logits != null) {
            for (int r = 0; r < b; r++) System.arraycopy(all, (r * t + t - 1) * v, logits, r * v, v);
        }
    }

    private final class S implements Session {
        private final InferenceState state;
        /** Position ids of a decode step, [batch][1], reused. */
        private final int[][] stepPositions;

        S(InferenceState state) {
            this.state = state;
            this.stepPositions = new int[state.batch()][1];
        }

        @Override
        public int batch() {
            return state.batch();
        }

        @Override
        public int length() {
            return state.length();
        }

        @Override
        public void forward(int[][] tokens, int[][] mask, float[] logits, float[] hidden, boolean allHidden) {
            Gpt2Lm.this.forward(state, tokens, mask, logits, hidden, allHidden);
        }

        /**
         * The cache already holds the mask of its positions (forward() copied it), so only the new position matters:
         * a real token (mask 1) gets position cumsum(mask) - 1, as in forward(); a padded one takes the general path.
         */
        @Override
        public void decodeStep(int[][] tokens, int[][] mask, float[] logits) {
            int len = state.length() + 1;
            for (int r = 0; r < mask.length; r++) {
                if (mask[r][len - 1] == 0) {
                    Session.super.decodeStep(tokens, mask, logits);
                    return;
                }
                int real = 0;
                for (int p = 0; p < len; p++) real += mask[r][p] != 0 ? 1 : 0;
                stepPositions[r][0] = real - 1;
            }
            model.forward(state, tokens, stepPositions, null, logits, null, false);
        }

        @Override
        public void reorder(int[] src) {
            state.reorder(src);
        }

        @Override
        public Session gather(int[] rows, int capacity) {
            return new S(state.gather(rows, capacity));
        }
    }

    /** Rows in independent batch-1 caches ({@link #newRowSession}); owned by one generation loop, not thread-safe. */
    public final class Rows implements Session {
        private InferenceState[] rows;

        private Rows(InferenceState[] rows) {
            this.rows = rows;
        }

        /** Row r's cache, for a batched decode step ({@link Gpt2#decodeBatch}) that appends one token to it. */
        public InferenceState row(int r) {
            return rows[r];
        }

        @Override
        public int batch() {
            return rows.length;
        }

        @Override
        public int length() {
            return rows[0].length();
        }

        @Override
        public void forward(int[][] tokens, int[][] mask, float[] logits, float[] hidden, boolean allHidden) {
            int T = tokens[0].length, V = vocabSize(), H = (allHidden ? T : 1) * hiddenSize();
            float[] lg = logits == null ? null : new float[V];
            float[] hd = hidden == null ? null : new float[H];
            for (int r = 0; r < rows.length; r++) {
                Gpt2Lm.this.forward(rows[r], new int[][]{tokens[r]}, mask == null ? null : new int[][]{mask[r]}, lg, hd, allHidden);
                if (lg != null) System.arraycopy(lg, 0, logits, r * V, V);
                if (hd != null) System.arraycopy(hd, 0, hidden, r * H, H);
            }
        }

        @Override
        public void reorder(int[] src) {
            if (src.length != rows.length) throw new IllegalArgumentException("reorder needs " + rows.length + " row indices, got " + src.length);
            InferenceState[] next = new InferenceState[src.length];
            boolean[] used = new boolean[rows.length];
            for (int i = 0; i < src.length; i++) {
                InferenceState s = rows[src[i]];
                next[i] = used[src[i]] ? s.gather(new int[]{0}, s.capacity()) : s;
                used[src[i]] = true;
            }
            rows = next;
        }

        @Override
        public Rows gather(int[] idx, int capacity) {
            InferenceState[] next = new InferenceState[idx.length];
            for (int i = 0; i < idx.length; i++) next[i] = rows[idx[i]].gather(new int[]{0}, capacity);
            return new Rows(next);
        }
    }
}
