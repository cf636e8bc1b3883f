package io.gpt2j.generate.logits;

import java.util.Arrays;

/** transformers' MinLengthLogitsProcessor: eos is -inf while the sequence (prompt included) is shorter than min_length. */
public final class MinLengthLogitsProcessor implements LogitsProcessor {
    private final int minLength;
    private final int[] eos;

    public MinLengthLogitsProcessor(int minLength, int... eosTokenIds) {
        Scores.check(minLength >= 0, "`min_length` has to be a non-negative integer, but is " + minLength);
        Scores.check(eosTokenIds.length > 0, "`eos_token_id` has to be a list of token ids, but is " + Arrays.toString(eosTokenIds));
        for (int e : eosTokenIds) Scores.check(e >= 0, "`eos_token_id` has to be a list of non-negative ids, but is " + Arrays.toString(eosTokenIds));
        this.minLength = minLength;
        this.eos = eosTokenIds.clone();
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        if (len < minLength) for (int e : eos) if (e < vocab) s[off + e] = Float.NEGATIVE_INFINITY;
    }

    @Override
    public String toString() {
        return "MinLength(" + minLength + ")";
    }
}
