package io.gpt2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK, offline, pointed at the local server (with an API key). */
class OpenAiSdkTest {
    static GptServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        server = TestServers.start(TestServers.tiny(), TestServers.settings().withApiKey("sk-local"));
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("sk-local")
                .maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    private static CompletionCreateParams params() {
        return CompletionCreateParams.builder().model("tiny-gpt2").prompt("Once upon a time,").maxTokens(10)
                .temperature(0.0).build();
    }

    @Test
    void completion() {
        Completion c = client.completions().create(params());
        assertEquals(OpenAiTest.GREEDY_10, c.choices().get(0).text());
        assertEquals(15, c.usage().orElseThrow().totalTokens());
        assertEquals("length", c.choices().get(0).finishReason().asString());
    }

    @Test
    void streamedCompletion() {
        StringBuilder text = new StringBuilder();
        int[] chunks = {0};
        try (StreamResponse<Completion> s = client.completions().createStreaming(params())) {
            s.stream().forEach(c -> {
                chunks[0]++;
                text.append(c.choices().get(0).text());
            });
        }
        assertEquals(OpenAiTest.GREEDY_10, text.toString());
        assertTrue(chunks[0] > 3, "chunks: " + chunks[0]);
    }

    @Test
    void models() {
        assertEquals("tiny-gpt2", client.models().list().data().get(0).id());
    }
}
