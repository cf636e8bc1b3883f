package io.gpt2j.bench;

import io.gpt2j.core.kernels.MatMul;
import io.gpt2j.core.kernels.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Quick GFLOP/s and GB/s of the matmul kernels on gpt2-large shapes, plus allocated bytes per call (the kernels must
 * not allocate in their loops). Usage: KernelBench [threads] [T].
 */
public final class KernelBench {
    private KernelBench() {
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int T = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        int C = 1280, OC = 5120;
        try (Parallel pool = new Parallel(threads)) {
            SplittableRandom r = new SplittableRandom(1);
            MemorySegment w;
            if (args.length > 2) { // map a file (e.g. a model.safetensors) instead of native memory
                try (var ch = java.nio.channels.FileChannel.open(java.nio.file.Path.of(args[2]))) {
                    w = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, 4L * C * OC, Arena.ofAuto());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            } else {
                w = Arena.ofAuto().allocate(4L * C * OC, 64);
                for (long i = 0; i < (long) C * OC; i++) w.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) r.nextDouble());
            }
            float[] x = new float[T * C], out = new float[T * OC];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            for (int rep = 0; rep < 8; rep++) {
                long a0 = mx.getCurrentThreadAllocatedBytes();
                long t0 = System.nanoTime();
                int iters = Math.max(1, 200 / T);
                for (int i = 0; i < iters; i++) MatMul.conv1d(out, x, w, null, T, C, OC, pool);
                double s = (System.nanoTime() - t0) / 1e9 / iters;
                long alloc = (mx.getCurrentThreadAllocatedBytes() - a0) / iters;
                System.out.printf("conv1d T=%d %dx%d: %.3f ms  %.1f GFLOP/s  %.1f GB/s  alloc/call (caller thread) %d B%n",
                        T, C, OC, s * 1e3, 2.0 * T * C * OC / s / 1e9, 4.0 * C * OC / s / 1e9, alloc);
            }
        }
    }
}
