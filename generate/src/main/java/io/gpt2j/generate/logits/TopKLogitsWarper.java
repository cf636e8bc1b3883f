package io.gpt2j.generate.logits;

/** Keeps the top_k highest scores (ties with the k-th kept), the rest become -inf; transformers' TopKLogitsWarper. */
public final class TopKLogitsWarper implements LogitsProcessor {
    private final int topK;
    private final int minTokensToKeep;
    private float[] scratch;

    public TopKLogitsWarper(int topK, int minTokensToKeep) {
        Scores.check(topK > 0, "`top_k` has to be a strictly positive integer, but is " + topK);
        Scores.check(minTokensToKeep >= 1, "`min_tokens_to_keep` has to be a positive integer, but is " + minTokensToKeep);
        this.topK = Math.max(topK, minTokensToKeep);
        this.minTokensToKeep = minTokensToKeep;
    }

    public TopKLogitsWarper(int topK) {
        this(topK, 1);
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        int k = Math.min(topK, vocab);
        scratch = Scores.grow(scratch, vocab);
        float thr = Scores.kthLargest(s, off, vocab, k, scratch);
        for (int i = 0; i < vocab; i++) if (s[off + i] < thr) s[off + i] = Float.NEGATIVE_INFINITY;
    }

    @Override
    public String toString() {
        return "TopK(" + topK + ", keep>=" + minTokensToKeep + ")";
    }
}
