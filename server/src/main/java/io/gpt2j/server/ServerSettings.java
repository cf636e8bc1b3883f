package io.gpt2j.server;

/**
 * Every server setting with its default. The CLI fills it from flags, which default to the GPT2J_* environment
 * variables named in docs/server.md.
 *
 * @param requestTimeoutMs      whole-request limit (queueing + generation); 408 and the generation is cancelled
 * @param maxConcurrentRequests generation requests running at once; twice as many may wait, more get 429
 * @param maxBodyBytes          request bodies above this are refused with 413
 * @param maxBatchTokens        KV-cache budget: sum over live sequences of their cache capacity (positions)
 * @param maxReturnSequences    upper bound of num_return_sequences / n per prompt
 * @param maxPrompts            upper bound of prompts in one request
 * @param batchWindowMicros     how long the scheduler waits for the other active sequences before a decode step
 * @param shutdownGraceMs       on shutdown, in-flight requests get this long to finish
 */
public record ServerSettings(String host, int port, String apiKey, String modelName, long requestTimeoutMs,
                             int maxConcurrentRequests, long maxBodyBytes, int maxBatchTokens,
                             int maxReturnSequences, int maxPrompts, long batchWindowMicros, long shutdownGraceMs,
                             int threads) {
    public ServerSettings {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        if (requestTimeoutMs <= 0) throw new IllegalArgumentException("request timeout must be > 0 ms, got " + requestTimeoutMs);
        if (maxConcurrentRequests < 1) throw new IllegalArgumentException("max concurrent requests must be >= 1, got " + maxConcurrentRequests);
        if (maxBodyBytes < 1) throw new IllegalArgumentException("max body bytes must be >= 1, got " + maxBodyBytes);
        if (maxBatchTokens < 1) throw new IllegalArgumentException("max batch tokens must be >= 1, got " + maxBatchTokens);
        if (maxReturnSequences < 1) throw new IllegalArgumentException("max return sequences must be >= 1, got " + maxReturnSequences);
        if (apiKey != null && apiKey.isEmpty()) apiKey = null;
    }

    public static ServerSettings defaults() {
        return new ServerSettings("127.0.0.1", 8080, null, null, 5000, 4, 1 << 20, 65536, 16, 32, 2000, 10_000, 0);
    }

    public ServerSettings withPort(int p) {
        return new ServerSettings(host, p, apiKey, modelName, requestTimeoutMs, maxConcurrentRequests, maxBodyBytes,
                maxBatchTokens, maxReturnSequences, maxPrompts, batchWindowMicros, shutdownGraceMs, threads);
    }

    public ServerSettings withApiKey(String k) {
        return new ServerSettings(host, port, k, modelName, requestTimeoutMs, maxConcurrentRequests, maxBodyBytes,
                maxBatchTokens, maxReturnSequences, maxPrompts, batchWindowMicros, shutdownGraceMs, threads);
    }

    public ServerSettings withLimits(long timeoutMs, int concurrent, long bodyBytes, int batchTokens) {
        return new ServerSettings(host, port, apiKey, modelName, timeoutMs, concurrent, bodyBytes, batchTokens,
                maxReturnSequences, maxPrompts, batchWindowMicros, shutdownGraceMs, threads);
    }
}
