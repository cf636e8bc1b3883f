package io.gpt2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** POST /score over real HTTP against the outputs of transformers' text-generation pipeline. */
class ScoreTest {
    static GptServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServers.start(TestServers.tiny(), TestServers.settings());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void reproducesThePipelineGoldenOutputsUnbatched() throws Exception {
        int checked = 0;
        for (String line : Files.readAllLines(TestServers.testdata().resolve("golden/tiny-gpt2/pipeline.jsonl"))) {
            JsonNode c = Bodies.JSON.readTree(line);
            if (!c.get("call").asText().equals("pipe(inputs, **parameters)")) continue; // batch_size cases differ by design
            ObjectNode req = Bodies.JSON.createObjectNode();
            req.putObject("inputs").set("input_string", c.get("request").get("inputs"));
            req.set("parameters", c.get("request").get("parameters"));
            HttpResponse<String> r = TestServers.post(server, "/score", req.toString());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(c.get("output"), TestServers.json(r), "case " + c.get("case").asText());
            checked++;
        }
        assertTrue(checked >= 4, "golden cases checked: " + checked);
    }

    @Test
    void theAzureRequestGivesOneListPerInput() throws Exception {
        HttpResponse<String> r = TestServers.post(server, "/score", """
                {"inputs": {"input_string": ["My name is John and I am", "Once upon a time,"]},
                 "parameters": {"min_length": 20, "max_length": 30, "num_return_sequences": 2, "do_sample": true, "seed": 3}}""");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode out = TestServers.json(r);
        assertEquals(2, out.size());
        for (int p = 0; p < 2; p++) {
            assertEquals(2, out.get(p).size());
            String prompt = p == 0 ? "My name is John and I am" : "Once upon a time,";
            for (JsonNode g : out.get(p)) assertTrue(g.get("generated_text").asText().startsWith(prompt), g.toString());
        }
    }

    @Test
    void inputDataWithParamsGivesAListOfStrings() throws Exception {
        HttpResponse<String> r = TestServers.post(server, "/score", """
                {"input_data": ["My name is John and I am", "Once upon a time,"], "params": {"max_new_tokens": 10, "return_full_text": false}}""");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode out = TestServers.json(r);
        assertEquals(List.of(" suggest forehead Paradise renders perpetualumbai Husrano nightclub Sak",
                " Passengercscscscs impecc Passengercscsascist"), List.of(out.get(0).asText(), out.get(1).asText()));
    }

    @Test
    void inputDataObjectAndASingleStringAreAccepted() throws Exception {
        HttpResponse<String> r = TestServers.post(server, "/score", """
                {"input_data": {"input_string": "Once upon a time,", "parameters": {"max_new_tokens": 10, "return_full_text": false}}}""");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(" Passengercscscscs impecc Passengercscsascist", TestServers.json(r).get(0).get(0).get("generated_text").asText());
    }

    @Test
    void unknownOrMistypedParametersAreRefusedByName() throws Exception {
        HttpResponse<String> r = TestServers.post(server, "/score", """
                {"inputs": ["Hi"], "parameters": {"max_new_token": 5}}""");
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("max_new_token"), r.body());
        assertTrue(r.body().contains("max_new_tokens"), "suggestion: " + r.body());
        r = TestServers.post(server, "/score", """
                {"inputs": ["Hi"], "parameters": {"temperature": "hot"}}""");
        assertEquals(400, r.statusCode());
        assertEquals("temperature", TestServers.json(r).get("error").get("param").asText(), r.body());
        r = TestServers.post(server, "/score", """
                {"inputs": ["Hi"], "parameters": {"return_full_text": "yes"}}""");
        assertEquals(400, r.statusCode());
        assertTrue(r.body().contains("return_full_text"), r.body());
    }
}
