package io.gpt2j.generate;

/**
 * A generation parameter with a wrong name, type or value, or an invalid combination of parameters.
 * The message names the field and the offending value; the server maps this exception to HTTP 400.
 */
public class GenerationConfigException extends IllegalArgumentException {
    private final String field;

    public GenerationConfigException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The parameter at fault (snake_case, as in transformers), or null for a general problem. */
    public String field() {
        return field;
    }
}
