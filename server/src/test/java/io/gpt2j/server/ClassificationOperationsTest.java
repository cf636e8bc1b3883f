package io.gpt2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Classification checkpoints under the same operational contract as generation, over real loopback HTTP: admission
 * (429 + Retry-After beyond the queue), the request timeout (408, and the passes stop), a client that hangs up frees
 * its slot, concurrent requests share passes, metrics and the access log. The model is a random 4-layer, 256-wide
 * GPT-2 with 1024 positions and a 3-label head: one pass over a 1000-token text takes long enough to cancel.
 */
class ClassificationOperationsTest {
    /** One text of ~1000 tokens (" hello" is one token): one pass each, ClassificationQueue.PASS_TOKENS = 1024. */
    private static final String LONG_TEXT = "hello" + " hello".repeat(999);
    private static final String SMALL = "{\"inputs\": [\"i feel fine\"]}";
    private static final ExecutorService CLIENTS = Executors.newVirtualThreadPerTaskExecutor();

    private static String longTexts(int n) {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < n; i++) texts.add("\"" + LONG_TEXT + "\"");
        return "{\"inputs\": [" + String.join(", ", texts) + "]}";
    }

    @Test
    void aSlowRequestTimesOutWith408AndItsPassesStop() throws Exception {
        ServerSettings s = TestServers.settings().withLimits(300, 2, 1 << 20, 65536);
        try (GptServer server = TestServers.start(TestServers.mediumClassifier(), s)) {
            assertNull(server.host().scheduler(), "no generation scheduler for a head model");
            ClassificationQueue q = server.host().classification();
            long t0 = System.nanoTime();
            HttpResponse<String> r = TestServers.post(server, "/score", longTexts(32));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(408, r.statusCode(), r.body());
            assertEquals("request_timeout", TestServers.json(r).get("error").get("code").asText());
            assertTrue(TestServers.json(r).get("error").get("message").asText().contains("classification was cancelled"), r.body());
            assertTrue(ms < 3000, "answered after " + ms + " ms");
            assertEquals(0, server.admission().running(), "slot freed");
            TestServers.waitFor(() -> q.activeTexts() == 0, 10_000); // the pass in flight ends
            long passes = q.passes.get();
            Thread.sleep(300);
            System.out.printf("408 after %d ms; %d of 32 texts were classified before the work stopped%n", ms, passes);
            assertEquals(passes, q.passes.get(), "no pass runs for the cancelled request");
            assertTrue(passes < 32, passes + " passes: the work was not cancelled");
            assertEquals(0, q.activeTexts());
            HttpResponse<String> ok = TestServers.post(server, "/score", SMALL);
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals(3, TestServers.json(ok).get(0).size());
        }
    }

    /** One slot, two queued: the fourth request gets 429; then every client hangs up and the slots are free at once. */
    @Test
    void beyondTheQueueRequestsGet429AndClientsThatHangUpFreeTheirSlots() throws Exception {
        ServerSettings s = TestServers.settings().withLimits(60_000, 1, 1 << 20, 65536);
        try (GptServer server = TestServers.start(TestServers.mediumClassifier(), s)) {
            ClassificationQueue q = server.host().classification();
            List<Socket> clients = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                clients.add(TestServers.rawPost(server, "/score", longTexts(32)));
                final int n = i + 1;
                TestServers.waitFor(() -> server.admission().running() + server.admission().queued() == n, 10_000);
            }
            assertEquals(1, server.admission().running());
            assertEquals(2, server.admission().queued());
            HttpResponse<String> r = TestServers.post(server, "/score", SMALL);
            assertEquals(429, r.statusCode(), r.body());
            assertEquals("too_many_requests", TestServers.json(r).get("error").get("code").asText());
            assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
            long t0 = System.nanoTime();
            for (Socket c : clients) c.close();
            TestServers.waitFor(() -> server.admission().running() + server.admission().queued() == 0, 5_000);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("slots free " + ms + " ms after the clients hung up");
            assertEquals(0, server.admission().running() + server.admission().queued());
            assertTrue(ms < 1000, ms + " ms");
            TestServers.waitFor(() -> q.activeTexts() == 0, 10_000);
            long passes = q.passes.get();
            Thread.sleep(300);
            assertEquals(passes, q.passes.get(), "no pass runs for requests whose clients left");
            assertTrue(passes < 32, passes + " passes");
            assertEquals(200, TestServers.post(server, "/score", SMALL).statusCode());
        }
    }

    /**
     * Three requests of two short texts arrive while a pass over a long text runs: they share the next pass, and get
     * the scores they get alone (tolerance 1e-5: a row of a shared, padded pass may round differently in the last
     * bits, see Classifier; scores are softmax probabilities in [0, 1]).
     */
    @Test
    void concurrentRequestsSharePassesAndGetTheScoresTheyGetAlone() throws Exception {
        ServerSettings s = TestServers.settings().withLimits(60_000, 8, 1 << 20, 65536);
        Logger access = (Logger) LoggerFactory.getLogger("gpt2j.access");
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        access.addAppender(log);
        try (GptServer server = TestServers.start(TestServers.mediumClassifier(), s)) {
            ClassificationQueue q = server.host().classification();
            String[] bodies = {"{\"inputs\": [\"i feel fine\", \"what a day\"]}", "{\"inputs\": [\"so sad\", \"Oslo is cold\"]}",
                    "{\"input_data\": [\"hello there\", \"a b c d e f\"]}"};
            List<JsonNode> alone = new ArrayList<>();
            for (String b : bodies) {
                HttpResponse<String> r = TestServers.post(server, "/score", b);
                assertEquals(200, r.statusCode(), r.body());
                alone.add(TestServers.json(r));
            }
            assertEquals(2, q.maxTexts.get(), "alone, a pass carries one request's texts");
            CompletableFuture<HttpResponse<String>> slow = async(server, longTexts(8)); // 8 passes: room for the three small requests to queue up together, even on a fast machine
            TestServers.waitFor(() -> q.passPositions() > 0, 10_000);
            List<CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
            for (String b : bodies) fs.add(async(server, b));
            for (int i = 0; i < bodies.length; i++) {
                HttpResponse<String> r = fs.get(i).get();
                assertEquals(200, r.statusCode(), r.body());
                JsonNode got = TestServers.json(r), want = alone.get(i);
                for (int t = 0; t < 2; t++) {
                    for (int k = 0; k < 3; k++) {
                        assertEquals(want.get(t).get(k).get("label").asText(), got.get(t).get(k).get("label").asText());
                        assertEquals(want.get(t).get(k).get("score").asDouble(), got.get(t).get(k).get("score").asDouble(), 1e-5);
                    }
                }
            }
            assertEquals(200, slow.get().statusCode());
            System.out.printf("classification passes %d, texts %d, most texts in one pass %d%n", q.passes.get(), q.texts.get(), q.maxTexts.get());
            assertTrue(q.maxTexts.get() > 2, "requests shared a pass: max " + q.maxTexts.get());

            String m = TestServers.get(server, "/metrics").body();
            assertTrue(m.contains("gpt2j_http_requests_seconds_count{method=\"POST\",route=\"/score\",status=\"200\"} 7"), m);
            assertTrue(m.contains("gpt2j_batch_passes_total{kind=\"classify\"} " + q.passes.get() + ".0"), m);
            assertTrue(m.contains("gpt2j_batch_rows_total{kind=\"classify\"} 20.0"), m);
            assertTrue(m.contains("gpt2j_batch_rows_total{kind=\"decode\"} 0.0"), m);
            assertTrue(m.contains("gpt2j_sequences_active 0.0"), m);
        } finally {
            access.detachAppender(log);
        }
        JsonNode line = null;
        for (ILoggingEvent e : log.list) {
            JsonNode j = Bodies.JSON.readTree(e.getFormattedMessage());
            if (j.get("route").asText().equals("/score") && j.path("texts").asInt() == 8) line = j;
        }
        assertTrue(line != null, "an access line for the 8-text request");
        assertEquals(200, line.get("status").asInt());
        assertEquals(8000, line.get("prompt_tokens").asInt());
        assertTrue(line.get("ms").asDouble() > 0 && line.has("request_id"), line.toString());
    }

    private static CompletableFuture<HttpResponse<String>> async(GptServer server, String body) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return TestServers.post(server, "/score", body);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, CLIENTS);
    }
}
