package io.gpt2j.bench;

import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.InferenceState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * End-to-end prefill/decode timing of a loaded model: a prompt of random token ids is prefilled in one pass,
 * then tokens are decoded one at a time through the KV cache (the argmax is fed back, so the work is real).
 * Decode is timed either right after the timed prompt or, with {@code decodeAfter > 0}, from a fresh cache holding
 * only the first {@code decodeAfter} prompt tokens: {@code decodeAfter = 1} is llama.cpp's {@code llama-bench}
 * "tg" test, which generates from an empty cache, so the attention reads a short KV cache. Reports tokens/s and
 * peak resident memory. Never part of the test suite's timing.
 */
public final class InferenceBench {
    private InferenceBench() {
    }

    /** What one run measured. */
    public record Result(int promptTokens, int decodeAfter, int newTokens, int batch, int threads, double prefillSeconds,
                         double decodeSeconds, long peakRssBytes, long weightBytes, long allocatedBytesPerDecodeStep,
                         double prefillFlops, long decodeBytesPerStep) {
        /** FLOP/s of the prefill (matmuls and attention; LM head for the last position only, as run). */
        public double prefillFlopsPerSecond() {
            return prefillFlops / prefillSeconds;
        }

        /** Weight bytes streamed per second while decoding (all weights once per step, whatever the batch). */
        public double decodeWeightBytesPerSecond() {
            return decodeBytesPerStep * (newTokens / decodeSeconds);
        }

        public double prefillTokensPerSecond() {
            return batch * promptTokens / prefillSeconds;
        }

        public double decodeTokensPerSecond() {
            return batch * newTokens / decodeSeconds;
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("prompt_tokens", promptTokens);
            m.put("decode_after_tokens", decodeAfter);
            m.put("new_tokens", newTokens);
            m.put("batch", batch);
            m.put("threads", threads);
            m.put("prefill_seconds", prefillSeconds);
            m.put("decode_seconds", decodeSeconds);
            m.put("prefill_tokens_per_s", prefillTokensPerSecond());
            m.put("decode_tokens_per_s", decodeTokensPerSecond());
            m.put("peak_rss_bytes", peakRssBytes);
            m.put("weight_bytes", weightBytes);
            m.put("allocated_bytes_per_decode_step", allocatedBytesPerDecodeStep);
            m.put("prefill_gflops_per_s", prefillFlopsPerSecond() / 1e9);
            m.put("decode_weight_gb_per_s", decodeWeightBytesPerSecond() / 1e9);
            return m;
        }
    }

    /**
     * Runs {@code warmups} untimed rounds (JIT compilation) and then {@code rounds} timed ones, keeping the best
     * prefill and the best decode time (the least disturbed measurement of each), and the least allocation per step.
     */
    public static Result run(Gpt2 model, int promptTokens, int newTokens, int batch, int warmups, int rounds, long seed) {
        return run(model, promptTokens, 0, newTokens, batch, warmups, rounds, seed);
    }

