package io.gpt2j.cli;

import io.gpt2j.bench.TrainBench;
import io.gpt2j.core.io.Json;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.train.LoraConfig;
import io.gpt2j.train.Task;
import io.gpt2j.train.TrainConfigs;
import io.gpt2j.train.TrainableGpt2;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gpt2j bench-train}: training tokens/s (forward + backward + optimizer) and peak memory (wiring only). */
@Command(name = "bench-train", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Measure fp32 training speed on random token batches: tokens/s of full steps, the split into",
                "forward / backward / optimizer (clip + AdamW + zero_grad), and peak resident memory and heap.",
                "gpt2-large needs a larger heap, e.g. GPT2J_JAVA_OPTS=-Xmx20g."})
final class BenchTrainCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face GPT-2 directory")
    Path model;
    @Option(names = "--task", defaultValue = "causal-lm", description = "causal-lm or text-classification")
    String task;
    @Option(names = "--batch", defaultValue = "8", description = "sequences per step")
    int batch;
    @Option(names = "--seq-len", defaultValue = "128", description = "tokens per sequence")
    int seqLen;
    @Option(names = "--steps", defaultValue = "3", description = "timed steps (their mean is reported)")
    int steps;
    @Option(names = "--warmup", defaultValue = "1", description = "untimed steps first (JIT warm-up)")
    int warmup;
    @Option(names = "--num-labels", defaultValue = "6", description = "classes for text-classification")
    int numLabels;
    @Option(names = "--lora", description = "train LoRA adapters (GPT-2 weights frozen) instead of all weights")
    boolean lora;
    @Option(names = "--lora-r", defaultValue = "8", description = "LoRA rank")
    int loraR;
    @Option(names = "--lora-alpha", defaultValue = "16", description = "LoRA alpha (scaling alpha / r)")
    double loraAlpha;
    @Option(names = "--lora-dropout", defaultValue = "0.0", description = "dropout on the LoRA input path")
    double loraDropout;
    @Option(names = "--lora-target-modules", split = ",", defaultValue = "c_attn", description = "comma-separated: c_attn, c_proj, c_fc")
    List<String> loraTargets;
    @Option(names = "--threads", description = "worker threads (default: all available processors)")
    Integer threads;
    @Option(names = "--json", description = "print one JSON object instead of a table")
    boolean json;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Task t = switch (task) {
            case "causal-lm" -> Task.CAUSAL_LM;
            case "text-classification" -> Task.SEQUENCE_CLASSIFICATION;
            default -> throw new IllegalArgumentException("--task must be causal-lm or text-classification, got '" + task + "'");
        };
        LoraConfig lc = lora ? new LoraConfig(loraR, loraAlpha, loraDropout, loraTargets) : null;
        int th = threads == null ? Parallel.defaultThreads() : threads;
        long t0 = System.nanoTime();
        try (LoadedCheckpoint ck = HfCheckpoint.load(model); Parallel pool = new Parallel(th)) {
            Gpt2Config cfg = ck.config();
            int labels = 0;
            if (t == Task.SEQUENCE_CLASSIFICATION) {
                List<String> names = new ArrayList<>();
                for (int i = 0; i < numLabels; i++) names.add("LABEL_" + i);
                cfg = TrainConfigs.forClassification(cfg, "GPT2ForSequenceClassification", names, "single_label_classification",
                        cfg.padTokenId() >= 0 ? cfg.padTokenId() : cfg.eosTokenId());
                labels = numLabels;
            }
            TrainableGpt2 m = TrainableGpt2.fromCheckpoint(ck, cfg, t, labels, 42, pool, lc);
            double loadS = (System.nanoTime() - t0) / 1e9;
            TrainBench.Result r = TrainBench.run(m, batch, seqLen, warmup, steps, 1e-5, th, 42);
            Map<String, Object> res = new java.util.LinkedHashMap<>();
            res.put("model", model.toString());
            res.put("lora", lc == null ? null : Map.of("r", lc.r(), "alpha", lc.alpha(), "dropout", lc.dropout(), "target_modules", lc.targetModules()));
            res.put("load_seconds", loadS);
            res.putAll(r.toMap());
            java.io.PrintWriter pw = spec.commandLine().getOut();
            if (json) {
                pw.println(Json.write(res));
            } else {
                pw.printf(Locale.ROOT, "model        %s, %s, %,d parameters, %,d trainable%s%n", model, task, r.parameters(), r.trainable(),
                        lc == null ? " (full fine-tuning)" : " (LoRA r=" + lc.r() + " on " + lc.targetModules() + ")");
                pw.printf(Locale.ROOT, "setup        batch %d x seq-len %d, %d threads, %d warm-up + %d timed steps, load %.1f s%n", batch, seqLen, th, warmup, steps, loadS);
                pw.printf(Locale.ROOT, "throughput   %.1f training tokens/s (%.3f s per step)%n", r.tokensPerSecond(), r.stepSeconds());
                pw.printf(Locale.ROOT, "split        forward %.3f s, backward %.3f s, optimizer %.3f s%n", r.forwardSeconds(), r.backwardSeconds(), r.optimizerSeconds());
                pw.printf(Locale.ROOT, "loss         %.4f (first step) -> %.4f (last)%n", r.firstLoss(), r.lastLoss());
                pw.printf(Locale.ROOT, "state        params %.1f MB, grads %.1f MB, AdamW moments %.1f MB%n", 4e-6 * r.parameters(), 4e-6 * r.trainable(), 8e-6 * r.trainable());
                pw.printf(Locale.ROOT, "peak memory  RSS %.1f MB (VmHWM), heap %.1f MB (sum of pool peaks)%n", r.peakRssBytes() / 1e6, r.peakHeapBytes() / 1e6);
            }
        }
        return 0;
    }
}
