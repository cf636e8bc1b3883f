package io.gpt2j.core.io;

/**
 * A checkpoint (safetensors file, config.json, model directory) that cannot be read or does not fit the model.
 * Messages are one line and name the file, the tensor or field, and the problem; they never print or exit.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
