package io.gpt2j.generate;

/**
 * One returned sequence.
 *
 * @param tokenIds      the generated tokens only: the eos that ended it is included; pad fill after it is not
 * @param fullIds       prompt tokens (without left padding) followed by tokenIds
 * @param text          decoded tokenIds without the final eos, cut before a stop string; null without a detokenizer
 * @param finishReason  why it stopped
 * @param sequenceScore transformers' sequences_scores for beam modes, else null
 * @param stopString    the stop string that ended it (finishReason STOP), else null
 */
public record GeneratedSequence(int[] tokenIds, int[] fullIds, String text, FinishReason finishReason,
                                Float sequenceScore, String stopString) {
}
