package io.gpt2j.eval;

/**
 * Turns a word-tokenized benchmark text back into ordinary text for a byte-level BPE model, and back again.
 * "Invertible" means {@code retokenize(detokenize(x)).equals(x)} for the benchmark's own text: the word-level
 * units (and their count) are unchanged, so a per-word perplexity on the de-tokenized text is comparable with
 * word-level models. It cannot undo what the benchmark's own preprocessing destroyed (case, numbers, rare words).
 */
public interface Detokenizer {
    String name();

    String detokenize(String tokenized);

    /** The inverse on the benchmark's text (see each implementation for its known exceptions). */
    String retokenize(String detokenized);

    /** One line on what this de-tokenizer can and cannot invert (for reports and docs). */
    String invertibility();

    /** The identity. */
    Detokenizer NONE = new Detokenizer() {
        public String name() {
            return "none";
        }

        public String detokenize(String s) {
            return s;
        }

        public String retokenize(String s) {
            return s;
        }

        public String invertibility() {
            return "identity";
        }
    };
}
