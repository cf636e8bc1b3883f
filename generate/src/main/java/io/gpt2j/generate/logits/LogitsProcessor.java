package io.gpt2j.generate.logits;

/**
 * One step of transformers' logits processing, applied in place to the scores of one row. Implementations validate
 * their arguments at construction (messages show the bad value) and keep only reusable scratch buffers, so an
 * instance belongs to one generation call (not thread-safe) and allocates nothing per token once warm.
 */
public interface LogitsProcessor {
    /**
     * @param row    index of the row in the current batch (used by processors that look across rows)
     * @param ids    the row's token history, prompt and padding included, valid in [0, len)
     * @param len    current sequence length (transformers' {@code input_ids.shape[-1]})
     * @param scores scores[off, off + vocab) are modified in place
     */
    void process(int row, int[] ids, int len, float[] scores, int off, int vocab);
}
