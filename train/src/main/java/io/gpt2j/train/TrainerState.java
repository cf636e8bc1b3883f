package io.gpt2j.train;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.load.HfConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A snapshot of a run's position (trainer_state.json in a checkpoint): transformers' fields (global_step, epoch,
 * log_history, best_metric, best_model_checkpoint) plus what an exact resume needs beyond the optimizer moments.
 * Data order and dropout masks are pure functions of (seed, epoch, micro-batch), so no generator state is stored.
 */
public record TrainerState(int globalStep, double epoch, int maxSteps, int numTrainExamples, int trainBatchSize,
                           int gradientAccumulationSteps, long seed, int adamStep, Double bestMetric,
                           String bestModelCheckpoint, int patienceCounter, double logLossSum, int logCount,
                           List<Map<String, Object>> logHistory) {
    public static final String FILE = "trainer_state.json";

    public TrainerState {
        logHistory = List.copyOf(logHistory);
    }

    public void write(Path dir) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("best_metric", bestMetric);
        m.put("best_model_checkpoint", bestModelCheckpoint);
        m.put("epoch", epoch);
        m.put("global_step", globalStep);
        m.put("max_steps", maxSteps);
        m.put("train_batch_size", trainBatchSize);
        m.put("log_history", logHistory);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("num_train_examples", numTrainExamples);
        r.put("gradient_accumulation_steps", gradientAccumulationSteps);
        r.put("seed", seed);
        r.put("adam_step", adamStep);
        r.put("early_stopping_patience_counter", patienceCounter);
        // Double.toString round-trips, so the resumed run's logged loss means are the same bits
        r.put("log_loss_sum", Double.toString(logLossSum));
        r.put("log_count", logCount);
        m.put("gpt2j_resume", r);
        try {
            Files.writeString(dir.resolve(FILE), HfConfig.pretty(m));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(FILE) + ": " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    public static TrainerState read(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException(dir + ": not a gpt2j checkpoint (no " + FILE + "); pass a checkpoint-N directory written by finetune");
        }
        try {
            Map<String, Object> m = Json.parseObject(Files.readString(f));
            if (!(m.get("gpt2j_resume") instanceof Map<?, ?> rr)) {
                throw new IllegalArgumentException(f + ": no 'gpt2j_resume' section; only checkpoints written by gpt2j finetune can be resumed exactly");
            }
            Map<String, Object> r = (Map<String, Object>) rr;
            List<Map<String, Object>> history = new ArrayList<>();
            for (Object o : (List<Object>) m.getOrDefault("log_history", List.of())) history.add((Map<String, Object>) o);
            return new TrainerState(num(m, "global_step", f).intValue(), num(m, "epoch", f).doubleValue(),
                    num(m, "max_steps", f).intValue(), num(r, "num_train_examples", f).intValue(),
                    num(m, "train_batch_size", f).intValue(), num(r, "gradient_accumulation_steps", f).intValue(),
                    num(r, "seed", f).longValue(), num(r, "adam_step", f).intValue(),
                    m.get("best_metric") instanceof Number b ? b.doubleValue() : null,
                    m.get("best_model_checkpoint") instanceof String s ? s : null,
                    num(r, "early_stopping_patience_counter", f).intValue(),
                    Double.parseDouble(String.valueOf(r.get("log_loss_sum"))), num(r, "log_count", f).intValue(), history);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        } catch (ClassCastException | NumberFormatException e) {
            throw new IllegalArgumentException(f + ": malformed trainer state: " + e.getMessage(), e);
        }
    }

    private static Number num(Map<String, Object> m, String key, Path f) {
        if (!(m.get(key) instanceof Number n)) throw new IllegalArgumentException(f + ": field '" + key + "' missing or not a number");
        return n;
    }
}
