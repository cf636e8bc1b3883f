package io.gpt2j.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * End-to-end server benchmark: N concurrent clients send greedy /v1/completions requests over loopback HTTP; the
 * result is aggregate generated tokens per second and request latency. Not a test: numbers depend on the machine.
 */
public final class ServerBench {
    /** One measured client count. */
    public record Result(int clients, int requests, long completionTokens, double seconds, double tokensPerSecond,
                         double meanLatencyMs, double rowsPerDecodeCall, double promptsPerPrefill, double decodeSeconds,
                         double prefillSeconds, double coreTokensPerSecond) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("clients", clients);
            m.put("requests", requests);
            m.put("completion_tokens", completionTokens);
            m.put("seconds", seconds);
            m.put("tokens_per_second", tokensPerSecond);
            m.put("mean_latency_ms", meanLatencyMs);
            m.put("rows_per_decode_call", rowsPerDecodeCall);
            m.put("prompts_per_prefill", promptsPerPrefill);
            m.put("scheduler_decode_seconds", decodeSeconds);
            m.put("scheduler_prefill_seconds", prefillSeconds);
            m.put("core_decode_tokens_per_second", coreTokensPerSecond);
            return m;
        }
    }

    private ServerBench() {
    }

    /**
     * Runs each client count against a started server; every client sends {@code requestsPerClient} requests of
     * {@code maxTokens} greedy tokens (min_new_tokens is not available in the OpenAI API, so eos may end one early).
     * Also reports how the scheduler thread spent the time (batched decode steps, prefill and other model calls; the
     * rest is waiting for requests) and, for comparison, the core's own rate of {@link io.gpt2j.core.model.Gpt2#decodeBatch}
     * at the same batch (clients rows, measured on the idle server's model after the HTTP run): the ceiling.
     */
    public static List<Result> run(GptServer server, int[] clients, int requestsPerClient, int maxTokens, String prompt)
            throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        String body = Bodies.write(Map.of("prompt", prompt, "max_tokens", maxTokens, "temperature", 0));
        URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/completions");
        send(http, uri, body); // warm-up (JIT)
        send(http, uri, body);
        List<Result> out = new ArrayList<>();
        Scheduler sch = server.host().scheduler();
        for (int n : clients) {
            long calls0 = sch.batchCalls.get(), rows0 = sch.batchRows.get(), dec0 = sch.decodeNanos.get(), task0 = sch.taskNanos.get(),
                    pc0 = sch.prefillCalls.get(), pr0 = sch.prefillRows.get();
            long t0 = System.nanoTime();
            List<Future<long[]>> fs = new ArrayList<>();
            try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int c = 0; c < n; c++) {
                    fs.add(ex.submit(() -> {
                        long tokens = 0, latency = 0;
                        for (int r = 0; r < requestsPerClient; r++) {
                            long s = System.nanoTime();
                            tokens += send(http, uri, body);
                            latency += System.nanoTime() - s;
                        }
                        return new long[]{tokens, latency};
                    }));
                }
                long tokens = 0, latency = 0;
                for (Future<long[]> f : fs) {
                    long[] v = f.get();
                    tokens += v[0];
                    latency += v[1];
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                long calls = sch.batchCalls.get() - calls0, rows = sch.batchRows.get() - rows0;
                int reqs = n * requestsPerClient;
                double dec = (sch.decodeNanos.get() - dec0) / 1e9, task = (sch.taskNanos.get() - task0) / 1e9;
                long pc = sch.prefillCalls.get() - pc0, pr = sch.prefillRows.get() - pr0;
                out.add(new Result(n, reqs, tokens, sec, tokens / sec, latency / 1e6 / reqs, calls == 0 ? 0 : rows / (double) calls,
                        pc == 0 ? 0 : pr / (double) pc, dec, task, coreDecodeRate(sch.model(), n, maxTokens)));
            }
        }
        return out;
    }

    /** Tokens/s of {@code steps} decode steps of {@code n} batch-1 caches in one decodeBatch call each (8-token prefix). */
    static double coreDecodeRate(io.gpt2j.core.model.Gpt2 model, int n, int steps) {
        io.gpt2j.core.model.InferenceState[] states = new io.gpt2j.core.model.InferenceState[n];
        int[] tokens = new int[n];
        float[] logits = new float[n * model.config().vocabSize()];
        for (int i = 0; i < n; i++) {
            states[i] = model.newState(1, 8 + steps + 1);
            model.forward(states[i], new int[][]{{464, 2106, 286, 262, 1748, 6140, 351, 262}}, null, null, null, null, false);
            tokens[i] = 11 + i;
        }
        model.decodeBatch(states, tokens, logits); // warm-up step
        long t0 = System.nanoTime();
        for (int s = 0; s < steps; s++) model.decodeBatch(states, tokens, logits);
        return (double) n * steps / ((System.nanoTime() - t0) / 1e9);
    }

    private static long send(HttpClient http, URI uri, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IllegalStateException("benchmark request failed: " + r.statusCode() + " " + r.body());
        JsonNode j = Bodies.JSON.readTree(r.body());
        return j.get("usage").get("completion_tokens").asLong();
    }
}
