package io.gpt2j.generate;

/** Why one returned sequence stopped growing. */
public enum FinishReason {
    /** max_length / max_new_tokens reached. */
    LENGTH,
    /** An eos token was generated (it is part of tokenIds, not of text). */
    EOS,
    /** A stop string appeared in the generated text (text is cut before it). */
    STOP,
    /** max_time elapsed. */
    TIME;

    /** Lower-case wire name: "length", "eos", "stop", "time". */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
