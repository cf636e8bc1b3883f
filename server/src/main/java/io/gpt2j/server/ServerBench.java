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
                         double meanLatencyMs, double rowsPerDecodeCall) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("clients", clients);
            m.put("requests", requests);
            m.put("completion_tokens", completionTokens);
            m.put("seconds", seconds);
            m.put("tokens_per_second", tokensPerSecond);
            m.put("mean_latency_ms", meanLatencyMs);
            m.put("rows_per_decode_call", rowsPerDecodeCall);
            return m;
        }
    }

    private ServerBench() {
    }

    /**
     * Runs each client count against a started server; every client sends {@code requestsPerClient} requests of
     * {@code maxTokens} greedy tokens (min_new_tokens is not available in the OpenAI API, so eos may end one early).
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
            long calls0 = sch.batchCalls.get(), rows0 = sch.batchRows.get();
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
                out.add(new Result(n, reqs, tokens, sec, tokens / sec, latency / 1e6 / reqs, calls == 0 ? 0 : rows / (double) calls));
            }
        }
        return out;
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
