package io.gpt2j.generate;

/**
 * The token-level result of one batched generate() call, laid out exactly as transformers returns
 * {@code sequences}: rows = prompts × num_return_sequences, prompt (with its left padding) first, finished rows
 * filled with pad. The per-row arrays say how much of each row is real.
 *
 * @param sequences        [rows][promptLength + new]
 * @param promptLength     padded prompt length P (the same for every row)
 * @param generatedLengths new tokens per row that were actually generated (eos included, trailing fill excluded)
 * @param finishReasons    per row
 * @param sequenceScores   per row for beam modes (transformers' sequences_scores), else null
 */
public record RawGeneration(int[][] sequences, int promptLength, int[] generatedLengths, FinishReason[] finishReasons,
                            float[] sequenceScores) {

    /** The generated tokens of one row (eos included, fill excluded). */
    public int[] newTokens(int row) {
        return java.util.Arrays.copyOfRange(sequences[row], promptLength, promptLength + generatedLengths[row]);
    }
}
