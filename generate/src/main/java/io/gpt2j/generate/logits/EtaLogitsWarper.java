package io.gpt2j.generate.logits;

/**
 * Eta sampling, transformers' EtaLogitsWarper: drop tokens with probability below
 * min(epsilon, sqrt(epsilon) * exp(-entropy)).
 */
public final class EtaLogitsWarper implements LogitsProcessor {
    private final double epsilon;
    private final int minTokensToKeep;
    private float[] probs, logits, scratch;

    public EtaLogitsWarper(double epsilon, int minTokensToKeep) {
        Scores.check(epsilon > 0 && epsilon < 1, "`eta_cutoff` has to be a float > 0 and < 1, but is " + epsilon);
        Scores.check(minTokensToKeep >= 1, "`min_tokens_to_keep` has to be a strictly positive integer, but is " + minTokensToKeep);
        this.epsilon = epsilon;
        this.minTokensToKeep = minTokensToKeep;
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        probs = Scores.grow(probs, vocab);
        logits = Scores.grow(logits, vocab);
        scratch = Scores.grow(scratch, vocab);
        Scores.softmax(s, off, vocab, probs);
        System.arraycopy(s, off, logits, 0, vocab);
        Scores.logSoftmax(logits, 0, vocab);
        double ent = 0;
        for (int i = 0; i < vocab; i++) {
            float l = Math.max(logits[i], -Float.MAX_VALUE);
            ent += l * probs[i];
        }
        float entropy = (float) -ent;
        float eps = (float) epsilon;
        float eta = Math.min(eps, (float) Math.sqrt(eps) * (float) Math.exp(-entropy));
        float keepThr = Scores.kthLargest(s, off, vocab, Math.min(minTokensToKeep, vocab), scratch);
        for (int i = 0; i < vocab; i++) if (probs[i] < eta && s[off + i] < keepThr) s[off + i] = Float.NEGATIVE_INFINITY;
    }

    @Override
    public String toString() {
        return "Eta(" + epsilon + ")";
    }
}
