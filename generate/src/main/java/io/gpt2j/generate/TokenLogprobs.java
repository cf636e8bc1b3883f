package io.gpt2j.generate;

/**
 * Log-probabilities of each token of a sequence given the ones before it (index 0: NaN, nothing precedes it), with
 * the {@code top} most likely alternatives at each position: what OpenAI's echo + logprobs returns for a prompt.
 * Computed by {@link Gpt2Lm#tokenLogprobs} as log_softmax of the raw logits (no temperature or other processing).
 */
public record TokenLogprobs(float[] logprob, int[][] topIds, float[][] topLogprobs) {
}
