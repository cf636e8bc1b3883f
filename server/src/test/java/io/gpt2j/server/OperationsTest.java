package io.gpt2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** Health, OpenAPI, auth, request ids, timeouts, admission control, metrics and graceful shutdown over HTTP. */
class OperationsTest {
    private static final String SCORE = "{\"inputs\": [\"Hello\"], \"parameters\": {\"max_new_tokens\": 3}}";

    private static String longScore(int tokens) {
        return "{\"inputs\": [\"Hello there\"], \"parameters\": {\"max_new_tokens\": " + tokens + ", \"min_new_tokens\": " + tokens + "}}";
    }

    @Test
    void livenessAndReadinessAre503WhileLoading() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ServerSettings s = TestServers.settings();
        try (GptServer server = GptServer.start(s, () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return ModelHost.load(TestServers.tiny(), s);
        })) {
            assertEquals(503, TestServers.get(server, "/").statusCode());
            assertEquals("model_loading", TestServers.json(TestServers.get(server, "/health/ready")).get("error").get("code").asText());
            assertEquals(503, TestServers.post(server, "/score", SCORE).statusCode());
            release.countDown();
            server.awaitLoaded(30_000);
            assertEquals(200, TestServers.get(server, "/").statusCode());
            assertEquals(200, TestServers.get(server, "/health/ready").statusCode());
            assertEquals(200, TestServers.post(server, "/score", SCORE).statusCode());
        }
    }

    @Test
    void swaggerListsEveryRoute() throws Exception {
        try (GptServer server = TestServers.start(TestServers.tiny(), TestServers.settings())) {
            HttpResponse<String> r = TestServers.get(server, "/swagger.json");
            assertEquals(200, r.statusCode());
            JsonNode doc = TestServers.json(r);
            assertTrue(doc.get("openapi").asText().startsWith("3."));
            for (String p : List.of("/", "/health/live", "/health/ready", "/swagger.json", "/metrics", "/playground", "/model-card",
                    "/score", "/v1/completions", "/v1/models", "/tokenize", "/detokenize")) {
                assertNotNull(doc.get("paths").get(p), "swagger lacks " + p);
            }
        }
    }

    @Test
    void bearerKeyIsRequiredWhenConfigured() throws Exception {
        try (GptServer server = TestServers.start(TestServers.tiny(), TestServers.settings().withApiKey("s3cret"))) {
            HttpResponse<String> r = TestServers.post(server, "/score", SCORE);
            assertEquals(401, r.statusCode());
            assertEquals("unauthorized", TestServers.json(r).get("error").get("code").asText());
            assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElse(""));
            assertEquals(401, TestServers.post(server, "/score", SCORE, "Authorization", "Bearer s3cre").statusCode());
            assertEquals(401, TestServers.post(server, "/score", SCORE, "Authorization", "s3cret").statusCode());
            assertEquals(200, TestServers.post(server, "/score", SCORE, "Authorization", "Bearer s3cret").statusCode());
            assertEquals(200, TestServers.get(server, "/").statusCode(), "liveness needs no key");
            assertEquals(401, TestServers.get(server, "/metrics").statusCode());
            assertTrue(TestServers.get(server, "/metrics").headers().firstValue("x-request-id").isPresent());
        }
    }

    @Test
    void everyResponseCarriesARequestId() throws Exception {
        try (GptServer server = TestServers.start(TestServers.tiny(), TestServers.settings())) {
            HttpResponse<String> r = TestServers.post(server, "/score", SCORE, "x-ms-client-request-id", "abc-123");
            assertEquals("abc-123", r.headers().firstValue("x-request-id").orElse(null));
            assertEquals("abc-123", r.headers().firstValue("x-ms-client-request-id").orElse(null));
            r = TestServers.get(server, "/no/such/route");
            assertEquals(404, r.statusCode());
            assertTrue(r.headers().firstValue("x-request-id").orElse("").length() >= 32, r.headers().toString());
            r = TestServers.post(server, "/score", "{bad", "x-ms-client-request-id", "e-1");
            assertEquals("e-1", r.headers().firstValue("x-request-id").orElse(null));
            r = TestServers.get(server, "/score", "x-request-id", "m-1");
            assertEquals(405, r.statusCode());
            assertEquals("m-1", r.headers().firstValue("x-request-id").orElse(null));
        }
    }

    @Test
    void slowRequestsTimeOutWith408AndFreeTheirSlot() throws Exception {
        ServerSettings s = TestServers.settings().withLimits(300, 2, 1 << 20, 65536);
        try (GptServer server = TestServers.start(TestServers.medium(), s)) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = TestServers.post(server, "/score", longScore(900));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(408, r.statusCode(), r.body());
            assertEquals("request_timeout", TestServers.json(r).get("error").get("code").asText());
            assertTrue(ms < 3000, "answered after " + ms + " ms");
            assertEquals(0, server.host().scheduler().usedTokens(), "cache budget released");
            assertEquals(0, server.host().scheduler().activeSequences(), "caches dropped");
            assertEquals(0, server.admission().running());
            assertEquals(200, TestServers.post(server, "/score", SCORE).statusCode());
        }
    }

    /** With one slot: a queued client that hangs up leaves the queue (bound 1 s), and so does the running one. */
    @Test
    void aQueuedClientThatHangsUpLeavesTheQueue() throws Exception {
        ServerSettings s = TestServers.settings().withLimits(60_000, 1, 1 << 20, 65536);
        try (GptServer server = TestServers.start(TestServers.medium(), s)) {
            java.net.Socket running = TestServers.rawPost(server, "/score", longScore(900));
            TestServers.waitFor(() -> server.admission().running() == 1, 10_000);
            java.net.Socket queued = TestServers.rawPost(server, "/score", SCORE);
            TestServers.waitFor(() -> server.admission().queued() == 1, 10_000);
            assertEquals(1, server.admission().queued());
            long t0 = System.nanoTime();
            queued.close();
            TestServers.waitFor(() -> server.admission().queued() == 0, 5_000);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("queued request left " + ms + " ms after its client hung up");
            assertEquals(0, server.admission().queued());
            assertTrue(ms < 1000, ms + " ms");
            assertEquals(1, server.admission().running(), "the running request is unaffected");
            running.close();
            TestServers.waitFor(() -> server.admission().running() == 0 && server.host().scheduler().activeSequences() == 0, 5_000);
            assertEquals(0, server.admission().running());
            assertEquals(0, server.host().scheduler().usedTokens());
            assertEquals(200, TestServers.post(server, "/score", SCORE).statusCode());
        }
    }

    @Test
    void beyondTheQueueRequestsGet429WithRetryAfter() throws Exception {
        ServerSettings s = TestServers.settings().withLimits(60_000, 1, 1 << 20, 65536);
        try (GptServer server = TestServers.start(TestServers.medium(), s)) {
            List<CompletableFuture<HttpResponse<String>>> running = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                running.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return TestServers.post(server, "/score", longScore(200));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            long end = System.currentTimeMillis() + 10_000;
            while (server.admission().running() + server.admission().queued() < 3 && System.currentTimeMillis() < end) Thread.sleep(5);
            HttpResponse<String> r = TestServers.post(server, "/score", SCORE);
            assertEquals(429, r.statusCode(), r.body());
            assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
            // prompt scoring (what lm-evaluation-harness sends) is admitted like generation, not run beside the limit
            String scoring = "{\"prompt\": \"The cat sat\", \"echo\": true, \"max_tokens\": 0, \"logprobs\": 1}";
            HttpResponse<String> lp = TestServers.post(server, "/v1/completions", scoring);
            assertEquals(429, lp.statusCode(), lp.body());
            for (CompletableFuture<HttpResponse<String>> f : running) assertEquals(200, f.get().statusCode());
            assertEquals(200, TestServers.post(server, "/score", SCORE).statusCode());
            lp = TestServers.post(server, "/v1/completions", scoring);
            assertEquals(200, lp.statusCode(), lp.body());
            assertEquals(3, TestServers.json(lp).get("choices").get(0).get("logprobs").get("token_logprobs").size(), lp.body());
        }
    }

    @Test
    void metricsCountRequestsTokensAndTheJvm() throws Exception {
        try (GptServer server = TestServers.start(TestServers.tiny(), TestServers.settings())) {
            TestServers.post(server, "/score", SCORE);
            TestServers.post(server, "/score", "{");
            TestServers.get(server, "/nope");
            String m = TestServers.get(server, "/metrics").body();
            assertTrue(m.contains("gpt2j_http_requests_seconds_count{method=\"POST\",route=\"/score\",status=\"200\"} 1"), m);
            assertTrue(m.contains("gpt2j_http_requests_seconds_count{method=\"POST\",route=\"/score\",status=\"400\"} 1"), m);
            assertTrue(m.contains("route=\"unmatched\",status=\"404\""), m);
            assertTrue(m.contains("gpt2j_http_requests_seconds_bucket"), "latency histogram");
            assertTrue(m.contains("gpt2j_tokens_generated_total 3.0"), m);
            assertTrue(m.contains("gpt2j_requests_queued"), m);
            assertTrue(m.contains("jvm_memory_used_bytes"), m);
        }
    }

    @Test
    void shutdownFinishesInFlightRequestsAndRefusesNewOnes() throws Exception {
        GptServer server = TestServers.start(TestServers.medium(), TestServers.settings().withLimits(60_000, 2, 1 << 20, 65536));
        try {
            CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(() -> {
                try {
                    return TestServers.post(server, "/score", longScore(600));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long end = System.currentTimeMillis() + 10_000;
            while (server.admission().running() == 0 && System.currentTimeMillis() < end) Thread.sleep(2);
            int port = server.port();
            Thread stopper = Thread.ofPlatform().start(server::shutdown);
            while (TestServers.get(server, "/health/ready").statusCode() == 200 && System.currentTimeMillis() < end) Thread.sleep(1);
            assertEquals(1, server.admission().running(), "the long request is still in flight");
            HttpResponse<String> refused = TestServers.post(server, "/score", SCORE);
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals(503, TestServers.get(server, "/health/ready").statusCode());
            HttpResponse<String> r = inFlight.get();
            assertEquals(200, r.statusCode(), r.body());
            stopper.join(20_000);
            assertThrows(Exception.class, () -> TestServers.CLIENT.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + port + "/")).build(), HttpResponse.BodyHandlers.ofString()));
        } finally {
            server.close();
        }
    }

    @Test
    void aRequestLargerThanTheCacheBudgetIsRefused() throws Exception {
        try (GptServer server = TestServers.start(TestServers.tiny(), TestServers.settings().withLimits(5000, 4, 1 << 20, 50))) {
            HttpResponse<String> r = TestServers.post(server, "/score", "{\"inputs\": [\"Hello\"], \"parameters\": {\"max_new_tokens\": 60}}");
            assertEquals(400, r.statusCode(), r.body());
            assertEquals("kv_budget_exceeded", TestServers.json(r).get("error").get("code").asText());
            assertEquals(200, TestServers.post(server, "/score", SCORE).statusCode());
            assertEquals(0, server.host().scheduler().usedTokens());
        }
    }

    @Test
    void playgroundPageAndModelCard() throws Exception {
        try (GptServer server = TestServers.start(TestServers.tiny(), TestServers.settings().withApiKey("k"))) {
            HttpResponse<String> r = TestServers.get(server, "/playground");
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/html"));
            for (String id : List.of("id=\"prompt\"", "id=\"max_tokens\"", "id=\"temperature\"", "id=\"curl\"", "id=\"card-text\"",
                    "/v1/completions", "stream: true", "biases")) {
                assertTrue(r.body().contains(id), "playground lacks " + id);
            }
            JsonNode card = TestServers.json(TestServers.get(server, "/model-card", "Authorization", "Bearer k"));
            assertEquals("tiny-gpt2", card.get("model").asText());
            assertTrue(card.get("readme").isNull(), "tiny-gpt2 has no README.md: the page shows its built-in note");
        }
    }
}
