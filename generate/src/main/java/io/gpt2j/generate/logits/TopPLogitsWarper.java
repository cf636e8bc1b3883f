package io.gpt2j.generate.logits;

/**
 * Nucleus filtering, transformers' TopPLogitsWarper: sort ascending, drop the tokens whose cumulative probability
 * is <= 1 - top_p, always keep the min_tokens_to_keep best.
 */
public final class TopPLogitsWarper implements LogitsProcessor {
    private final double topP;
    private final int minTokensToKeep;
    private float[] sorted, probs;
    private int[] keys, tmp;
    private final int[] count = new int[257];

    public TopPLogitsWarper(double topP, int minTokensToKeep) {
        Scores.check(topP >= 0 && topP <= 1, "`top_p` has to be a float > 0 and < 1, but is " + topP);
        Scores.check(minTokensToKeep >= 1, "`min_tokens_to_keep` has to be a positive integer, but is " + minTokensToKeep);
        this.topP = topP;
        this.minTokensToKeep = minTokensToKeep;
    }

    public TopPLogitsWarper(double topP) {
        this(topP, 1);
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        sorted = Scores.grow(sorted, vocab);
        probs = Scores.grow(probs, vocab);
        System.arraycopy(s, off, sorted, 0, vocab);
        keys = Scores.grow(keys, vocab);
        tmp = Scores.grow(tmp, vocab);
        Scores.sortAscending(sorted, vocab, keys, tmp, count);
        Scores.softmax(sorted, 0, vocab, probs);
        float limit = (float) (1 - topP);
        int removable = Math.max(0, vocab - minTokensToKeep);
        double cum = 0;
        int r = 0;
        while (r < removable) {
            cum += probs[r];
            if ((float) cum <= limit) r++;
            else break;
        }
        if (r == 0) return;
        float thr = sorted[r];
        for (int i = 0; i < vocab; i++) if (s[off + i] < thr) s[off + i] = Float.NEGATIVE_INFINITY;
    }

    @Override
    public String toString() {
        return "TopP(" + topP + ", keep>=" + minTokensToKeep + ")";
    }
}
