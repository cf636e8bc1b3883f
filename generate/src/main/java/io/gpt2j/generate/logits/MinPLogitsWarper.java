package io.gpt2j.generate.logits;

/**
 * min-p filtering (transformers >= 4.39's MinPLogitsWarper, absent from 4.38): drop tokens whose probability is below
 * min_p times the top probability, always keeping the min_tokens_to_keep best.
 */
public final class MinPLogitsWarper implements LogitsProcessor {
    private final double minP;
    private final int minTokensToKeep;
    private float[] probs, scratch;

    public MinPLogitsWarper(double minP, int minTokensToKeep) {
        Scores.check(minP >= 0 && minP <= 1, "`min_p` has to be a float in the [0, 1] interval, but is " + minP);
        Scores.check(minTokensToKeep >= 1, "`min_tokens_to_keep` has to be a positive integer, but is " + minTokensToKeep);
        this.minP = minP;
        this.minTokensToKeep = minTokensToKeep;
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        probs = Scores.grow(probs, vocab);
        scratch = Scores.grow(scratch, vocab);
        Scores.softmax(s, off, vocab, probs);
        float top = 0;
        for (int i = 0; i < vocab; i++) top = Math.max(top, probs[i]);
        float scaled = (float) minP * top;
        float keepThr = Scores.kthLargest(s, off, vocab, Math.min(minTokensToKeep, vocab), scratch);
        for (int i = 0; i < vocab; i++) {
            if (probs[i] < scaled && s[off + i] < keepThr) s[off + i] = Float.NEGATIVE_INFINITY;
        }
    }

    @Override
    public String toString() {
        return "MinP(" + minP + ")";
    }
}
