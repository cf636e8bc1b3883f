package io.gpt2j.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.gpt2j.core.io.DType;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.HfHeads;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.load.RandomCheckpoint;
import io.gpt2j.core.model.ClassificationHead;
import io.gpt2j.core.model.Gpt2Config;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Test helpers: real servers on loopback (port 0) and a plain HTTP client. */
final class TestServers {
    static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static Path medium, mediumClassifier;

    private TestServers() {
    }

    static Path testdata() {
        return Path.of(System.getProperty("gpt2j.testdata", "testdata"));
    }

    static Path tiny() {
        return testdata().resolve("golden/checkpoints/tiny-gpt2");
    }

    /** A random 4-layer, 256-wide model with GPT-2's vocabulary and 1024 positions: slow enough to time out. */
    static synchronized Path medium() throws IOException {
        if (medium == null) {
            Path dir = Files.createTempDirectory("gpt2j-server-medium");
            RandomCheckpoint.write(dir, Gpt2Config.of(50257, 1024, 256, 4, 4), DType.F32, 7, tiny());
            medium = dir;
        }
        return medium;
    }

    /** {@link #medium()} with a random 3-label sequence-classification head: slow enough to time out. */
    static synchronized Path mediumClassifier() throws IOException {
        if (mediumClassifier == null) {
            Path dir = Files.createTempDirectory("gpt2j-server-medium-seqcls");
            try (LoadedCheckpoint ck = HfCheckpoint.load(medium())) {
                float[] w = new float[3 * ck.config().nEmbd()];
                java.util.Random r = new java.util.Random(11);
                for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.2f;
                HfHeads.write(ck, new ClassificationHead(ClassificationHead.Kind.SEQUENCE_CLASSIFICATION,
                        ClassificationHead.Problem.SINGLE_LABEL, w, null, List.of("neg", "neu", "pos"), -1), dir);
            }
            mediumClassifier = dir;
        }
        return mediumClassifier;
    }

    static ServerSettings settings() {
        return ServerSettings.defaults().withPort(0);
    }

    static GptServer start(Path model, ServerSettings s) throws InterruptedException {
        GptServer server = GptServer.start(s, () -> ModelHost.load(model, s));
        server.awaitLoaded(60_000);
        return server;
    }

    static HttpResponse<String> post(GptServer s, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> postBytes(GptServer s, String path, byte[] body) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", "application/json").build();
        return CLIENT.send(r, HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(GptServer s, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .timeout(Duration.ofSeconds(60)).GET();
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Raw HTTP/1.1 POST of a body on a fresh socket (the caller closes it to hang up). */
    static java.net.Socket rawPost(GptServer server, String path, String body) throws Exception {
        java.net.Socket s = new java.net.Socket("127.0.0.1", server.port());
        byte[] b = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        s.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                + b.length + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        s.getOutputStream().write(b);
        s.getOutputStream().flush();
        return s;
    }

    static void waitFor(java.util.function.BooleanSupplier cond, long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (!cond.getAsBoolean() && System.nanoTime() < end) Thread.sleep(2);
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return Bodies.JSON.readTree(r.body());
    }
}
