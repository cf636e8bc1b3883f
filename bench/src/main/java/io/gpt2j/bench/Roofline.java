package io.gpt2j.bench;

import io.gpt2j.core.kernels.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's own ceilings, measured with our own microkernels on the same thread pool the model uses:
 * memory read bandwidth (vector sum over a buffer far larger than the caches) and peak FMA rate (independent
 * register-resident FMA chains). Decode and prefill speeds are reported as fractions of these.
 */
public final class Roofline {
    private Roofline() {
    }

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Measured ceilings: bytes/s of streaming reads, FLOP/s of fused multiply-adds (2 FLOP each). */
    public record Ceilings(double readBytesPerSecond, double flopsPerSecond) {
    }

    /** Best of {@code rounds} for each ceiling; {@code bufferBytes} should be several times the last-level cache. */
    public static Ceilings measure(Parallel pool, long bufferBytes, int rounds) {
        return new Ceilings(readBandwidth(pool, bufferBytes, rounds), peakFma(pool, rounds));
    }

    /** Bytes/s of a parallel vector sum over an off-heap buffer (each thread reads contiguous blocks). */
    public static double readBandwidth(Parallel pool, long bytes, int rounds) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(bytes, 64);
            buf.fill((byte) 1);
            long blockBytes = 1 << 20;
            int blocks = (int) (bytes / blockBytes);
            float[] sink = new float[blocks];
            double best = 0;
            for (int r = 0; r < rounds + 1; r++) {
                long t0 = System.nanoTime();
                pool.forRange(blocks, 1, (b0, b1) -> {
                    for (int b = b0; b < b1; b++) sink[b] = sumBlock(buf, b * blockBytes, blockBytes);
                });
                double s = (System.nanoTime() - t0) / 1e9;
                if (r > 0) best = Math.max(best, blocks * (double) blockBytes / s);
            }
            float keep = 0;
            for (float f : sink) keep += f;
            if (keep == 42f) System.out.print("");
            return best;
        }
    }

    static float sumBlock(MemorySegment m, long off, long n) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        long step = 4L * L * 4;
        for (long i = off, end = off + n; i < end; i += step) {
            a0 = a0.add(FloatVector.fromMemorySegment(S, m, i, LE));
            a1 = a1.add(FloatVector.fromMemorySegment(S, m, i + 4L * L, LE));
            a2 = a2.add(FloatVector.fromMemorySegment(S, m, i + 8L * L, LE));
            a3 = a3.add(FloatVector.fromMemorySegment(S, m, i + 12L * L, LE));
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }

    /** FLOP/s of 8 independent FMA chains per thread (enough to cover FMA latency on current cores). */
    public static double peakFma(Parallel pool, int rounds) {
        int threads = pool.threads();
        int iters = 20_000_000;
        float[] sink = new float[threads];
        double best = 0;
        for (int r = 0; r < rounds + 1; r++) {
            long t0 = System.nanoTime();
            pool.forRange(threads, 1, (p0, p1) -> {
                for (int p = p0; p < p1; p++) sink[p] = fmaChains(iters, p);
            });
            double s = (System.nanoTime() - t0) / 1e9;
            if (r > 0) best = Math.max(best, threads * (double) iters * 8 * L * 2 / s);
        }
        if (sink[0] == 42f) System.out.print("");
        return best;
    }

    static float fmaChains(int iters, int seed) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f), c = FloatVector.broadcast(S, 1e-7f * (seed + 1));
        FloatVector a0 = FloatVector.broadcast(S, 1f), a1 = a0.add(c), a2 = a1.add(c), a3 = a2.add(c);
        FloatVector a4 = a3.add(c), a5 = a4.add(c), a6 = a5.add(c), a7 = a6.add(c);
        for (int i = 0; i < iters; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).reduceLanes(VectorOperators.ADD);
    }
}
