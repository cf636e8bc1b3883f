package io.gpt2j.generate.logits;

import java.util.Arrays;

/**
 * transformers' MinNewTokensLengthLogitsProcessor: eos is -inf while fewer than min_new_tokens tokens follow the
 * (padded) prompt of length prompt_length_to_skip.
 */
public final class MinNewTokensLengthLogitsProcessor implements LogitsProcessor {
    private final int promptLengthToSkip;
    private final int minNewTokens;
    private final int[] eos;

    public MinNewTokensLengthLogitsProcessor(int promptLengthToSkip, int minNewTokens, int... eosTokenIds) {
        Scores.check(promptLengthToSkip >= 0, "`prompt_length_to_skip` has to be a non-negative integer, but is " + promptLengthToSkip);
        Scores.check(minNewTokens >= 0, "`min_new_tokens` has to be a non-negative integer, but is " + minNewTokens);
        Scores.check(eosTokenIds.length > 0, "`eos_token_id` has to be a list of token ids, but is " + Arrays.toString(eosTokenIds));
        this.promptLengthToSkip = promptLengthToSkip;
        this.minNewTokens = minNewTokens;
        this.eos = eosTokenIds.clone();
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        if (len - promptLengthToSkip < minNewTokens) for (int e : eos) if (e < vocab) s[off + e] = Float.NEGATIVE_INFINITY;
    }

    @Override
    public String toString() {
        return "MinNewTokens(" + minNewTokens + " after " + promptLengthToSkip + ")";
    }
}
