package io.gpt2j.train;

/**
 * One training batch of B rows of T tokens. Labels follow transformers: for the LM, {@code labels} (B,T) unshifted
 * (the model shifts) with -100 ignored; for token classification (B,T); for sequence classification (B) ints,
 * or {@code targets} (B * num_labels floats) for regression (num_labels 1) and multi-label problems.
 *
 * @param attentionMask (B,T) of 0/1, or null for all ones
 */
public record Batch(int[] inputIds, int[] attentionMask, int[] labels, float[] targets, int B, int T) {
    public static final int IGNORE_INDEX = -100;

    public Batch {
        if (B <= 0 || T <= 0) throw new IllegalArgumentException("batch: B and T must be positive, got B=" + B + " T=" + T);
        if (inputIds.length != B * T) {
            throw new IllegalArgumentException("batch: input_ids has " + inputIds.length + " ids, expected B*T = " + B * T);
        }
        if (attentionMask != null && attentionMask.length != B * T) {
            throw new IllegalArgumentException("batch: attention_mask has " + attentionMask.length + " entries, expected " + B * T);
        }
    }
}
