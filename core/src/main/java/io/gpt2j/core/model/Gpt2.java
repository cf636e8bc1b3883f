package io.gpt2j.core.model;

/**
 * GPT-2 forward pass over a batch with a KV cache, exactly as transformers' GPT2LMHeadModel computes it.
 * Immutable and shared across threads; all mutable data lives in the caller's {@link InferenceState}.
 * It knows nothing of sampling or generation.
 */
public final class Gpt2 {
    private final Gpt2Config config;
    private final Gpt2Weights weights;

    public Gpt2(Gpt2Config config, Gpt2Weights weights) {
        this.config = config;
        this.weights = weights;
    }

    public Gpt2Config config() {
        return config;
    }

    public Gpt2Weights weights() {
        return weights;
    }

    /** A fresh cache for {@code batch} rows of up to {@code capacity} tokens (≤ n_positions). */
    public InferenceState newState(int batch, int capacity) {
        return new InferenceState(config, batch, capacity);
    }

    /**
     * Runs T new tokens per row after what {@code state} holds and appends them to the cache.
     *
     * @param tokens        [B][T] new token ids (same T for every row)
     * @param positions     [B][T] position ids, or null: derived from the mask as generate() does
     *                      ({@code cumsum(mask) - 1}, pads get 1), or {@code past + i} when the mask is null too
     * @param attentionMask [B][past + T] 1 = real token, 0 = padding, covering the cache and the new tokens; null = all 1
     * @param logits        out: [B][T][V] when allPositions, else [B][V] (last new position); null to skip the LM head
     * @param hidden        out: post-ln_f hidden states, [B][T][E] or [B][E]; null when not wanted
     * @throws IllegalArgumentException on context overflow (past + T > capacity) or malformed inputs, with the numbers
     */
    public void forward(InferenceState state, int[][] tokens, int[][] positions, int[][] attentionMask,
                        float[] logits, float[] hidden, boolean allPositions) {
        throw new UnsupportedOperationException("forward pass being implemented");
    }
}
