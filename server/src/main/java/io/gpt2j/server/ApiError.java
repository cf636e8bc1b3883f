package io.gpt2j.server;

import java.util.Map;

/**
 * An error that becomes one HTTP response {@code {"error": {"code": ..., "message": ...}}}. Only the server turns
 * exceptions into status codes; everything below throws exceptions with context.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String code;
    private final Map<String, String> headers;

    public ApiError(int status, String code, String message) {
        this(status, code, message, Map.of());
    }

    public ApiError(int status, String code, String message, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.headers = Map.copyOf(headers);
    }

    public static ApiError badRequest(String code, String message) {
        return new ApiError(400, code, message);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public Map<String, String> headers() {
        return headers;
    }
}
