package io.gpt2j.cli;

import io.gpt2j.bench.InferenceBench;
import io.gpt2j.core.io.Json;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gpt2j bench}: prefill/decode tokens per second and peak RSS of a checkpoint (wiring only). */
@Command(name = "bench", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Measure prefill and decode speed (tokens/s) and peak resident memory on a checkpoint.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face GPT-2 directory")
    Path model;
    @Option(names = "--prompt-tokens", defaultValue = "128", description = "prompt length (random token ids)")
    int promptTokens;
    @Option(names = "--new-tokens", defaultValue = "128", description = "tokens decoded one at a time after the prompt")
    int newTokens;
    @Option(names = "--batch", defaultValue = "1", description = "sequences decoding together")
    int batch;
    @Option(names = "--threads", description = "worker threads (default: all available processors)")
    Integer threads;
    @Option(names = "--warmup", defaultValue = "1", description = "untimed rounds first (JIT warm-up)")
    int warmup;
    @Option(names = "--rounds", defaultValue = "2", description = "timed rounds; the best of each phase is reported")
    int rounds;
    @Option(names = "--json", description = "print one JSON object instead of a table")
    boolean json;

    @Override
    public Integer call() {
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        int th = threads == null ? Parallel.defaultThreads() : threads;
        long t0 = System.nanoTime();
        try (LoadedCheckpoint ck = HfCheckpoint.load(model); Parallel pool = new Parallel(th)) {
            Gpt2 gpt = new Gpt2(ck.config(), ck.weights(), pool);
            double loadS = (System.nanoTime() - t0) / 1e9;
            InferenceBench.Result r = InferenceBench.run(gpt, promptTokens, newTokens, batch, warmup, rounds, 1234);
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("model", model.toString());
            m.put("parameters", ck.config().parameterCount());
            m.put("load_seconds", loadS);
            m.putAll(r.toMap());
            if (json) {
                System.out.println(Json.write(m));
            } else {
                System.out.printf("model            %s (%,d parameters, %.1f MB of weights)%n", model, ck.config().parameterCount(), r.weightBytes() / 1e6);
                System.out.printf("threads          %d, batch %d%n", th, batch);
                System.out.printf("load             %.2f s%n", loadS);
                System.out.printf("prefill          %d tokens in %.3f s = %.1f tokens/s%n", batch * promptTokens, r.prefillSeconds(), r.prefillTokensPerSecond());
                System.out.printf("decode           %d tokens in %.3f s = %.2f tokens/s%n", batch * newTokens, r.decodeSeconds(), r.decodeTokensPerSecond());
                System.out.printf("peak RSS         %.1f MB%n", r.peakRssBytes() / 1e6);
                System.out.printf("allocated        %,d bytes per decode step (all threads)%n", r.allocatedBytesPerDecodeStep());
            }
        }
        return 0;
    }
}
