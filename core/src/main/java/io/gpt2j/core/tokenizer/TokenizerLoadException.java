package io.gpt2j.core.tokenizer;

/** Thrown when tokenizer files are missing or malformed; the message names the file and the problem. */
public final class TokenizerLoadException extends RuntimeException {
    public TokenizerLoadException(String message) {
        super(message);
    }

    public TokenizerLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
