package io.gpt2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.HfHeads;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.ClassificationHead;
import io.gpt2j.core.model.ClassificationHead.Kind;
import io.gpt2j.core.model.ClassificationHead.Problem;
import io.gpt2j.core.model.Classifier;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.Predictions;
import io.gpt2j.core.model.Tagging;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * POST /score over real HTTP for checkpoints with classification heads (tiny-gpt2-v1000 with transformers' initial
 * seqcls / tokcls heads from the golden set); expected values come from core's Predictions on the same texts.
 */
class ClassificationTest {
    static final List<String> TEXTS = List.of("i feel so happy today", "Anna Lindqvist visited Oslo, Norway.");
    static final List<String> EMOTIONS = List.of("sadness", "joy", "love", "anger", "fear", "surprise");
    static final List<String> NER = List.of("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC");

    @TempDir
    static Path tmp;
    static GptServer seq, tok;
    static Path seqDir, tokDir;

    @BeforeAll
    static void start() throws Exception {
        Path base = TestServers.testdata().resolve("golden/checkpoints/tiny-gpt2-v1000");
        try (SafeTensors s = SafeTensors.open(TestServers.testdata().resolve("golden/tiny-gpt2-v1000/train_seqcls.safetensors"));
             SafeTensors t = SafeTensors.open(TestServers.testdata().resolve("golden/tiny-gpt2-v1000/train_tokcls.safetensors"));
             LoadedCheckpoint ck = HfCheckpoint.load(base)) {
            seqDir = tmp.resolve("seq");
            tokDir = tmp.resolve("tok");
            HfHeads.write(ck, new ClassificationHead(Kind.SEQUENCE_CLASSIFICATION, Problem.SINGLE_LABEL,
                    s.get("init.score.weight").toFloatArray(), null, EMOTIONS, 999), seqDir);
            HfHeads.write(ck, new ClassificationHead(Kind.TOKEN_CLASSIFICATION, Problem.SINGLE_LABEL,
                    t.get("init.classifier.weight").toFloatArray(), t.get("init.classifier.bias").toFloatArray(), NER, -1), tokDir);
        }
        seq = TestServers.start(seqDir, TestServers.settings());
        tok = TestServers.start(tokDir, TestServers.settings());
    }

    @AfterAll
    static void stop() {
        seq.close();
        tok.close();
    }

    static Classifier local(Path dir, LoadedCheckpoint ck, Parallel pool) {
        return new Classifier(new Gpt2(ck.config(), ck.weights(), pool), HfHeads.read(ck));
    }

    @Test
    void sequenceClassificationGivesLabelScoreListsInEveryRequestForm() throws Exception {
        List<Predictions.Prediction> want;
        try (LoadedCheckpoint ck = HfCheckpoint.load(seqDir); Parallel pool = new Parallel(1)) {
            want = Predictions.classify(local(seqDir, ck, pool), TEXTS, Gpt2Tokenizer.fromDirectory(seqDir)::encode);
        }
        String[] bodies = {
                "{\"inputs\": {\"input_string\": [\"" + TEXTS.get(0) + "\", \"" + TEXTS.get(1) + "\"]}}",
                "{\"inputs\": [\"" + TEXTS.get(0) + "\", \"" + TEXTS.get(1) + "\"], \"parameters\": {}}",
                "{\"input_data\": [\"" + TEXTS.get(0) + "\", \"" + TEXTS.get(1) + "\"]}",
                "{\"input_data\": {\"input_string\": [\"" + TEXTS.get(0) + "\", \"" + TEXTS.get(1) + "\"]}}"};
        for (String body : bodies) {
            HttpResponse<String> r = TestServers.post(seq, "/score", body);
            assertEquals(200, r.statusCode(), r.body());
            JsonNode out = TestServers.json(r);
            assertEquals(2, out.size(), body);
            for (int i = 0; i < 2; i++) {
                JsonNode list = out.get(i);
                assertEquals(6, list.size());
                assertEquals(want.get(i).label(), list.get(0).get("label").asText(), "best first");
                double prev = 2, sum = 0;
                for (JsonNode e : list) {
                    double sc = e.get("score").asDouble();
                    assertTrue(sc <= prev);
                    prev = sc;
                    sum += sc;
                    assertEquals(want.get(i).scores()[EMOTIONS.indexOf(e.get("label").asText())], sc, 1e-6);
                }
                assertEquals(1.0, sum, 1e-5);
            }
        }
        HttpResponse<String> top = TestServers.post(seq, "/score", "{\"inputs\": [\"" + TEXTS.get(0) + "\"], \"parameters\": {\"top_k\": 2}}");
        assertEquals(200, top.statusCode(), top.body());
        assertEquals(2, TestServers.json(top).get(0).size());
    }

