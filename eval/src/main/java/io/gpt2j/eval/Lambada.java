package io.gpt2j.eval;

import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * LAMBADA: predict the last word of each passage. Accuracy counts a passage right only when greedy decoding gets
 * every token of " " + last word right (teacher-forced, as lm-evaluation-harness and OpenAI's evaluation do);
 * perplexity is exp(mean over passages of the last word's total NLL). The stop-word-filtered variant approximates
 * the GPT-2 paper's "stop-word filter": at the word's first token, tokens that are a whole stop word are banned.
 */
public final class Lambada {
    /** A small English function-word list used by the filtered variant (ours; the paper does not publish one). */
    public static final Set<String> STOP_WORDS = Set.of("a", "an", "the", "and", "or", "but", "if", "of", "at", "by",
            "for", "with", "about", "to", "from", "in", "on", "off", "up", "down", "out", "over", "under", "into", "onto",
            "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "have", "has", "had", "i", "me",
            "my", "we", "us", "our", "you", "your", "he", "him", "his", "she", "her", "it", "its", "they", "them", "their",
            "this", "that", "these", "those", "what", "which", "who", "whom", "when", "where", "why", "how", "not", "no",
            "so", "than", "too", "very", "can", "will", "just", "as", "then", "there", "here", "all", "any", "both", "each",
            "few", "more", "most", "some", "such", "own", "same", "other", "only", "again", "once", "would", "could",
            "should", "shall", "may", "might", "must");

    /** {@code context} then " " + {@code target}: the passage split at its last space. */
    public record Example(String context, String target) {
        public static Example of(String text) {
            String t = text.strip();
            int i = t.lastIndexOf(' ');
            if (i <= 0) throw new IllegalArgumentException("LAMBADA passage has no last word to predict: '" + t + "'");
            return new Example(t.substring(0, i), t.substring(i + 1));
        }
    }

    public record Result(int examples, int correct, int correctFiltered, double wordNllSum, long targetTokens,
                         double seconds) {
        public double accuracy() {
            return (double) correct / examples;
        }

        public double accuracyStopWordFiltered() {
            return (double) correctFiltered / examples;
        }

        /** exp(mean NLL of the whole last word): the paper's LAMBADA perplexity. */
        public double perplexity() {
            return Math.exp(wordNllSum / examples);
        }

        /** exp(NLL per target token), for reference. */
        public double tokenPerplexity() {
            return Math.exp(wordNllSum / targetTokens);
        }
    }

    private final Scorer scorer;
    private final Gpt2Tokenizer tokenizer;
    private final int batchSize;
    private final boolean[] stopTokens;

    public Lambada(Scorer scorer, Gpt2Tokenizer tokenizer, int batchSize) {
        this.scorer = scorer;
        this.tokenizer = tokenizer;
        this.batchSize = Math.max(1, batchSize);
        this.stopTokens = new boolean[scorer.vocabSize()];
        for (int id = 0; id < Math.min(scorer.vocabSize(), tokenizer.vocabSize()); id++) {
            String s = tokenizer.decode(new int[] {id});
            if (s.startsWith(" ") && STOP_WORDS.contains(s.substring(1).toLowerCase(Locale.ROOT))) stopTokens[id] = true;
        }
    }

    public Result run(List<Example> examples, Progress progress) {
        int n = examples.size(), ctxLen = scorer.contextLength();
        int[] correct = {0}, correctF = {0};
        double[] nll = {0};
        long[] targetTokens = {0};
        long t0 = System.nanoTime();
        for (int start = 0; start < n; start += batchSize) {
            int B = Math.min(batchSize, n - start);
            int[][] seqs = new int[B][];
            int[] from = new int[B];
            for (int b = 0; b < B; b++) {
                Example e = examples.get(start + b);
                int[] ctx = tokenizer.encode(e.context());
                int[] tgt = tokenizer.encode(" " + e.target());
                if (tgt.length >= ctxLen) throw new IllegalArgumentException("target '" + e.target() + "' is longer than the context window");
                int keep = Math.min(ctx.length, ctxLen - tgt.length); // truncate the context from the left
                int[] seq = new int[keep + tgt.length];
                System.arraycopy(ctx, ctx.length - keep, seq, 0, keep);
                System.arraycopy(tgt, 0, seq, keep, tgt.length);
                seqs[b] = seq;
                from[b] = keep;
                targetTokens[0] += tgt.length;
            }
            boolean[] ok = new boolean[B], okF = new boolean[B];
            java.util.Arrays.fill(ok, true);
            java.util.Arrays.fill(okF, true);
            int V = scorer.vocabSize();
            scorer.score(seqs, from, (row, j, logits, off) -> {
                int want = seqs[row][j];
                nll[0] += Scorer.nll(logits, off, V, want);
                boolean hit = Scorer.argmax(logits, off, V, null) == want;
                if (!hit) ok[row] = false;
                boolean hitF = j == from[row] ? Scorer.argmax(logits, off, V, stopTokens) == want : hit;
                if (!hitF) okF[row] = false;
            });
            for (int b = 0; b < B; b++) {
                if (ok[b]) correct[0]++;
                if (okF[b]) correctF[0]++;
            }
            progress.update(start + B, n);
        }
        return new Result(n, correct[0], correctF[0], nll[0], targetTokens[0], (System.nanoTime() - t0) / 1e9);
    }
}
