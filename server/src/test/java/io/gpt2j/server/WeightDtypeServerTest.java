package io.gpt2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.model.KvDtype;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** serve --dtype q8_0: the matmul weights are converted at load and the server answers from them. */
class WeightDtypeServerTest {
    @Test
    void aServerOnQ8WeightsConvertsAtLoadAndAnswers() throws Exception {
        ServerSettings s = TestServers.settings();
        java.nio.file.Path model = TestServers.tiny();
        GptServer server = GptServer.start(s, () -> ModelHost.load(model, s, KvDtype.F32, DType.Q8_0));
        try {
            server.awaitLoaded(60_000);
            var w = server.host().model().weights();
            assertEquals(DType.Q8_0, w.wte().dtype(), "wte converted at load");
            assertTrue(w.h().get(0).cFcWeight().dtype().isQ8(), "Conv1D weights converted at load: " + w.h().get(0).cFcWeight().dtype());
            HttpResponse<String> r = TestServers.post(server, "/v1/completions", "{\"prompt\": \"Hello\", \"max_tokens\": 6, \"temperature\": 0}");
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("\"text\""), r.body());
        } finally {
            server.close();
        }
    }
}
