package io.gpt2j.generate.logits;

/** Epsilon sampling, transformers' EpsilonLogitsWarper: drop tokens with probability below epsilon. */
public final class EpsilonLogitsWarper implements LogitsProcessor {
    private final double epsilon;
    private final int minTokensToKeep;
    private float[] probs, scratch;

    public EpsilonLogitsWarper(double epsilon, int minTokensToKeep) {
        Scores.check(epsilon > 0 && epsilon < 1, "`epsilon_cutoff` has to be a float > 0 and < 1, but is " + epsilon);
        Scores.check(minTokensToKeep >= 1, "`min_tokens_to_keep` has to be a strictly positive integer, but is " + minTokensToKeep);
        this.epsilon = epsilon;
        this.minTokensToKeep = minTokensToKeep;
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        probs = Scores.grow(probs, vocab);
        scratch = Scores.grow(scratch, vocab);
        Scores.softmax(s, off, vocab, probs);
        float keepThr = Scores.kthLargest(s, off, vocab, Math.min(minTokensToKeep, vocab), scratch);
        float eps = (float) epsilon;
        for (int i = 0; i < vocab; i++) if (probs[i] < eps && s[off + i] < keepThr) s[off + i] = Float.NEGATIVE_INFINITY;
    }

    @Override
    public String toString() {
        return "Epsilon(" + epsilon + ")";
    }
}
