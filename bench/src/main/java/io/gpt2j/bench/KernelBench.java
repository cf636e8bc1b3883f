package io.gpt2j.bench;

import io.gpt2j.core.kernels.MatMul;
import io.gpt2j.core.kernels.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * GB/s and GFLOP/s of the Conv1D matmul on gpt2 MLP shapes (768 x 3072) over a ring of distinct weights far larger
 * than the last-level cache, as decode sees them, next to the machine's measured read bandwidth; plus allocated bytes
 * per call (the kernels must not allocate in their loops). Usage: KernelBench [threads] [T] [ring MB].
 */
public final class KernelBench {
    private KernelBench() {
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int T = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        int ringMb = args.length > 2 ? Integer.parseInt(args[2]) : 512;
        int C = 768, OC = 3072;
        long bytes = 4L * C * OC;
        int n = (int) Math.max(1, (ringMb << 20) / bytes);
        try (Parallel pool = new Parallel(threads); Arena arena = Arena.ofShared()) {
            SplittableRandom r = new SplittableRandom(1);
            MemorySegment[] ws = new MemorySegment[n];
            for (int i = 0; i < n; i++) {
                ws[i] = arena.allocate(bytes, 64);
                ws[i].fill((byte) (i + 1));
            }
            float[] x = new float[T * C], out = new float[T * OC];
            float[] part = new float[MatMul.partialFloats(T, OC, threads)];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            for (int rep = 0; rep < 8; rep++) {
                long a0 = mx.getCurrentThreadAllocatedBytes();
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) MatMul.conv1d(out, x, ws[i], null, T, C, OC, pool, part);
                double s = (System.nanoTime() - t0) / 1e9 / n;
                long alloc = (mx.getCurrentThreadAllocatedBytes() - a0) / n;
                System.out.printf("conv1d T=%d %dx%d (ring of %d): %.3f ms  %.1f GFLOP/s  %.1f GB/s  alloc/call (caller) %d B%n",
                        T, C, OC, n, s * 1e3, 2.0 * T * C * OC / s / 1e9, bytes / s / 1e9, alloc);
            }
            System.out.printf("read bandwidth (Roofline microkernel): %.1f GB/s%n", Roofline.readBandwidth(pool, 512L << 20, 3) / 1e9);
        }
    }
}
