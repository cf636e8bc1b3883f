package io.gpt2j.bench;

import io.gpt2j.train.AdamW;
import io.gpt2j.train.Batch;
import io.gpt2j.train.Task;
import io.gpt2j.train.TrainableGpt2;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * End-to-end training-step timing of a {@link TrainableGpt2}: random token batches, forward (with loss), backward,
 * then clip-by-global-norm + AdamW + zero_grad (the "optimizer" phase), as the Trainer does them per step. Reports
 * training tokens/s and the split per phase, and peak memory. Never part of the test suite.
 */
public final class TrainBench {
    private TrainBench() {
    }

    /** What one run measured; times are means over the timed steps. */
    public record Result(Task task, int batch, int seqLen, int steps, int threads, double forwardSeconds,
                         double backwardSeconds, double optimizerSeconds, float firstLoss, float lastLoss,
                         long parameters, long trainable, long peakRssBytes, long peakHeapBytes) {
        public double stepSeconds() {
            return forwardSeconds + backwardSeconds + optimizerSeconds;
        }

        public double tokensPerSecond() {
            return batch * (double) seqLen / stepSeconds();
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("task", task.name().toLowerCase(java.util.Locale.ROOT));
            m.put("batch", batch);
            m.put("seq_len", seqLen);
            m.put("timed_steps", steps);
            m.put("threads", threads);
            m.put("parameters", parameters);
            m.put("trainable_parameters", trainable);
            m.put("tokens_per_s", tokensPerSecond());
            m.put("step_seconds", stepSeconds());
            m.put("forward_seconds", forwardSeconds);
            m.put("backward_seconds", backwardSeconds);
            m.put("optimizer_seconds", optimizerSeconds);
            m.put("first_loss", firstLoss);
            m.put("last_loss", lastLoss);
            m.put("param_bytes", 4 * parameters);
            m.put("grad_bytes", 4 * trainable);
            m.put("optimizer_state_bytes", 8 * trainable);
            m.put("peak_rss_bytes", peakRssBytes);
            m.put("peak_heap_bytes", peakHeapBytes);
            return m;
        }
    }

    /**
     * {@code warmup} untimed steps then {@code steps} timed ones on batches of random ids (LM: labels = ids; sequence
     * classification: random labels in [0, num_labels), no padding). All steps update the model with {@code lr}.
     */
    public static Result run(TrainableGpt2 model, int batch, int seqLen, int warmup, int steps, double lr,
                             int threads, long seed) {
        if (batch < 1 || seqLen < 1 || steps < 1 || warmup < 0) {
            throw new IllegalArgumentException("batch, seq-len and steps must be >= 1 and warmup >= 0, got " + batch + ", " + seqLen + ", " + steps + ", " + warmup);
        }
        int maxT = model.config().nPositions();
        if (seqLen > maxT) throw new IllegalArgumentException("--seq-len " + seqLen + " exceeds n_positions " + maxT);
        Task task = model.task();
        if (task == Task.TOKEN_CLASSIFICATION) throw new IllegalArgumentException("bench-train measures causal-lm and text-classification");
        AdamW adam = new AdamW(model.layout(), model.trainableFrom(), 0.9f, 0.999f, 1e-8f, 0.0f, true);
        SplittableRandom rnd = new SplittableRandom(seed);
        int V = model.config().vocabSize(), pad = model.config().padTokenId();
        model.train(TrainableGpt2.Dropout.fromConfig(model.config()), seed);
        double fwd = 0, bwd = 0, opt = 0;
        float first = Float.NaN, last = Float.NaN;
        for (int s = 0; s < warmup + steps; s++) {
            int[] ids = new int[batch * seqLen];
            for (int i = 0; i < ids.length; i++) {
                int id;
                do id = rnd.nextInt(V); while (id == pad);
                ids[i] = id;
            }
            int[] labels = task == Task.CAUSAL_LM ? ids : new int[batch];
            if (task != Task.CAUSAL_LM) for (int b = 0; b < batch; b++) labels[b] = rnd.nextInt(model.numLabels());
            Batch b = new Batch(ids, null, labels, null, batch, seqLen);
            long t0 = System.nanoTime();
            float loss = model.forward(b);
            long t1 = System.nanoTime();
            model.backward();
            long t2 = System.nanoTime();
            AdamW.clipGradNorm(model.pool(), model.grads(), 1.0);
            adam.step(model.pool(), model.params(), model.grads(), lr);
            model.zeroGrad();
            long t3 = System.nanoTime();
            if (s == 0) first = loss;
            last = loss;
            if (s >= warmup) {
                fwd += (t1 - t0) / 1e9;
                bwd += (t2 - t1) / 1e9;
                opt += (t3 - t2) / 1e9;
            }
        }
        return new Result(task, batch, seqLen, steps, threads, fwd / steps, bwd / steps, opt / steps, first, last,
                model.layout().total(), model.trainableCount(), InferenceBench.peakRss(), peakHeap());
    }

    /** Sum of the heap pools' peak usage since JVM start (an upper bound on the peak of the heap's total use). */
    public static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) sum += p.getPeakUsage().getUsed();
        }
        return sum;
    }
}
