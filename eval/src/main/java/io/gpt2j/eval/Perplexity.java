package io.gpt2j.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Sliding-window perplexity exactly as transformers' "Perplexity of fixed-length models" recipe, with full
 * windows batched as rows of one forward. Reports both the recipe's unweighted mean of per-window mean NLLs and
 * the token-weighted mean; owns no model state beyond its {@link Scorer}.
 */
public final class Perplexity {
    private static final double LN2 = Math.log(2);

    /** One window of the plan with its mean NLL (nats per scored token) and NLL sum. */
    public record WindowNll(int begin, int end, int trgLen, int nScored, double nll, double nllSum) {
    }

    /**
     * @param meanNll            unweighted mean over windows of each window's mean NLL (what the recipe reports)
     * @param ppl                exp(meanNll), the recipe's perplexity
     * @param tokenWeightedMeanNll Σ nll·n_scored / Σ n_scored, i.e. total NLL per scored token
     * @param tokenWeightedPpl   exp(tokenWeightedMeanNll)
     * @param totalNll           NLL summed over every scored token (nats)
     * @param scoredTokens       tokens with a prediction (n - 1 for stride <= max_length/…; fewer when windows do not overlap)
     */
    public record Result(int maxLength, int stride, int tokens, List<WindowNll> windows, double meanNll, double ppl,
                         double tokenWeightedMeanNll, double tokenWeightedPpl, double totalNll, long scoredTokens,
                         double seconds, int batchSize) {
        public double tokensPerSecond() {
            long processed = 0;
            for (WindowNll w : windows) processed += w.end - w.begin;
            return seconds > 0 ? processed / seconds : Double.NaN;
        }

        /** Bits per byte of a text of {@code bytes} UTF-8 bytes: total NLL in bits over the byte count. */
        public double bitsPerByte(long bytes) {
            return totalNll / LN2 / bytes;
        }

        /** Word-level perplexity: exp(total NLL / number of words of the original text). */
        public double wordPerplexity(long words) {
            return Math.exp(totalNll / words);
        }
    }

    private final Scorer scorer;
    private final int batchSize;

    /** @param batchSize the most windows per forward (rows of one batch); at least 1 */
    public Perplexity(Scorer scorer, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        this.scorer = scorer;
        this.batchSize = batchSize;
    }

    /** A batch size that keeps one batch's logits near {@code budgetBytes} (at least 1 row). */
    public static int autoBatch(int maxLength, int vocab, long budgetBytes) {
        long perRow = (long) maxLength * vocab * Float.BYTES;
        return (int) Math.max(1, Math.min(64, Math.min(budgetBytes / perRow, (Integer.MAX_VALUE - 16L) / ((long) maxLength * vocab))));
    }

    public Result run(int[] ids, int maxLength, int stride, Progress progress) {
        if (maxLength > scorer.contextLength()) {
            throw new IllegalArgumentException("--max-length " + maxLength + " exceeds the model's n_positions=" + scorer.contextLength());
        }
        List<SlidingWindow.Window> plan = SlidingWindow.plan(ids.length, maxLength, stride);
        double[] sums = new double[plan.size()];
        long t0 = System.nanoTime();
        int i = 0;
        while (i < plan.size()) {
            // windows of equal length share a forward; only the last window can be shorter
            int j = i + 1;
            while (j < plan.size() && j - i < batchSize && plan.get(j).length() == plan.get(i).length()) j++;
            int B = j - i;
            int[][] seqs = new int[B][];
            int[] from = new int[B];
            for (int b = 0; b < B; b++) {
                SlidingWindow.Window w = plan.get(i + b);
                seqs[b] = java.util.Arrays.copyOfRange(ids, w.begin(), w.end());
                from[b] = w.firstTarget();
            }
            double[][] nll = scorer.nlls(seqs, from);
            for (int b = 0; b < B; b++) for (double v : nll[b]) sums[i + b] += v;
            i = j;
            progress.update(i, plan.size());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        List<WindowNll> out = new ArrayList<>(plan.size());
        double meanSum = 0, total = 0;
        long scored = 0;
        int counted = 0;
        for (int k = 0; k < plan.size(); k++) {
            SlidingWindow.Window w = plan.get(k);
            // a 1-token last window has nothing to score: torch's mean gives nan there; we leave it out of the mean
            double nll = w.nScored() == 0 ? Double.NaN : sums[k] / w.nScored();
            out.add(new WindowNll(w.begin(), w.end(), w.trgLen(), w.nScored(), nll, sums[k]));
            if (w.nScored() > 0) {
                meanSum += nll;
                counted++;
            }
            total += sums[k];
            scored += w.nScored();
        }
        double meanNll = meanSum / counted;
        double tw = total / scored;
        return new Result(maxLength, stride, ids.length, List.copyOf(out), meanNll, Math.exp(meanNll), tw, Math.exp(tw),
                total, scored, seconds, batchSize);
    }
}
