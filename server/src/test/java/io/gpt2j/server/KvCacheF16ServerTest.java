package io.gpt2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.model.KvDtype;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A server whose KV caches are F16 (serve --kv-dtype f16): continuous batching steps F16 rows together, and concurrent
 * greedy and beam requests return what they return alone, as BatchingTest checks for F32 caches.
 */
class KvCacheF16ServerTest {
    @Test
    void concurrentRequestsOverF16CachesEqualTheSameRequestsAlone() throws Exception {
        ServerSettings s = TestServers.settings().withLimits(60_000, 16, 1 << 20, 65536);
        java.nio.file.Path model = TestServers.medium();
        GptServer server = GptServer.start(s, () -> ModelHost.load(model, s, KvDtype.F16));
        try {
            server.awaitLoaded(60_000);
            assertEquals(KvDtype.F16, server.host().model().kvDtype());
            List<String[]> reqs = List.of(
                    new String[]{"/v1/completions", "{\"prompt\": \"The quick brown fox\", \"max_tokens\": 16, \"temperature\": 0}"},
                    new String[]{"/v1/completions", "{\"prompt\": \"Once upon a time,\", \"max_tokens\": 20, \"temperature\": 0}"},
                    new String[]{"/v1/completions", "{\"prompt\": \"Hello\", \"max_tokens\": 24, \"temperature\": 0}"},
                    new String[]{"/score", "{\"inputs\": [\"My name is John and I am\"], \"parameters\": {\"max_new_tokens\": 12, \"num_beams\": 3, \"num_return_sequences\": 2}}"});
            List<String> alone = new ArrayList<>();
            for (String[] q : reqs) {
                HttpResponse<String> r = TestServers.post(server, q[0], q[1]);
                assertEquals(200, r.statusCode(), r.body());
                alone.add(texts(r));
            }
            Scheduler sch = server.host().scheduler();
            List<CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
            for (String[] q : reqs) {
                fs.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return TestServers.post(server, q[0], q[1]);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            for (int i = 0; i < reqs.size(); i++) {
                HttpResponse<String> r = fs.get(i).get();
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(alone.get(i), texts(r), "request " + i);
            }
            assertTrue(sch.maxBatch.get() > 1, "decode steps over F16 caches were batched");
        } finally {
            server.close();
        }
    }

    /** The generated texts of a completion or a /score response (ids and timings left out). */
    private static String texts(HttpResponse<String> r) throws Exception {
        var j = TestServers.json(r);
        StringBuilder b = new StringBuilder();
        if (j.has("choices")) {
            for (var c : j.get("choices")) b.append(c.get("text").asText()).append('\n');
        } else {
            j.findValues("generated_text").forEach(t -> b.append(t.asText()).append('\n'));
        }
        assertTrue(b.length() > 0, r.body());
        return b.toString();
    }
}