    @Test
    void tokenClassificationGivesEntitySpans() throws Exception {
        List<Predictions.Tagged> want;
        try (LoadedCheckpoint ck = HfCheckpoint.load(tokDir); Parallel pool = new Parallel(1)) {
            want = Predictions.tag(local(tokDir, ck, pool), TEXTS, Gpt2Tokenizer.fromDirectory(tokDir)::encode);
        }
        HttpResponse<String> r = TestServers.post(tok, "/score", "{\"input_data\": [\"" + TEXTS.get(0) + "\", \"" + TEXTS.get(1) + "\"]}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode out = TestServers.json(r);
        for (int i = 0; i < 2; i++) {
            List<Tagging.Entity> ents = want.get(i).entities();
            assertEquals(ents.size(), out.get(i).size(), r.body());
            for (int j = 0; j < ents.size(); j++) {
                JsonNode e = out.get(i).get(j);
                assertEquals(ents.get(j).type(), e.get("entity_group").asText());
                assertEquals(TEXTS.get(i).substring(e.get("start").asInt(), e.get("end").asInt()), e.get("word").asText());
                assertEquals(ents.get(j).score(), e.get("score").asDouble(), 1e-6);
            }
        }
        assertTrue(out.get(1).size() > 0, "the golden head tags something in the second text: " + r.body());
    }

    @Test
    void generationRoutesAndParametersAreRefusedClearly() throws Exception {
        HttpResponse<String> r = TestServers.post(seq, "/v1/completions", "{\"prompt\": \"Hello\", \"max_tokens\": 5}");
        assertEquals(400, r.statusCode(), r.body());
        JsonNode err = TestServers.json(r).get("error");
        assertEquals("not_a_generation_model", err.get("code").asText());
        assertTrue(err.get("message").asText().contains("GPT2ForSequenceClassification"), r.body());
        HttpResponse<String> p = TestServers.post(seq, "/score", "{\"inputs\": [\"x\"], \"parameters\": {\"max_new_tokens\": 5}}");
        assertEquals(400, p.statusCode());
        assertTrue(p.body().contains("max_new_tokens") && p.body().contains("top_k"), p.body());
        HttpResponse<String> k = TestServers.post(seq, "/score", "{\"inputs\": [\"x\"], \"parameters\": {\"top_k\": 0}}");
        assertEquals(400, k.statusCode());
        assertTrue(k.body().contains("top_k"), k.body());
        HttpResponse<String> t = TestServers.post(tok, "/score", "{\"inputs\": [\"x\"], \"parameters\": {\"top_k\": 1}}");
        assertEquals(400, t.statusCode());
        assertTrue(t.body().contains("GPT2ForTokenClassification"), t.body());
    }

    /** A text longer than --max-batch-tokens cannot fit any pass: 400 that names it, and the server keeps serving. */
    @Test
    void aTextOverTheBatchBudgetIsRefused() throws Exception {
        try (GptServer small = TestServers.start(seqDir, TestServers.settings().withLimits(5000, 4, 1 << 20, 8))) {
            HttpResponse<String> r = TestServers.post(small, "/score", "{\"inputs\": [\"hi\", \"" + TEXTS.get(1) + "\"]}");
            assertEquals(400, r.statusCode(), r.body());
            JsonNode err = TestServers.json(r).get("error");
            assertEquals("kv_budget_exceeded", err.get("code").asText());
            assertTrue(err.get("message").asText().contains("input 1 has") && err.get("message").asText().contains("8"), r.body());
            assertEquals(0, small.admission().running());
            assertEquals(200, TestServers.post(small, "/score", "{\"inputs\": [\"hi\"]}").statusCode());
        }
    }

    @Test
    void swaggerDocumentsTheClassificationResponses() throws Exception {
        HttpResponse<String> r = TestServers.CLIENT.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + seq.port() + "/swagger.json")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        JsonNode ok = Bodies.JSON.readTree(r.body()).get("paths").get("/score").get("post").get("responses").get("200");
        assertTrue(ok.toString().contains("entity_group") && ok.toString().contains("label"), ok.toString());
        JsonNode comp = Bodies.JSON.readTree(r.body()).get("paths").get("/v1/completions").get("post").get("responses").get("400");
        assertTrue(comp.get("description").asText().contains("classification"), comp.toString());
    }
}
