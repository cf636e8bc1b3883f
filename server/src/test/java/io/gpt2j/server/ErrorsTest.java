package io.gpt2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every 4xx has a JSON body {"error": {"code", "message"}}, and the server keeps serving afterwards. */
class ErrorsTest {
    static GptServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServers.start(TestServers.tiny(), TestServers.settings().withLimits(5000, 4, 4096, 65536));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @AfterEach
    void stillServing() throws Exception {
        HttpResponse<String> r = TestServers.post(server, "/score", "{\"inputs\": [\"Hello\"], \"parameters\": {\"max_new_tokens\": 2}}");
        assertEquals(200, r.statusCode(), r.body());
    }

    private static JsonNode error(HttpResponse<String> r, int status, String code) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"), r.headers().toString());
        JsonNode e = TestServers.json(r).get("error");
        assertEquals(code, e.get("code").asText(), r.body());
        assertTrue(e.get("message").asText().length() > 5, r.body());
        System.out.println(status + " " + r.body());
        return e;
    }

    @Test
    void malformedJson() throws Exception {
        error(TestServers.post(server, "/score", "{\"inputs\": [\"a\""), 400, "invalid_json");
        error(TestServers.post(server, "/score", "[1, 2]"), 400, "invalid_request");
    }

    @Test
    void wrongTypes() throws Exception {
        error(TestServers.post(server, "/score", "{\"inputs\": [1, 2]}"), 400, "invalid_type");
        error(TestServers.post(server, "/score", "{\"inputs\": [\"a\"], \"parameters\": [1]}"), 400, "invalid_type");
        error(TestServers.post(server, "/score", "{\"inputs\": [\"a\"], \"parameters\": {\"max_new_tokens\": \"5\"}}"), 400, "invalid_parameter");
    }

    @Test
    void emptyPromptListAndEmptyString() throws Exception {
        error(TestServers.post(server, "/score", "{\"inputs\": []}"), 400, "empty_input");
        error(TestServers.post(server, "/score", "{\"inputs\": [\"ok\", \"\"]}"), 400, "empty_prompt");
        error(TestServers.post(server, "/v1/completions", "{\"prompt\": \"\"}"), 400, "empty_prompt");
    }

    @Test
    void promptOverTheContextWindow() throws Exception {
        String longPrompt = "word ".repeat(200); // 200 tokens, the tiny model has 128 positions
        JsonNode e = error(TestServers.post(server, "/score", "{\"inputs\": [\"" + longPrompt + "\"], \"parameters\": {\"max_new_tokens\": 5}}"),
                400, "invalid_parameter");
        assertTrue(e.get("message").asText().contains("context"), e.toString());
    }

    @Test
    void streamedRequestsThatFailBeforeTheFirstEventGetAJsonError() throws Exception {
        String longPrompt = "word ".repeat(120);
        error(TestServers.post(server, "/v1/completions", "{\"prompt\": \"" + longPrompt + "\", \"max_tokens\": 20, \"stream\": true}"),
                400, "invalid_parameter");
    }

    @Test
    void absurdMaxNewTokens() throws Exception {
        error(TestServers.post(server, "/score", "{\"inputs\": [\"a\"], \"parameters\": {\"max_new_tokens\": 1000000000}}"), 400, "invalid_parameter");
        error(TestServers.post(server, "/score", "{\"inputs\": [\"a\"], \"parameters\": {\"max_new_tokens\": 99999999999999}}"), 400, "invalid_parameter");
        error(TestServers.post(server, "/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 1000000}"), 400, "invalid_parameter");
    }

    @Test
    void numReturnSequencesZeroOrTenThousand() throws Exception {
        error(TestServers.post(server, "/score", "{\"inputs\": [\"a\"], \"parameters\": {\"num_return_sequences\": 0, \"do_sample\": true}}"), 400, "invalid_parameter");
        JsonNode e = error(TestServers.post(server, "/score", "{\"inputs\": [\"a\"], \"parameters\": {\"num_return_sequences\": 10000, \"do_sample\": true}}"), 400, "invalid_parameter");
        assertEquals("num_return_sequences", e.get("param").asText());
        error(TestServers.post(server, "/v1/completions", "{\"prompt\": \"a\", \"n\": 10000}"), 400, "invalid_parameter");
    }

    @Test
    void bodyOverTheSizeLimit() throws Exception {
        String big = "{\"inputs\": [\"" + "x".repeat(5000) + "\"]}";
        error(TestServers.post(server, "/score", big), 413, "body_too_large");
    }

    @Test
    void invalidUtf8() throws Exception {
        byte[] head = "{\"inputs\": [\"ab".getBytes(StandardCharsets.UTF_8);
        byte[] tail = "\"]}".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[head.length + 2 + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        body[head.length] = (byte) 0xC3; // lead byte followed by a non-continuation byte
        body[head.length + 1] = (byte) 0x28;
        System.arraycopy(tail, 0, body, head.length + 2, tail.length);
        error(TestServers.postBytes(server, "/score", body), 400, "invalid_utf8");
    }

    @Test
    void unknownRouteAndWrongMethod() throws Exception {
        error(TestServers.get(server, "/nope"), 404, "not_found");
        error(TestServers.post(server, "/v2/whatever", "{}"), 404, "not_found");
        error(TestServers.get(server, "/score"), 405, "method_not_allowed");
        HttpResponse<String> r = TestServers.CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/completions"))
                .DELETE().build(), HttpResponse.BodyHandlers.ofString());
        error(r, 405, "method_not_allowed");
    }

    @Test
    void unknownTopLevelField() throws Exception {
        error(TestServers.post(server, "/score", "{\"inputs\": [\"a\"], \"parametres\": {}}"), 400, "unknown_field");
        error(TestServers.post(server, "/v1/completions", "{\"prompt\": \"a\", \"max_token\": 3}"), 400, "unknown_field");
    }
}
