package io.gpt2j.generate;

/**
 * transformers' {@code early_stopping} for beam search: {@code true}, {@code false} or {@code "never"}.
 * TRUE stops a prompt as soon as num_beams hypotheses are finished; FALSE stops when no open beam can beat the worst
 * finished one at the current length (a heuristic); NEVER only when that is impossible at max_length.
 */
public enum EarlyStopping {
    TRUE, FALSE, NEVER
}
