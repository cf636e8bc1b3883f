package io.gpt2j.generate.logits;

/** Keeps the top_k highest scores (ties with the k-th kept), the rest become -inf; transformers' TopKLogitsWarper. */
public final class TopKLogitsWarper implements LogitsProcessor {
    private final int topK;
    private final int minTokensToKeep;
    private float[] scratch;
    private int[] keys, tmp;
    private final int[] count = new int[257];

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
        keys = Scores.grow(keys, vocab);
        tmp = Scores.grow(tmp, vocab);
        System.arraycopy(s, off, scratch, 0, vocab);
        Scores.sortAscending(scratch, vocab, keys, tmp, count); // as kthLargest, without Arrays.sort's run buffers
        float thr = scratch[vocab - k];
        for (int i = 0; i < vocab; i++) if (s[off + i] < thr) s[off + i] = Float.NEGATIVE_INFINITY;
    }

    @Override
    public String toString() {
        return "TopK(" + topK + ", keep>=" + minTokensToKeep + ")";
    }
}
