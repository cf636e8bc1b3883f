package io.gpt2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.InferenceState;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * POST /v1/completions (plain and streamed), /v1/models, /tokenize, /detokenize over HTTP with hand-written JSON
 * (the same requests the OpenAI SDKs send).
 */
class OpenAiTest {
    static GptServer server;
    static final String GREEDY_10 = " Passengercscscscs impecc Passengercscsascist"; // transformers, golden pipeline case max_new_tokens_10

    @BeforeAll
    static void start() throws Exception {
        server = TestServers.start(TestServers.tiny(), TestServers.settings());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static JsonNode ok(String body) throws Exception {
        HttpResponse<String> r = TestServers.post(server, "/v1/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        return TestServers.json(r);
    }

    @Test
    void greedyCompletionWithUsage() throws Exception {
        JsonNode r = ok("{\"model\": \"tiny-gpt2\", \"prompt\": \"Once upon a time,\", \"max_tokens\": 10, \"temperature\": 0, \"user\": \"u1\"}");
        assertEquals("text_completion", r.get("object").asText());
        assertTrue(r.get("id").asText().startsWith("cmpl-"));
        assertEquals("tiny-gpt2", r.get("model").asText());
        JsonNode c = r.get("choices").get(0);
        assertEquals(GREEDY_10, c.get("text").asText());
        assertEquals("length", c.get("finish_reason").asText());
        assertEquals(0, c.get("index").asInt());
        assertEquals(5, r.get("usage").get("prompt_tokens").asInt());
        assertEquals(10, r.get("usage").get("completion_tokens").asInt());
        assertEquals(15, r.get("usage").get("total_tokens").asInt());
    }

    @Test
    void promptAsStringsTokenIdsAndTokenIdLists() throws Exception {
        JsonNode r = ok("{\"prompt\": [\"My name is John and I am\", \"Once upon a time,\"], \"max_tokens\": 10, \"temperature\": 0}");
        assertEquals(" suggest forehead Paradise renders perpetualumbai Husrano nightclub Sak", r.get("choices").get(0).get("text").asText());
        assertEquals(GREEDY_10, r.get("choices").get(1).get("text").asText());
        assertEquals(1, r.get("choices").get(1).get("index").asInt());
        r = ok("{\"prompt\": [7454, 2402, 257, 640, 11], \"max_tokens\": 10, \"temperature\": 0}");
        assertEquals(GREEDY_10, r.get("choices").get(0).get("text").asText());
        r = ok("{\"prompt\": [[7454, 2402, 257, 640, 11], [7454, 2402]], \"max_tokens\": 10, \"temperature\": 0, \"echo\": true}");
        assertEquals("Once upon a time," + GREEDY_10, r.get("choices").get(0).get("text").asText());
        assertEquals(2, r.get("choices").size());
    }

    @Test
    void stopSeedAndN() throws Exception {
        JsonNode c = ok("{\"prompt\": \"Once upon a time,\", \"max_tokens\": 10, \"temperature\": 0, \"stop\": \" impecc\"}").get("choices").get(0);
        assertEquals(" Passengercscscscs", c.get("text").asText());
        assertEquals("stop", c.get("finish_reason").asText());
        String req = "{\"prompt\": \"Once upon a time,\", \"max_tokens\": 8, \"temperature\": 0.9, \"top_p\": 0.95, \"seed\": 42, \"n\": 3}";
        JsonNode a = ok(req), b = ok(req);
        assertEquals(3, a.get("choices").size());
        for (int i = 0; i < 3; i++) assertEquals(a.get("choices").get(i).get("text"), b.get("choices").get(i).get("text"));
        assertEquals(24, a.get("usage").get("completion_tokens").asInt());
    }

    @Test
    void echoWithZeroMaxTokensScoresThePromptLikeAFullForwardPass() throws Exception {
        int[] ids = {7454, 2402, 257, 640, 11};
        JsonNode lp = ok("{\"prompt\": [7454, 2402, 257, 640, 11], \"max_tokens\": 0, \"echo\": true, \"logprobs\": 1}")
                .get("choices").get(0).get("logprobs");
        assertEquals(5, lp.get("tokens").size());
        assertEquals("Once", lp.get("tokens").get(0).asText());
        assertTrue(lp.get("token_logprobs").get(0).isNull());
        assertTrue(lp.get("top_logprobs").get(0).isNull());
        assertEquals(List.of(0, 4, 9, 11, 16), textOffsets(lp));
        double[] expected = referenceLogprobs(ids);
        double maxErr = 0;
        for (int i = 1; i < ids.length; i++) maxErr = Math.max(maxErr, Math.abs(lp.get("token_logprobs").get(i).asDouble() - expected[i]));
        System.out.println("prompt logprobs max-abs error vs direct forward: " + maxErr);
        assertTrue(maxErr < 1e-4, "max-abs " + maxErr);
    }

    @Test
    void greedyTokensAreTheirOwnTopLogprob() throws Exception {
        JsonNode c = ok("{\"prompt\": \"Once upon a time,\", \"max_tokens\": 6, \"temperature\": 0, \"logprobs\": 2}").get("choices").get(0);
        JsonNode lp = c.get("logprobs");
        assertEquals(6, lp.get("tokens").size());
        for (int i = 0; i < 6; i++) {
            double v = lp.get("token_logprobs").get(i).asDouble();
            JsonNode top = lp.get("top_logprobs").get(i);
            assertEquals(2, top.size());
            double best = Double.NEGATIVE_INFINITY;
            for (JsonNode x : top) best = Math.max(best, x.asDouble());
            assertEquals(best, v, 1e-6, lp.toString());
        }
    }

    @Test
    void streamingSendsDeltasEndingInDone() throws Exception {
        HttpResponse<String> r = TestServers.post(server, "/v1/completions",
                "{\"prompt\": \"Once upon a time,\", \"max_tokens\": 10, \"temperature\": 0, \"stream\": true}");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> data = new ArrayList<>();
        for (String line : r.body().split("\n")) if (line.startsWith("data: ")) data.add(line.substring(6));
        assertEquals("[DONE]", data.get(data.size() - 1));
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String d : data.subList(0, data.size() - 1)) {
            JsonNode c = Bodies.JSON.readTree(d).get("choices").get(0);
            text.append(c.get("text").asText());
            if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asText();
        }
        assertTrue(data.size() > 3, "several events: " + data.size());
        assertEquals(GREEDY_10, text.toString());
        assertEquals("length", finish);
    }

    @Test
    void streamOptionsIncludeUsageAddsAUsageChunk() throws Exception {
        HttpResponse<String> r = TestServers.post(server, "/v1/completions",
                "{\"prompt\": \"Hello\", \"max_tokens\": 4, \"temperature\": 0, \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
        List<String> data = new ArrayList<>();
        for (String line : r.body().split("\n")) if (line.startsWith("data: ")) data.add(line.substring(6));
        assertEquals("[DONE]", data.get(data.size() - 1));
        JsonNode usage = Bodies.JSON.readTree(data.get(data.size() - 2));
        assertEquals(0, usage.get("choices").size());
        assertEquals(4, usage.get("usage").get("completion_tokens").asInt());
        assertEquals(5, usage.get("usage").get("total_tokens").asInt());
    }

    @Test
    void modelsTokenizeDetokenize() throws Exception {
        JsonNode m = TestServers.json(TestServers.get(server, "/v1/models"));
        assertEquals("tiny-gpt2", m.get("data").get(0).get("id").asText());
        JsonNode t = TestServers.json(TestServers.post(server, "/tokenize", "{\"text\": \"Once upon a time,\"}"));
        assertEquals("[7454,2402,257,640,11]", t.get("tokens").toString());
        JsonNode d = TestServers.json(TestServers.post(server, "/detokenize", "{\"tokens\": [7454, 2402, 257, 640, 11]}"));
        assertEquals("Once upon a time,", d.get("text").asText());
        assertEquals(400, TestServers.post(server, "/detokenize", "{\"tokens\": [-1]}").statusCode());
        HttpResponse<String> r = TestServers.post(server, "/v1/completions", "{\"model\": \"gpt-4\", \"prompt\": \"a\"}");
        assertEquals(404, r.statusCode());
        assertEquals("model_not_found", TestServers.json(r).get("error").get("code").asText());
    }

    private static List<Integer> textOffsets(JsonNode lp) {
        List<Integer> o = new ArrayList<>();
        for (JsonNode x : lp.get("text_offset")) o.add(x.asInt());
        return o;
    }

    /** log_softmax of the logits of one plain forward pass over the whole sequence, in double. */
    private static double[] referenceLogprobs(int[] ids) {
        try (LoadedCheckpoint ck = HfCheckpoint.load(TestServers.tiny()); var pool = new io.gpt2j.core.kernels.Parallel(1)) {
            Gpt2 g = new Gpt2(ck.config(), ck.weights(), pool);
            int V = ck.config().vocabSize(), T = ids.length;
            InferenceState st = g.newState(1, T);
            float[] logits = new float[T * V];
            g.forward(st, new int[][]{ids}, null, null, logits, null, true);
            double[] out = new double[T];
            for (int t = 1; t < T; t++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int v = 0; v < V; v++) max = Math.max(max, logits[(t - 1) * V + v]);
                for (int v = 0; v < V; v++) sum += Math.exp(logits[(t - 1) * V + v] - max);
                out[t] = logits[(t - 1) * V + ids[t]] - max - Math.log(sum);
            }
            return out;
        }
    }
}
