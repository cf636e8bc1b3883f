package io.gpt2j.generate.logits;

/**
 * transformers' NoRepeatNGramLogitsProcessor: bans every token that would complete an n-gram already present in
 * the sequence (prompt and padding included).
 */
public final class NoRepeatNGramLogitsProcessor implements LogitsProcessor {
    private final int n;

    public NoRepeatNGramLogitsProcessor(int ngramSize) {
        Scores.check(ngramSize > 0, "`ngram_size` has to be a strictly positive integer, but is " + ngramSize);
        this.n = ngramSize;
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        if (len + 1 < n) return;
        int prefixStart = len - n + 1;
        for (int start = 0; start + n <= len; start++) {
            boolean match = true;
            for (int j = 0; j < n - 1 && match; j++) match = ids[start + j] == ids[prefixStart + j];
            if (match) {
                int banned = ids[start + n - 1];
                if (banned >= 0 && banned < vocab) s[off + banned] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    @Override
    public String toString() {
        return "NoRepeatNGram(" + n + ")";
    }
}
