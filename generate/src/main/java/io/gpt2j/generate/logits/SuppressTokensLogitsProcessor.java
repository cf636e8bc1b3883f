package io.gpt2j.generate.logits;

/** transformers' SuppressTokensLogitsProcessor: the listed tokens are always -inf. */
public final class SuppressTokensLogitsProcessor implements LogitsProcessor {
    private final int[] tokens;

    public SuppressTokensLogitsProcessor(int... tokens) {
        for (int t : tokens) Scores.check(t >= 0, "`suppress_tokens` must be non-negative ids, but contains " + t);
        this.tokens = tokens.clone();
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        for (int t : tokens) {
            if (t >= vocab) throw new IllegalArgumentException("suppress_tokens contains " + t + ", outside the vocabulary [0," + vocab + ")");
            s[off + t] = Float.NEGATIVE_INFINITY;
        }
    }

    @Override
    public String toString() {
        return "SuppressTokens" + java.util.Arrays.toString(tokens);
    }
}
