package io.gpt2j.cli;

import io.gpt2j.bench.InferenceBench;
import io.gpt2j.bench.Roofline;
import io.gpt2j.core.io.Json;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.io.DType;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.Gpt2Weights;
import io.gpt2j.core.model.KvDtype;
import io.gpt2j.core.model.WeightConversion;
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
    @Option(names = "--decode-after", defaultValue = "0", description = "time the decode from a fresh cache holding only the "
            + "prompt's first N tokens (1 = llama.cpp llama-bench's tg test, which generates from an empty cache); "
            + "0 = right after the timed prompt")
    int decodeAfter;
    @Option(names = "--batch", defaultValue = "1", description = "sequences decoding together")
    int batch;
    @Option(names = "--threads", description = "worker threads (default: all available processors)")
    Integer threads;
    @Option(names = "--warmup", defaultValue = "1", description = "untimed rounds first (JIT warm-up)")
    int warmup;
    @Option(names = "--rounds", defaultValue = "2", description = "timed rounds; the best of each phase is reported")
    int rounds;
    // Declared by its negative name: picocli inverts a default-true negatable option, so "--roofline" would turn it off.
    @Option(names = "--no-roofline", negatable = true,
            description = "skip measuring memory read bandwidth and peak FMA rate (measured by default, after the model runs, "
                    + "to print the achieved fractions); --roofline is accepted too")
    boolean noRoofline;
    @Option(names = "--dtype", description = "convert the matmul weights to f32, f16, bf16 or q8_0 at load (default: as stored; "
            + "nothing is converted when they are stored so already); the checkpoint is then unmapped and the peak-RSS counter reset, "
            + "so RSS is the converted model's")
    String dtype;
    @Option(names = "--kv-dtype", defaultValue = "f32", description = "KV-cache storage: f32 or f16 (half the bytes attention reads per position)")
    String kvDtype;
    @Option(names = "--json", description = "print one JSON object instead of a table")
    boolean json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        java.io.PrintWriter out = spec.commandLine().getOut();
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        if (decodeAfter < 0 || decodeAfter > promptTokens) {
            throw new IllegalArgumentException("--decode-after must be in [0, --prompt-tokens=" + promptTokens + "], got " + decodeAfter);
        }
        int th = threads == null ? Parallel.defaultThreads() : threads;
        long t0 = System.nanoTime();
        DType dt = WeightConversion.parseTarget(dtype, "--dtype");
        KvDtype kv = KvDtype.parse(kvDtype, "--kv-dtype");
        LoadedCheckpoint ck = HfCheckpoint.load(model); // after validating: nothing is left mapped on a bad flag
        Gpt2Weights weights = ck.weights();
        io.gpt2j.core.model.Gpt2Config config = ck.config();
        // a checkpoint already stored in the asked dtype is used as mapped: converting would only copy it
        boolean converted = dt != null && !WeightConversion.storedAs(weights, dt);
        if (converted) {
            try {
                try (Parallel conversionPool = new Parallel(th)) {
                    weights = WeightConversion.convert(weights, dt, conversionPool);
                }
            } finally {
                ck.close();
            }
            InferenceBench.resetPeakRss();
        }
        try (Parallel pool = new Parallel(th)) {
            Gpt2 gpt = new Gpt2(config, weights, pool, kv);
            double loadS = (System.nanoTime() - t0) / 1e9;
            InferenceBench.Result r = InferenceBench.run(gpt, promptTokens, decodeAfter, newTokens, batch, warmup, rounds, 1234);
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("model", model.toString());
            m.put("parameters", config.parameterCount());
            m.put("dtype", String.valueOf(weights.h().get(0).cFcWeight().dtype()));
            m.put("converted_at_load", converted);
            m.put("kv_dtype", kv.name());
            m.put("load_seconds", loadS);
            m.putAll(r.toMap());
            Roofline.Ceilings ceil = !noRoofline ? Roofline.measure(pool, 512L << 20, 3) : null;
            if (ceil != null) {
                m.put("read_bandwidth_gb_per_s", ceil.readBytesPerSecond() / 1e9);
                m.put("peak_gflops_per_s", ceil.flopsPerSecond() / 1e9);
                m.put("decode_bandwidth_fraction", r.decodeWeightBytesPerSecond() / ceil.readBytesPerSecond());
                m.put("prefill_peak_fraction", r.prefillFlopsPerSecond() / ceil.flopsPerSecond());
            }
            if (json) {
                out.println(Json.write(m));
            } else {
                out.printf("model            %s (%,d parameters, %.1f MB of weights, matmuls in %s)%n", model, config.parameterCount(), r.weightBytes() / 1e6, m.get("dtype"));
                out.printf("threads          %d, batch %d, KV cache %s%n", th, batch, kv);
                out.printf("load             %.2f s%n", loadS);
                out.printf("prefill          %d tokens in %.3f s = %.1f tokens/s%n", batch * promptTokens, r.prefillSeconds(), r.prefillTokensPerSecond());
                out.printf("decode           %d tokens in %.3f s = %.2f tokens/s (after %d tokens of context)%n", batch * newTokens,
                        r.decodeSeconds(), r.decodeTokensPerSecond(), decodeAfter > 0 ? decodeAfter : promptTokens);
                out.printf("peak RSS         %.1f MB%n", r.peakRssBytes() / 1e6);
                out.printf("allocated        %,d bytes per decode step (all threads)%n", r.allocatedBytesPerDecodeStep());
                out.printf("prefill compute  %.1f GFLOP/s%n", r.prefillFlopsPerSecond() / 1e9);
                out.printf("decode traffic   %.1f GB/s of weights%n", r.decodeWeightBytesPerSecond() / 1e9);
                if (ceil != null) {
                    out.printf("machine          %.1f GB/s read bandwidth, %.1f GFLOP/s peak FMA (own microkernels, %d threads)%n",
                            ceil.readBytesPerSecond() / 1e9, ceil.flopsPerSecond() / 1e9, th);
                    out.printf("roofline         decode %.0f%% of bandwidth, prefill %.0f%% of peak FMA%n",
                            100 * r.decodeWeightBytesPerSecond() / ceil.readBytesPerSecond(), 100 * r.prefillFlopsPerSecond() / ceil.flopsPerSecond());
                }
            }
        } finally {
            if (!converted) ck.close();
        }
        out.flush();
        return 0;
    }
}
