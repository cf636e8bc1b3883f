package io.gpt2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Continuous batching: concurrent greedy requests equal the same requests alone; disconnects free slots at once. */
class BatchingTest {
    static GptServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServers.start(TestServers.medium(), TestServers.settings().withLimits(60_000, 16, 1 << 20, 65536));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String request(int i) {
        String[] prompts = {"The quick brown fox", "Once upon a time,", "Hello", "In the beginning God created the heaven and the earth.",
                "A", "My name is John and I am", "It was a dark and stormy night; the rain fell in torrents", "1 2 3 4"};
        return "{\"prompt\": \"" + prompts[i % prompts.length] + "\", \"max_tokens\": " + (12 + 3 * i) + ", \"temperature\": 0}";
    }

    @Test
    void concurrentGreedyRequestsEqualTheSameRequestsAlone() throws Exception {
        int n = 8;
        List<String> alone = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = TestServers.post(server, "/v1/completions", request(i));
            assertEquals(200, r.statusCode(), r.body());
            alone.add(TestServers.json(r).get("choices").get(0).get("text").asText());
        }
        long before = server.host().scheduler().batchCalls.get();
        long rowsBefore = server.host().scheduler().batchRows.get();
        List<CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            final int k = i;
            fs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return TestServers.post(server, "/v1/completions", request(k));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = fs.get(i).get();
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(alone.get(i), TestServers.json(r).get("choices").get(0).get("text").asText(), "request " + i);
        }
        long calls = server.host().scheduler().batchCalls.get() - before;
        long rows = server.host().scheduler().batchRows.get() - rowsBefore;
        System.out.printf("concurrent: %d decode rows in %d batched calls (%.2f rows/call, max %d)%n", rows, calls,
                rows / (double) calls, server.host().scheduler().maxBatch.get());
        assertTrue(server.host().scheduler().maxBatch.get() > 1, "decode steps were batched");
        assertTrue(rows / (double) calls > 1.5, "average batch " + rows / (double) calls);
    }

    /** Prompts of 1 to ~90 tokens arriving 0-150 ms apart: prefills land between other requests' decode steps. */
    @Test
    void staggeredGreedyRequestsOfMixedLengthsEqualTheSameRequestsAlone() throws Exception {
        String longPrompt = "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
                + "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the "
                + "season of Darkness, it was the spring of hope, it was the winter of despair";
        String[] prompts = {"A", longPrompt, "The quick brown fox", longPrompt.substring(0, 60), "1 2 3 4 5 6 7 8 9 10 11 12", "Hello"};
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < prompts.length; i++) {
            bodies.add("{\"prompt\": \"" + prompts[i] + "\", \"max_tokens\": " + (40 - 5 * i) + ", \"temperature\": 0}");
        }
        List<String> alone = new ArrayList<>();
        for (String b : bodies) alone.add(TestServers.json(TestServers.post(server, "/v1/completions", b)).get("choices").get(0).get("text").asText());
        Scheduler sch = server.host().scheduler();
        long calls0 = sch.batchCalls.get(), rows0 = sch.batchRows.get();
        List<CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
        for (int i = 0; i < bodies.size(); i++) {
            final String b = bodies.get(i);
            fs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return TestServers.post(server, "/v1/completions", b);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
            Thread.sleep(30);
        }
        for (int i = 0; i < bodies.size(); i++) {
            HttpResponse<String> r = fs.get(i).get();
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(alone.get(i), TestServers.json(r).get("choices").get(0).get("text").asText(), "request " + i);
        }
        double perCall = (sch.batchRows.get() - rows0) / (double) (sch.batchCalls.get() - calls0);
        System.out.printf("staggered: %.2f rows per decode call%n", perCall);
        assertTrue(perCall > 1.2, "the requests overlapped: " + perCall + " rows per decode call");
    }

    @Test
    void concurrentSampledAndBeamRequestsEqualTheSameRequestsAlone() throws Exception {
        List<String[]> reqs = List.of(
                new String[]{"/v1/completions", "{\"prompt\": \"Once upon a time,\", \"max_tokens\": 20, \"temperature\": 0.9, \"seed\": 11, \"n\": 2}"},
                new String[]{"/v1/completions", "{\"prompt\": \"Hello\", \"max_tokens\": 25, \"temperature\": 1.2, \"top_p\": 0.9, \"seed\": 5}"},
                new String[]{"/score", "{\"inputs\": [\"My name is John and I am\", \"The sea\"], \"parameters\": {\"max_new_tokens\": 15, \"num_beams\": 3, \"num_return_sequences\": 2}}"},
                new String[]{"/score", "{\"inputs\": [\"Rain\"], \"parameters\": {\"max_new_tokens\": 18, \"do_sample\": true, \"seed\": 3, \"num_return_sequences\": 3}}"});
        List<String> alone = new ArrayList<>();
        for (String[] q : reqs) alone.add(withoutIds(TestServers.post(server, q[0], q[1]).body()));
        for (int round = 0; round < 2; round++) {
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
                assertEquals(alone.get(i), withoutIds(r.body()), "request " + i);
            }
        }
    }

    /** The benchmark command's measurement, small: every number is filled in and consistent. */
    @Test
    void serverBenchReportsThroughputAndWhereTheTimeWent() throws Exception {
        List<ServerBench.Result> rs = ServerBench.run(server, new int[]{1, 3}, 1, 6, "The history of the city");
        assertEquals(2, rs.size());
        for (ServerBench.Result r : rs) {
            assertEquals(r.clients(), r.requests());
            assertTrue(r.completionTokens() > 0 && r.completionTokens() <= 6L * r.requests(), r.toString());
            assertTrue(r.tokensPerSecond() > 0 && r.decodeSeconds() > 0 && r.prefillSeconds() > 0, r.toString());
            assertTrue(r.decodeSeconds() + r.prefillSeconds() <= r.seconds() * 1.05, r.toString());
            assertTrue(r.rowsPerDecodeCall() >= 1 && r.promptsPerPrefill() >= 1 && r.coreTokensPerSecond() > 0, r.toString());
            assertEquals(11, r.toMap().size(), "every field in the JSON line");
        }
    }

    /** The response without the parts that differ between calls (completion id, timestamp). */
    private static String withoutIds(String body) throws Exception {
        com.fasterxml.jackson.databind.JsonNode j = Bodies.JSON.readTree(body);
        if (j.isObject()) {
            ((com.fasterxml.jackson.databind.node.ObjectNode) j).remove(List.of("id", "created"));
        }
        return j.toString();
    }

    /**
     * A non-streaming request writes nothing until it is done, so only the server's probe of the connection can notice
     * the client leaving: the slot, the cache budget and the sequences must be free within 1 s (measured: tens of ms;
     * the probe runs every 10 ms and a waiting request checks every 20 ms), long before the 900 tokens would be.
     */
    @Test
    void aNonStreamingClientThatDisconnectsFreesItsSlotAtOnce() throws Exception {
        String[][] reqs = {
                {"/v1/completions", "{\"prompt\": \"Hello there\", \"max_tokens\": 900, \"temperature\": 0}"},
                {"/score", "{\"inputs\": [\"Hello\", \"there\"], \"parameters\": {\"max_new_tokens\": 900, \"min_new_tokens\": 900}}"}};
        Scheduler sch = server.host().scheduler();
        for (String[] q : reqs) {
            long ms;
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                byte[] b = q[1].getBytes(StandardCharsets.UTF_8);
                s.getOutputStream().write(("POST " + q[0] + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                        + b.length + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
                s.getOutputStream().write(b);
                s.getOutputStream().flush();
                long calls = sch.batchCalls.get(), end = System.nanoTime() + 10_000_000_000L;
                while ((sch.activeSequences() == 0 || sch.batchCalls.get() < calls + 3) && System.nanoTime() < end) Thread.sleep(2);
                assertTrue(sch.activeSequences() > 0 && sch.usedTokens() > 0, q[0] + ": generating when the client leaves");
                assertEquals(1, server.admission().running());
            }
            long t0 = System.nanoTime();
            while ((sch.activeSequences() > 0 || sch.usedTokens() > 0 || server.admission().running() > 0)
                    && System.nanoTime() - t0 < 10_000_000_000L) {
                Thread.sleep(2);
            }
            ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println(q[0] + ": slot freed " + ms + " ms after the client closed its connection");
            assertEquals(0, sch.activeSequences(), q[0]);
            assertEquals(0, sch.usedTokens(), q[0]);
            assertEquals(0, server.admission().running(), q[0]);
            assertTrue(ms < 1000, q[0] + ": " + ms + " ms");
            String metrics = TestServers.get(server, "/metrics").body();
            assertTrue(metrics.contains("gpt2j_sequences_active 0.0") && metrics.contains("gpt2j_kv_tokens 0.0"), metrics);
            HttpResponse<String> next = TestServers.post(server, "/v1/completions", request(1));
            assertEquals(200, next.statusCode(), next.body());
        }
    }

    @Test
    void aClientThatDisconnectsMidStreamFreesItsSlotAtOnce() throws Exception {
        String body = "{\"prompt\": \"Hello there\", \"max_tokens\": 900, \"temperature\": 0, \"stream\": true}";
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            OutputStream out = s.getOutputStream();
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + b.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.write(b);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            int events = 0;
            for (String line; (line = in.readLine()) != null && events < 3; ) if (line.startsWith("data: ")) events++;
            assertEquals(3, events);
            assertEquals(1, server.admission().running());
        }
        long t0 = System.nanoTime();
        while ((server.admission().running() > 0 || server.host().scheduler().usedTokens() > 0) && System.nanoTime() - t0 < 5_000_000_000L) {
            Thread.sleep(5);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("slot freed " + ms + " ms after the disconnect");
        assertEquals(0, server.admission().running());
        assertEquals(0, server.host().scheduler().usedTokens());
        assertTrue(ms < 2000, ms + " ms");
    }
}
