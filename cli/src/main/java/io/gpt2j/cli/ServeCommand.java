package io.gpt2j.cli;

import io.gpt2j.server.GptServer;
import io.gpt2j.server.ModelHost;
import io.gpt2j.core.model.KvDtype;
import io.gpt2j.server.ServerSettings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpt2j serve}: the HTTP inference server (Azure ML /score, OpenAI /v1/completions). Every flag defaults to a
 * GPT2J_* environment variable. Wiring only: SIGTERM/SIGINT drain in-flight requests, then exit.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Serve a GPT-2 checkpoint over HTTP (Azure ML scoring contract and OpenAI-compatible completions).")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, defaultValue = "${env:GPT2J_MODEL}", description = "Hugging Face GPT-2 directory (GPT2J_MODEL)")
    Path model;
    @Option(names = "--host", defaultValue = "${env:GPT2J_HOST:-127.0.0.1}", description = "bind address (GPT2J_HOST)")
    String host;
    @Option(names = "--port", defaultValue = "${env:GPT2J_PORT:-8080}", description = "port, 0 = any (GPT2J_PORT)")
    int port;
    @Option(names = "--api-key", defaultValue = "${env:GPT2J_API_KEY}", description = "require 'Authorization: Bearer <key>' (GPT2J_API_KEY)")
    String apiKey;
    @Option(names = "--model-name", defaultValue = "${env:GPT2J_MODEL_NAME}", description = "model id in responses (default: directory name; GPT2J_MODEL_NAME)")
    String modelName;
    @Option(names = "--request-timeout-ms", defaultValue = "${env:GPT2J_REQUEST_TIMEOUT_MS:-5000}", description = "per request, queueing included; 408 after (GPT2J_REQUEST_TIMEOUT_MS)")
    long timeoutMs;
    @Option(names = "--max-concurrent-requests", defaultValue = "${env:GPT2J_MAX_CONCURRENT_REQUESTS:-4}", description = "generating at once; 2x may queue, then 429 (GPT2J_MAX_CONCURRENT_REQUESTS)")
    int maxConcurrent;
    @Option(names = "--max-body-bytes", defaultValue = "${env:GPT2J_MAX_BODY_BYTES:-1048576}", description = "larger bodies get 413 (GPT2J_MAX_BODY_BYTES)")
    long maxBody;
    @Option(names = "--max-batch-tokens", defaultValue = "${env:GPT2J_MAX_BATCH_TOKENS:-65536}", description = "KV-cache budget in positions over all live sequences (GPT2J_MAX_BATCH_TOKENS)")
    int maxBatchTokens;
    @Option(names = "--max-return-sequences", defaultValue = "${env:GPT2J_MAX_RETURN_SEQUENCES:-16}", description = "limit of num_return_sequences / n / num_beams (GPT2J_MAX_RETURN_SEQUENCES)")
    int maxReturn;
    @Option(names = "--max-prompts", defaultValue = "${env:GPT2J_MAX_PROMPTS:-32}", description = "prompts per request (GPT2J_MAX_PROMPTS)")
    int maxPrompts;
    @Option(names = "--batch-window-us", defaultValue = "${env:GPT2J_BATCH_WINDOW_US:-2000}", description = "longest wait for the other active sequences before a decode step (GPT2J_BATCH_WINDOW_US)")
    long windowUs;
    @Option(names = "--shutdown-grace-ms", defaultValue = "${env:GPT2J_SHUTDOWN_GRACE_MS:-10000}", description = "on SIGTERM, time in-flight requests get to finish (GPT2J_SHUTDOWN_GRACE_MS)")
    long graceMs;
    @Option(names = "--threads", defaultValue = "${env:GPT2J_THREADS:-0}", description = "kernel worker threads, 0 = all processors (GPT2J_THREADS)")
    int threads;
    @Option(names = "--kv-dtype", defaultValue = "${env:GPT2J_KV_DTYPE:-f32}", description = "KV-cache storage, f32 or f16: f16 halves the cache memory per position (GPT2J_KV_DTYPE)")
    String kvDtype;
    @Option(names = "--dtype", defaultValue = "${env:GPT2J_DTYPE}", description = "convert the matmul weights to f32, f16, bf16 or q8_0 at load (default: as stored; GPT2J_DTYPE)")
    String dtype;

    ServerSettings settings() {
        return new ServerSettings(host, port, apiKey, modelName, timeoutMs, maxConcurrent, maxBody, maxBatchTokens,
                maxReturn, maxPrompts, windowUs, graceMs, threads);
    }

    @Override
    public Integer call() throws InterruptedException {
        ServerSettings s = settings();
        KvDtype kv = KvDtype.parse(kvDtype, "--kv-dtype"); // before listening: a bad value is a startup error
        io.gpt2j.core.io.DType dt = io.gpt2j.core.model.WeightConversion.parseTarget(dtype, "--dtype"); // also before listening
        GptServer server = GptServer.start(s, () -> ModelHost.load(model, s, kv, dt));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            stopped.countDown();
        }, "gpt2j-shutdown"));
        System.err.println("gpt2j serve: listening on http://" + host + ":" + server.port() + " (model loading from " + model + ", KV cache " + kv + ")");
        stopped.await();
        return 0;
    }
}
