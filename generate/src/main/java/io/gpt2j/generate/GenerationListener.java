package io.gpt2j.generate;

/**
 * Receives text as it is generated. Called on the generating thread, in order per sequence. Deltas never split a
 * UTF-8 character and never contain text that might still turn out to be the start of a stop string. Greedy,
 * sampling and contrastive search stream token by token; beam modes deliver each sequence's text once, at the end.
 * Concatenating a sequence's deltas gives exactly its {@link GeneratedSequence#text()}.
 */
public interface GenerationListener {
    /** New text of sequence {@code sequence} (0 ≤ sequence < num_return_sequences) of prompt {@code prompt}. */
    void onText(int prompt, int sequence, String delta);

    /** The sequence is complete (called once per sequence, after its last delta). */
    default void onFinish(int prompt, int sequence, GeneratedSequence result) {
    }
}
