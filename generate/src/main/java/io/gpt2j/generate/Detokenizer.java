package io.gpt2j.generate;

/**
 * Token ids to raw bytes, the one thing generation needs from a tokenizer (for text, streaming and stop strings).
 * Adapt io.gpt2j.core.tokenizer.Gpt2Tokenizer with {@code tokenizer::decodeBytes}.
 */
@FunctionalInterface
public interface Detokenizer {
    /** The UTF-8 bytes the ids stand for (special tokens as their literal text); may end inside a character. */
    byte[] decodeBytes(int[] ids);
}
