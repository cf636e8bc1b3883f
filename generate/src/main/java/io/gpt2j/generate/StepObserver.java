package io.gpt2j.generate;

/**
 * Called by the token-by-token loops (greedy, sampling, contrastive) for each row that is still running, right after
 * its new token is chosen; beam searches do not call it (beams are reordered until the end).
 */
public interface StepObserver {
    StepObserver NONE = (row, token, isEos) -> false;

    /**
     * @param row   row of the output (prompt index × num_return_sequences + sequence index)
     * @param isEos true when the token is an eos id: the row finishes with it
     * @return true to finish this row now because of a stop string (the token stays part of the output)
     */
    boolean onToken(int row, int token, boolean isEos);

    /**
     * The processed scores a row's token is chosen from at this step (transformers' {@code output_scores}: after the
     * processors, and after the warpers when sampling). scores[off, off + vocab) must not be modified.
     */
    default void onScores(int row, float[] scores, int off, int vocab) {
    }
}