    /**
     * As {@link #run(Gpt2, int, int, int, int, int, long)}; with {@code decodeAfter} in [1, promptTokens] the decode
     * is timed from a cache reset and refilled (untimed) with the prompt's first {@code decodeAfter} tokens.
     */
    public static Result run(Gpt2 model, int promptTokens, int decodeAfter, int newTokens, int batch, int warmups, int rounds, long seed) {
        int ctx = model.config().nPositions();
        if (decodeAfter < 0 || decodeAfter > promptTokens) {
            throw new IllegalArgumentException("decode-after must be in [1, prompt-tokens=" + promptTokens + "] (0: after the timed prompt), got " + decodeAfter);
        }
        int decodeFrom = decodeAfter > 0 ? decodeAfter : promptTokens;
        if (promptTokens < 1 || newTokens < 0 || promptTokens > ctx || decodeFrom + newTokens > ctx) {
            throw new IllegalArgumentException((decodeAfter > 0 ? "decode-after" : "prompt-tokens") + " + new-tokens must be in [1, n_positions="
                    + ctx + "], got " + decodeFrom + " + " + newTokens);
        }
        int V = model.config().vocabSize();
        SplittableRandom rnd = new SplittableRandom(seed);
        int[][] prompt = new int[batch][promptTokens];
        for (int[] row : prompt) for (int i = 0; i < promptTokens; i++) row[i] = rnd.nextInt(V);
        int[][] head = new int[batch][];
        for (int b = 0; b < batch; b++) head[b] = java.util.Arrays.copyOf(prompt[b], Math.max(1, decodeAfter));
        InferenceState st = model.newState(batch, Math.max(promptTokens, decodeFrom + newTokens));
        float[] logits = new float[batch * V];
        int[][] next = new int[batch][1];
        double bestPrefill = Double.MAX_VALUE, bestDecode = Double.MAX_VALUE;
        long allocPerStep = -1;
        for (int r = 0; r < warmups + rounds; r++) {
            st.reset();
            long t0 = System.nanoTime();
            model.forward(st, prompt, null, null, logits, null, false);
            long prefillNanos = System.nanoTime() - t0;
            if (decodeAfter > 0) { // untimed: the decode starts from a cache of decodeAfter tokens
                st.reset();
                model.forward(st, head, null, null, logits, null, false);
            }
            long t1 = System.nanoTime();
            long a1 = totalAllocated();
            for (int s = 0; s < newTokens; s++) {
                for (int b = 0; b < batch; b++) next[b][0] = argmax(logits, b * V, V);
                model.forward(st, next, null, null, logits, null, false);
            }
            long t2 = System.nanoTime();
            long a2 = totalAllocated();
            if (r >= warmups) {
                // least of the rounds, like the times: a round still running interpreted kernels (C2 compiles in the
                // background) allocates Vector API boxes that steady state does not
                if (newTokens > 0 && a1 >= 0) {
                    long perStep = (a2 - a1) / newTokens;
                    allocPerStep = allocPerStep < 0 ? perStep : Math.min(allocPerStep, perStep);
                }
                bestPrefill = Math.min(bestPrefill, prefillNanos / 1e9);
                bestDecode = Math.min(bestDecode, (t2 - t1) / 1e9);
            }
        }
        return new Result(promptTokens, decodeAfter, newTokens, batch, model.pool().threads(), bestPrefill,
                newTokens == 0 ? Double.NaN : bestDecode, peakRss(), weightBytes(model), allocPerStep,
                batch * prefillFlops(model, promptTokens), weightBytes(model) - model.weights().wpe().data().byteSize());
    }

    /** FLOPs of a prefill of T tokens in one row: 2 per multiply-add of every matmul, causal attention, one LM-head row. */
    public static double prefillFlops(Gpt2 model, int T) {
        var c = model.config();
        double e = c.nEmbd(), i = c.nInner();
        double perTokenLayer = 2 * (3 * e * e + e * e + 2 * e * i);
        double attention = 2.0 * 2.0 * e * (T * (T + 1.0) / 2);
        return c.nLayer() * (T * perTokenLayer + attention) + 2 * e * c.vocabSize();
    }

    /** Heap bytes allocated by all threads so far (HotSpot), or -1. */
    static long totalAllocated() {
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        if (mx instanceof com.sun.management.ThreadMXBean h && h.isThreadAllocatedMemorySupported()) {
            return h.getTotalThreadAllocatedBytes();
        }
        return -1;
    }

    static int argmax(float[] a, int o, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (a[o + i] > a[o + best]) best = i;
        return best;
    }

    /** Bytes of all weight tensors as stored. */
    public static long weightBytes(Gpt2 model) {
        var w = model.weights();
        long n = w.wte().data().byteSize() + w.wpe().data().byteSize() + w.lnFWeight().data().byteSize() + w.lnFBias().data().byteSize();
        if (!w.tied()) n += w.lmHead().data().byteSize();
        for (var l : w.h()) {
            n += l.ln1Weight().data().byteSize() + l.ln1Bias().data().byteSize() + l.cAttnWeight().data().byteSize()
                    + l.cAttnBias().data().byteSize() + l.attnCProjWeight().data().byteSize() + l.attnCProjBias().data().byteSize()
                    + l.ln2Weight().data().byteSize() + l.ln2Bias().data().byteSize() + l.cFcWeight().data().byteSize()
                    + l.cFcBias().data().byteSize() + l.mlpCProjWeight().data().byteSize() + l.mlpCProjBias().data().byteSize();
        }
        return n;
    }

    /** Resets the kernel's peak-RSS counter (VmHWM) to the current RSS (Linux: clear_refs 5); ignored elsewhere. */
    public static void resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException e) {
            // not Linux, or not permitted: the peak then includes what was unmapped
        }
    }

    /** Peak resident set size (VmHWM) of this process, or -1 where /proc is unavailable. */
    public static long peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String[] p = line.trim().split("\\s+");
                    return Long.parseLong(p[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
