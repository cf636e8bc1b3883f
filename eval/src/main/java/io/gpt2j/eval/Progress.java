package io.gpt2j.eval;

/** Upward callback for long runs: {@code done} of {@code total} units (windows, examples) finished. Never prints. */
@FunctionalInterface
public interface Progress {
    Progress NONE = (done, total) -> { };

    void update(long done, long total);
}
