package io.gpt2j.train;

/** A tokenised training or evaluation set that the {@link Trainer} can batch; implementations are immutable. */
public interface TrainingData {
    /** Number of examples (rows of a batch). */
    int size();

    /** Examples {@code order[from..to)} as one batch, right-padded with {@code padId} where rows differ in length. */
    Batch batch(int[] order, int from, int to, int padId);
}
