package io.gpt2j.generate.logits;

/**
 * transformers' RepetitionPenaltyLogitsProcessor: every token already in the sequence (prompt and padding included)
 * gets score * penalty when negative, score / penalty otherwise; once per distinct token.
 */
public final class RepetitionPenaltyLogitsProcessor implements LogitsProcessor {
    private final float penalty;
    private int[] stamp;
    private int epoch;

    public RepetitionPenaltyLogitsProcessor(double penalty) {
        Scores.check(penalty > 0 && Double.isFinite(penalty), "`penalty` has to be a strictly positive float, but is " + penalty);
        this.penalty = (float) penalty;
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        if (stamp == null || stamp.length < vocab) stamp = new int[vocab];
        if (++epoch == Integer.MAX_VALUE) {
            java.util.Arrays.fill(stamp, 0);
            epoch = 1;
        }
        for (int i = 0; i < len; i++) {
            int t = ids[i];
            if (t < 0 || t >= vocab) throw new IllegalArgumentException("token id " + t + " outside the vocabulary [0," + vocab + ")");
            if (stamp[t] == epoch) continue;
            stamp[t] = epoch;
            float v = s[off + t];
            s[off + t] = v < 0 ? v * penalty : v / penalty;
        }
    }

    @Override
    public String toString() {
        return "RepetitionPenalty(" + penalty + ")";
    }
}
