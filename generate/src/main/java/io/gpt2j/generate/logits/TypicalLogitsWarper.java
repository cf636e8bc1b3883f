package io.gpt2j.generate.logits;

import java.util.Arrays;

/**
 * Locally typical sampling, transformers' TypicalLogitsWarper: rank tokens by |(-log p) - entropy| and keep the
 * smallest set whose probability mass reaches {@code mass}.
 */
public final class TypicalLogitsWarper implements LogitsProcessor {
    private final double mass;
    private final int minTokensToKeep;
    private float[] logp, shifted, probs;
    private long[] keys;

    public TypicalLogitsWarper(double mass, int minTokensToKeep) {
        Scores.check(mass > 0 && mass < 1, "`typical_p` has to be a float > 0 and < 1, but is " + mass);
        Scores.check(minTokensToKeep >= 1, "`min_tokens_to_keep` has to be a positive integer, but is " + minTokensToKeep);
        this.mass = mass;
        this.minTokensToKeep = minTokensToKeep;
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        logp = Scores.grow(logp, vocab);
        shifted = Scores.grow(shifted, vocab);
        probs = Scores.grow(probs, vocab);
        keys = Scores.grow(keys, vocab);
        System.arraycopy(s, off, logp, 0, vocab);
        Scores.logSoftmax(logp, 0, vocab);
        double ent = 0;
        for (int i = 0; i < vocab; i++) {
            float p = (float) Math.exp(logp[i]);
            float t = logp[i] * p;
            if (!Float.isNaN(t)) ent += t;
        }
        float entropy = (float) -ent;
        for (int i = 0; i < vocab; i++) {
            shifted[i] = Math.abs(-logp[i] - entropy);
            keys[i] = Scores.sortKey(shifted[i], i);
        }
        Arrays.sort(keys, 0, vocab);
        Scores.softmax(s, off, vocab, probs);
        float m = (float) mass;
        double cum = 0;
        int lastInd = 0;
        for (int j = 0; j < vocab; j++) {
            cum += probs[Scores.keyIndex(keys[j])];
            if ((float) cum < m) lastInd++;
            else break;
        }
        lastInd = Math.min(lastInd, vocab - 1);
        float thr = shifted[Scores.keyIndex(keys[lastInd])];
        for (int j = Math.min(minTokensToKeep, vocab); j < vocab; j++) {
            int i = Scores.keyIndex(keys[j]);
            if (shifted[i] > thr) s[off + i] = Float.NEGATIVE_INFINITY;
        }
    }

    @Override
    public String toString() {
        return "Typical(" + mass + ")";
    }
}
