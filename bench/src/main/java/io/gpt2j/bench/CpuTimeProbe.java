package io.gpt2j.bench;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.Attention;
import io.gpt2j.core.kernels.AttentionF16;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.kernels.TypedMatMul;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.InferenceState;
import io.gpt2j.core.model.KvDtype;
import io.gpt2j.core.model.WeightConversion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Kernel and decode-step costs in CPU time rather than wall time, for A/B work on a shared machine (other processes
 * stretch wall time; the CPU time a thread gets for a compute-bound call moves much less). One thread, best of
 * several repetitions. Not part of any test. Run from the CLI jar:
 * <pre>
 * java --add-modules jdk.incubator.vector -cp cli/target/gpt2j.jar io.gpt2j.bench.CpuTimeProbe prefill-matmuls [T] [dtype]
 * java ... CpuTimeProbe attention [positions] [copies] [f32|f16]  (copies 1: cache-resident; 16: ~100 MB of F32,
 *                                                            DRAM-resident; f16: the KV cache stored as F16)
 * java ... CpuTimeProbe attention-prefill [T]             (one gpt2 layer's prefill attention, F32 and F16 caches)
 * java ... CpuTimeProbe batch-kernel [rows] [copies] [threads] (gpt2-large c_fc at 1 and `rows` rows, F32:
 *                                                            weights cache-resident vs `copies` DRAM-resident copies,
 *                                                            against the sum of streaming time and in-cache compute
 *                                                            time; with threads > 1 wall time, not CPU time)
 * java ... CpuTimeProbe batch-kernel-mapped MODEL_DIR [rows] [threads]  (the same over a checkpoint's four block
 *                                                            matmuls, memory-mapped, every layer's weight in turn)
 * java ... CpuTimeProbe decode MODEL_DIR [context] [steps] [f32|f16]  (process CPU per step, batch 1 and 8, one
 *                                                            thread; the last argument is the KV-cache dtype)
 * </pre>
 */
public final class CpuTimeProbe {
    private CpuTimeProbe() {
    }

    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    public static void main(String[] args) {
        String what = args.length > 0 ? args[0] : "";
        switch (what) {
            case "prefill-matmuls" -> prefillMatmuls(arg(args, 1, 512), DType.valueOf(args.length > 2 ? args[2].toUpperCase() : "F32"));
            case "attention" -> attention(arg(args, 1, 550), arg(args, 2, 1), kv(args, 3));
            case "attention-prefill" -> attentionPrefill(arg(args, 1, 512));
            case "batch-kernel" -> batchKernel(arg(args, 1, 8), arg(args, 2, 12), arg(args, 3, 1));
            case "batch-kernel-mapped" -> batchKernelMapped(Path.of(args[1]), arg(args, 2, 8), arg(args, 3, 1));
            case "decode" -> decode(Path.of(args[1]), arg(args, 2, 512), arg(args, 3, 32), kv(args, 4));
            default -> throw new IllegalArgumentException("usage: CpuTimeProbe prefill-matmuls|attention|decode ... (got '" + what + "')");
        }
    }

    private static KvDtype kv(String[] a, int i) {
        return a.length > i ? KvDtype.parse(a[i], "the KV-cache dtype") : KvDtype.F32;
    }

    private static int arg(String[] a, int i, int def) {
        return a.length > i ? Integer.parseInt(a[i]) : def;
    }

    /** gpt2-large's four block matmuls at T rows (the prefill kernel), one thread: ms and GFLOP/s per call. */
    static void prefillMatmuls(int T, DType dt) {
        int E = 1280;
        int[][] shapes = {{E, 3 * E}, {E, E}, {E, 4 * E}, {4 * E, E}};
        Arena arena = Arena.ofAuto();
        SplittableRandom r = new SplittableRandom(1);
        MemorySegment[] w = new MemorySegment[shapes.length];
        for (int i = 0; i < shapes.length; i++) {
            long n = (long) shapes[i][0] * shapes[i][1];
            MemorySegment f = arena.allocate(4 * n, 64);
            for (long k = 0; k < n; k++) f.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, k, (float) (r.nextGaussian() * 0.02));
            w[i] = dt == DType.F32 ? f : WeightConversion.to(new Tensor("w", DType.F32, new long[] {shapes[i][0], shapes[i][1]}, f), dt, arena).data();
        }
        float[] x = new float[T * 4 * E], out = new float[T * 4 * E];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        long[] best = new long[shapes.length];
        Arrays.fill(best, Long.MAX_VALUE);
        try (Parallel pool = new Parallel(1)) {
            TypedMatMul.Work work = new TypedMatMul.Work();
            for (int rep = 0; rep < 6; rep++) {
                for (int i = 0; i < shapes.length; i++) {
                    long c0 = MX.getCurrentThreadCpuTime();
                    TypedMatMul.conv1d(out, x, w[i], dt, null, T, shapes[i][0], shapes[i][1], pool, work);
                    best[i] = Math.min(best[i], MX.getCurrentThreadCpuTime() - c0);
                }
            }
        }
        double total = 0, flops = 0;
        for (int i = 0; i < shapes.length; i++) {
            double f = 2.0 * T * shapes[i][0] * shapes[i][1];
            total += best[i];
            flops += f;
            System.out.printf("%s T=%d %dx%d: %.1f ms, %.1f GFLOP/s%n", dt, T, shapes[i][0], shapes[i][1], best[i] / 1e6, f / best[i]);
        }
        System.out.printf("%s T=%d all four: %.1f ms, %.1f GFLOP/s per core%n", dt, T, total / 1e6, flops / total);
    }

    /**
     * What bounds batched decode: gpt2-large's c_fc (1280 x 5120, F32, 26 MB) at one row (the weight streamed once,
     * GB/s) and at {@code rows} rows, first with one copy (cache-resident after the first call: compute alone) and
     * then cycling through {@code copies} copies (DRAM-resident: compute and streaming). Prints the DRAM-resident
     * rate next to the rate that "streaming time + compute time" (no overlap at all) predicts.
     */
    static void batchKernel(int rows, int copies, int threads) {
        int C = 1280, OC = 5120;
        long n = (long) C * OC;
        Arena arena = Arena.ofAuto();
        SplittableRandom r = new SplittableRandom(1);
        MemorySegment[] w = new MemorySegment[copies];
        for (int i = 0; i < copies; i++) {
            w[i] = arena.allocate(4 * n, 64);
            for (long k = 0; k < n; k++) w[i].setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, k, (float) (r.nextGaussian() * 0.02));
        }
        float[] x = new float[rows * C], out = new float[rows * OC];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        try (Parallel pool = new Parallel(threads)) {
            TypedMatMul.Work work = new TypedMatMul.Work();
            double stream = n * 4.0 / perCall(out, x, w, copies, 1, C, OC, pool, work); // GB/s
            double cached = 2.0 * rows * n / perCall(out, x, w, 1, rows, C, OC, pool, work); // GFLOP/s
            double dram = 2.0 * rows * n / perCall(out, x, w, copies, rows, C, OC, pool, work);
            double flopPerByte = 2.0 * rows / 4;
            double additive = flopPerByte / (1 / stream + flopPerByte / cached);
            System.out.printf("1 row from DRAM: %.1f GB/s of weights%n", stream);
            System.out.printf("%d rows, weights cache-resident: %.1f GFLOP/s%n", rows, cached);
            System.out.printf("%d rows from DRAM: %.1f GFLOP/s (%.1f GB/s); streaming + compute, no overlap, predicts %.1f GFLOP/s%n",
                    rows, dram, dram / flopPerByte, additive);
        }
    }

    /** As batchKernel over a checkpoint's four block matmuls, memory-mapped from its file (every layer's in turn). */
    static void batchKernelMapped(Path model, int rows, int threads) {
        try (LoadedCheckpoint ck = HfCheckpoint.load(model)) {
            var layers = ck.weights().h();
            String[] names = {"c_attn", "attn.c_proj", "c_fc", "mlp.c_proj"};
            try (Parallel pool = new Parallel(threads)) {
                TypedMatMul.Work work = new TypedMatMul.Work();
                for (int k = 0; k < 4; k++) {
                    MemorySegment[] w = new MemorySegment[layers.size()];
                    Tensor t0 = null;
                    for (int i = 0; i < w.length; i++) {
                        var l = layers.get(i);
                        Tensor t = k == 0 ? l.cAttnWeight() : k == 1 ? l.attnCProjWeight() : k == 2 ? l.cFcWeight() : l.mlpCProjWeight();
                        w[i] = t.data();
                        t0 = t;
                    }
                    int C = (int) t0.shape()[0], OC = (int) t0.shape()[1];
                    float[] x = new float[rows * C], out = new float[rows * OC];
                    SplittableRandom r = new SplittableRandom(1);
                    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                    double n = (double) C * OC;
                    double stream = n * 4.0 / perCall(out, x, w, w.length, 1, C, OC, pool, work);
                    double dram = 2.0 * rows * n / perCall(out, x, w, w.length, rows, C, OC, pool, work);
                    System.out.printf("mapped %s %dx%d x %d layers: 1 row %.1f GB/s, %d rows %.1f GFLOP/s%n", names[k], C, OC, w.length, stream, rows, dram);
                }
            }
        }
    }

    /** Best CPU nanoseconds of one T-row conv1d over weight copies cycled in turn (best over 8 passes of all copies). */
    private static double perCall(float[] out, float[] x, MemorySegment[] w, int copies, int T, int C, int OC, Parallel pool,
                                  TypedMatMul.Work work) {
        long best = Long.MAX_VALUE;
        for (int rep = 0; rep < 12; rep++) {
            boolean wall = pool.threads() > 1;
            long c0 = wall ? System.nanoTime() : MX.getCurrentThreadCpuTime();
            for (int i = 0; i < copies; i++) TypedMatMul.conv1d(out, x, w[i], DType.F32, null, T, C, OC, pool, work);
            long c1 = wall ? System.nanoTime() : MX.getCurrentThreadCpuTime();
            if (rep >= 4) best = Math.min(best, (c1 - c0) / copies);
        }
        return best;
    }

    /** One decode step's attention of one gpt2 layer-row (12 heads of 64) over `positions` cached positions. */
    static void attention(int positions, int copies, KvDtype kv) {
        int NH = 12, HS = 64, E = NH * HS, cap = Math.max(1024, positions);
        SplittableRandom r = new SplittableRandom(1);
        boolean half = kv == KvDtype.F16;
        float[][] k = new float[half ? 0 : copies][E * cap], v = new float[half ? 0 : copies][E * cap];
        short[][] kh = new short[half ? copies : 0][E * cap], vh = new short[half ? copies : 0][E * cap];
        for (int i = 0; i < copies; i++) {
            for (int j = 0; j < E * cap; j++) {
                float a = (float) r.nextGaussian(), b = (float) r.nextGaussian();
                if (half) {
                    kh[i][j] = Float.floatToFloat16(a);
                    vh[i][j] = Float.floatToFloat16(b);
                } else {
                    k[i][j] = a;
                    v[i][j] = b;
                }
            }
        }
        float[] q = new float[E], out = new float[E], scores = new float[cap];
        for (int i = 0; i < E; i++) q[i] = (float) r.nextGaussian();
        byte[] mask = new byte[cap];
        Arrays.fill(mask, (byte) 1);
        long best = Long.MAX_VALUE;
        // the first ~100 repetitions run interpreted/C1 code (C2 compiles the vector kernels late): skip them
        for (int rep = 0; rep < 400; rep++) {
            long c0 = MX.getCurrentThreadCpuTime();
            for (int i = 0; i < copies; i++) {
                for (int h = 0; h < NH; h++) {
                    if (half) AttentionF16.attend(out, h * HS, q, h * HS, kh[i], vh[i], h * cap * HS, mask, positions, HS, 0.125f, scores, 0);
                    else Attention.attend(out, h * HS, q, h * HS, k[i], v[i], h * cap * HS, mask, positions, HS, 0.125f, scores, 0);
                }
            }
            if (rep >= 300) best = Math.min(best, MX.getCurrentThreadCpuTime() - c0);
        }
        double per = best / (double) copies;
        System.out.printf("attention, %s cache, %d positions, %d copies: %.1f us per layer-row, %.1f ns per position and head, %.1f GB/s of cache%n",
                kv, positions, copies, per / 1e3, per / (positions * NH), 2.0 * kv.bytes() * E * positions / per);
    }

    /** Prefill's attention pattern for one gpt2 layer: query t of T attends to t + 1 positions, F32 and F16 caches. */
    static void attentionPrefill(int T) {
        int NH = 12, HS = 64, E = NH * HS;
        SplittableRandom r = new SplittableRandom(1);
        float[] k = new float[E * T], v = new float[E * T], q = new float[T * E], out = new float[T * E], scores = new float[T];
        short[] kh = new short[E * T], vh = new short[E * T];
        for (int j = 0; j < k.length; j++) {
            k[j] = (float) r.nextGaussian();
            v[j] = (float) r.nextGaussian();
            kh[j] = Float.floatToFloat16(k[j]);
            vh[j] = Float.floatToFloat16(v[j]);
        }
        for (int i = 0; i < q.length; i++) q[i] = (float) r.nextGaussian();
        byte[] mask = new byte[T];
        Arrays.fill(mask, (byte) 1);
        long b32 = Long.MAX_VALUE, b16 = Long.MAX_VALUE, k32 = Long.MAX_VALUE, k16 = Long.MAX_VALUE;
        float[] qT = new float[HS * Attention.QB], sT = new float[T * Attention.QB], kw = new float[T * HS], vw = new float[T * HS];
        for (int rep = 0; rep < 40; rep++) { // the first 10 warm the JIT up
            long c0 = MX.getCurrentThreadCpuTime();
            for (int t = 0; t < T; t++) {
                for (int h = 0; h < NH; h++) Attention.attend(out, t * E + h * HS, q, t * E + h * HS, k, v, h * T * HS, mask, t + 1, HS, 0.125f, scores, 0);
            }
            long c1 = MX.getCurrentThreadCpuTime();
            for (int t = 0; t < T; t++) {
                for (int h = 0; h < NH; h++) AttentionF16.attend(out, t * E + h * HS, q, t * E + h * HS, kh, vh, h * T * HS, mask, t + 1, HS, 0.125f, scores, 0);
            }
            long c2 = MX.getCurrentThreadCpuTime();
            for (int t0 = 0; t0 < T; t0 += Attention.QB) {
                int nq = Math.min(Attention.QB, T - t0);
                for (int h = 0; h < NH; h++) {
                    Attention.prefill4(out, t0 * E + h * HS, E, q, t0 * E + h * HS, E, nq, k, v, h * T * HS, mask, t0, 0.125f, qT, sT);
                }
            }
            long c3 = MX.getCurrentThreadCpuTime();
            for (int t0 = 0; t0 < T; t0 += Attention.QB) {
                int nq = Math.min(Attention.QB, T - t0);
                for (int h = 0; h < NH; h++) {
                    AttentionF16.widen(kw, 0, kh, h * T * HS, (t0 + nq) * HS);
                    AttentionF16.widen(vw, 0, vh, h * T * HS, (t0 + nq) * HS);
                    Attention.prefill4(out, t0 * E + h * HS, E, q, t0 * E + h * HS, E, nq, kw, vw, 0, mask, t0, 0.125f, qT, sT);
                }
            }
            long c4 = MX.getCurrentThreadCpuTime();
            if (rep >= 10) {
                b32 = Math.min(b32, c1 - c0);
                b16 = Math.min(b16, c2 - c1);
                k32 = Math.min(k32, c3 - c2);
                k16 = Math.min(k16, c4 - c3);
            }
        }
        double ph = NH * T * (T + 1) / 2.0;
        System.out.printf("prefill attention, one gpt2 layer, T=%d: F32 cache %.2f ms (%.1f ns per position and head), F16 cache %.2f ms (%.1f ns)%n",
                T, b32 / 1e6, b32 / ph, b16 / 1e6, b16 / ph);
        System.out.printf("  by query blocks (Attention.prefill4): F32 cache %.2f ms (%.1f ns), F16 cache widened per block %.2f ms (%.1f ns)%n",
                k32 / 1e6, k32 / ph, k16 / 1e6, k16 / ph);
    }

    /** Process CPU per decode step after a `context`-token prompt, batch 1 and batch 8, one thread (no spinning). */
    static void decode(Path model, int context, int steps, KvDtype kv) {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (LoadedCheckpoint ck = HfCheckpoint.load(model); Parallel pool = new Parallel(1)) {
            Gpt2 g = new Gpt2(ck.config(), ck.weights(), pool, kv);
            int V = ck.config().vocabSize();
            double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
            double bestPrefill = Double.MAX_VALUE;
            int[] batches = {1, 8};
            for (int round = 0; round < 3; round++) {
                for (int bi = 0; bi < 2; bi++) {
                    int B = batches[bi];
                    InferenceState st = g.newState(B, context + steps);
                    int[][] prompt = new int[B][context];
                    SplittableRandom r = new SplittableRandom(1);
                    for (int[] row : prompt) for (int i = 0; i < context; i++) row[i] = r.nextInt(V);
                    float[] logits = new float[B * V];
                    long p0 = os.getProcessCpuTime();
                    g.forward(st, prompt, null, null, logits, null, false);
                    if (round > 0 && B == 1) bestPrefill = Math.min(bestPrefill, (os.getProcessCpuTime() - p0) / 1e6);
                    int[][] next = new int[B][1];
                    long c0 = os.getProcessCpuTime();
                    for (int s = 0; s < steps; s++) {
                        for (int b = 0; b < B; b++) next[b][0] = (31 * s + b) % V;
                        g.forward(st, next, null, null, logits, null, false);
                    }
                    double ms = (os.getProcessCpuTime() - c0) / 1e6 / steps;
                    if (round > 0) best[bi] = Math.min(best[bi], ms); // round 0 warms the JIT up
                }
            }
            System.out.printf("context %d, %s KV cache: batch 1 %.2f ms CPU per step, batch 8 %.2f ms; batch-8 throughput %.2fx batch 1; "
                    + "prefill (batch 1) %.0f ms CPU%n", context, kv, best[0], best[1], 8 * best[0] / best[1], bestPrefill);
        }
    }
}
