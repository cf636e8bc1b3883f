package io.gpt2j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every vectorized kernel against its scalar twin on random, odd-length inputs whose weight segments start at
 * unaligned addresses. Tolerance: relative 1e-5 of the value scale; the two differ only in summation order.
 */
class KernelTwinTest {
    static final Parallel POOL = new Parallel(2);
    final SplittableRandom rnd = new SplittableRandom(42);

    @AfterAll
    static void close() {
        POOL.close();
    }

    float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        return a;
    }

    /** A little-endian F32 segment starting 4 bytes past a 64-byte boundary (unaligned for vectors). */
    static MemorySegment seg(float[] a) {
        MemorySegment big = Arena.ofAuto().allocate(4L * a.length + 8, 64).asSlice(4);
        for (int i = 0; i < a.length; i++) big.setAtIndex(MatMul.F32, i, a[i]);
        return big;
    }

    static void assertClose(float[] a, float[] b, double tol, String what) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        System.out.printf("%s: max-abs %.2e%n", what, m);
        assertTrue(m <= tol, what + " differs by " + m);
    }

    @Test
    void conv1dMatchesScalar() {
        for (int[] d : new int[][] {{1, 37, 83}, {5, 64, 200}, {7, 129, 67}, {4, 16, 64}, {9, 3, 1}, {11, 600, 130}, {13, 513, 64}}) {
            int T = d[0], C = d[1], OC = d[2];
            float[] x = rand(T * C), w = rand(C * OC), b = rand(OC);
            float[] v = new float[T * OC], s = new float[T * OC];
            MatMul.conv1d(v, x, seg(w), seg(b), T, C, OC, POOL);
            MatMul.conv1dScalar(s, x, seg(w), seg(b), T, C, OC, 0, OC);
            assertClose(v, s, 1e-5 * C, "conv1d " + T + "x" + C + "x" + OC);
            MatMul.conv1d(v, x, seg(w), null, T, C, OC, POOL);
            MatMul.conv1dScalar(s, x, seg(w), null, T, C, OC, 0, OC);
            assertClose(v, s, 1e-5 * C, "conv1d no bias");
        }
    }

    @Test
    void streamingConv1dMatchesScalar() {
        for (int[] d : new int[][] {{1, 37, 83}, {1, 768, 2304}, {2, 64, 200}, {3, 129, 67}, {4, 16, 64}, {1, 3, 1}, {4, 5, 7},
                {5, 77, 131}, {8, 256, 384}, {7, 33, 40}, {6, 19, 3}}) {
            int T = d[0], C = d[1], OC = d[2];
            float[] x = rand(T * C), w = rand(C * OC), b = rand(OC);
            float[] v = new float[T * OC], s = new float[T * OC];
            float[] part = new float[MatMul.partialFloats(T, OC, POOL.threads())];
            MatMul.conv1d(v, x, seg(w), seg(b), T, C, OC, POOL, part);
            MatMul.conv1dScalar(s, x, seg(w), seg(b), T, C, OC, 0, OC);
            assertClose(v, s, 1e-5 * C, "streaming conv1d " + T + "x" + C + "x" + OC);
            MatMul.conv1d(v, x, seg(w), null, T, C, OC, POOL, part);
            MatMul.conv1dScalar(s, x, seg(w), null, T, C, OC, 0, OC);
            assertClose(v, s, 1e-5 * C, "streaming conv1d no bias");
        }
    }

    @Test
    void linearTMatchesScalar() {
        for (int[] d : new int[][] {{1, 37, 83}, {6, 64, 301}, {3, 19, 5}, {8, 37, 11}, {5, 16, 4}}) {
            int T = d[0], C = d[1], V = d[2];
            float[] x = rand(T * C), w = rand(V * C);
            float[] v = new float[T * V], s = new float[T * V];
            MatMul.linearT(v, x, seg(w), T, C, V, POOL);
            MatMul.linearTScalar(s, x, seg(w), T, C, V, 0, V);
            assertClose(v, s, 1e-5 * C, "linearT " + T + "x" + C + "x" + V);
        }
    }

    @Test
    void layerNormMatchesScalar() {
        for (int C : new int[] {1, 17, 64, 77}) {
            float[] x = rand(3 * C), g = rand(C), b = rand(C);
            float[] v = new float[3 * C], s = new float[3 * C];
            for (int t = 0; t < 3; t++) {
                Kernels.layerNormRow(v, x, seg(g), seg(b), t * C, C, 1e-5f);
                Kernels.layerNormRowScalar(s, x, seg(g), seg(b), t * C, C, 1e-5f);
            }
            assertClose(v, s, 1e-5, "layernorm C=" + C);
        }
    }

    @Test
    void geluNewMatchesScalarAndKnownValues() {
        float[] x = rand(1001);
        for (int i = 0; i < x.length; i++) x[i] *= 8;
        float[] v = x.clone(), s = x.clone();
        Kernels.activation(v, 3, 1000, Kernels.Activation.GELU_NEW);
        for (int i = 3; i < 1000; i++) s[i] = Kernels.activationScalar(s[i], Kernels.Activation.GELU_NEW);
        assertClose(v, s, 1e-6 * 8, "gelu_new");
        // torch: gelu_new(1.0) = 0.8411920070648193, exact gelu(1.0) = 0.8413447141647339
        assertTrue(Math.abs(Kernels.activationScalar(1f, Kernels.Activation.GELU_NEW) - 0.8411920070648193) < 1e-7);
        assertTrue(Math.abs(Kernels.activationScalar(1f, Kernels.Activation.GELU) - 0.8413447141647339) < 1e-7);
        assertTrue(Math.abs(Kernels.erf(0.5) - 0.5204998778130465) < 1e-12);
        assertTrue(Math.abs(Kernels.erf(3.0) - 0.9999779095030014) < 1e-12);
    }

    @Test
    void attentionMatchesScalar() {
        // HS = 2L takes the generic vector path, HS = 4L (gpt2's 64 with AVX-512) the register-resident one; odd n
        // leaves a position after the pairs; masks hit single positions, whole pairs, and nothing (a pad row)
        for (int HS : new int[] {2 * Attention.L, 4 * Attention.L}) {
            for (int n : new int[] {1, 2, 13, 40}) {
                for (int pattern = 0; pattern < 4; pattern++) {
                    float[] q = rand(HS + 3), k = rand(n * HS + 5), val = rand(n * HS + 5);
                    byte[] mask = maskPattern(n, pattern);
                    boolean any = false;
                    for (byte m : mask) any |= m != 0;
                    // garbage in masked slots must not leak into the output (a pad row attends to all of them)
                    for (int i = 0; i < n && any; i++) {
                        if (mask[i] == 0) for (int d = 0; d < HS; d++) val[5 + i * HS + d] = Float.NaN;
                    }
                    float[] v = new float[HS], twin = new float[HS], scores = new float[n + 7];
                    Attention.attend(v, 0, q, 3, k, val, 5, mask, n, HS, 0.125f, scores);
                    Attention.attendScalar(twin, 0, q, 3, k, val, 5, mask, n, HS, 0.125f, scores, 0, any);
                    float[] ref = attentionReference(q, k, val, mask, n, HS);
                    String what = "attention HS=" + HS + " n=" + n + " mask pattern " + pattern;
                    // float sums of <= 40 terms of O(1) values against a double reference: 1e-5 is ~100 ulps
                    assertClose(v, ref, 1e-5, what);
                    assertClose(twin, ref, 1e-5, what + " (scalar twin)");
                }
            }
        }
    }

    @Test
    void prefillBlocksMatchReference() {
        // Attention.prefill4: a block of nq queries at slots s0 .. s0 + nq - 1 against a cache of s0 + nq slots;
        // strided queries and outputs, a key/value base offset, and masks that make some queries of a block pad rows
        int HS = 4 * Attention.L, QB = Attention.QB, qs = 3 * HS + 1, os = HS + 7, base = 5;
        for (int s0 : new int[] {0, 3, 37}) {
            for (int nq : new int[] {1, 5, QB}) {
                int n = s0 + nq;
                for (int pattern = 0; pattern < 4; pattern++) {
                    byte[] mask = new byte[n];
                    for (int p = 0; p < n; p++) {
                        boolean masked = switch (pattern) {
                            case 0 -> false;
                            case 1 -> p < s0 + nq / 2; // left padding: the block's first queries see only padding
                            case 2 -> p % 5 == 1;
                            default -> true;
                        };
                        mask[p] = (byte) (masked ? 0 : 1);
                    }
                    int first = 0;
                    while (first < n && mask[first] == 0) first++;
                    float[] q = rand(nq * qs), k = rand(base + n * HS), val = rand(base + n * HS);
                    // a padded slot after the first real one is skipped by every query (pad queries only reach
                    // slots before it), so garbage there must never show up in any output
                    for (int p = first + 1; p < n; p++) {
                        if (mask[p] == 0) for (int d = 0; d < HS; d++) val[base + p * HS + d] = Float.NaN;
                    }
                    float[] out = new float[nq * os], qT = new float[HS * QB], sT = new float[n * QB];
                    Attention.prefill4(out, 0, os, q, 0, qs, nq, k, val, base, mask, s0, 0.125f, qT, sT);
                    for (int i = 0; i < nq; i++) {
                        float[] ref = queryReference(q, i * qs, k, val, base, mask, s0 + i + 1, HS);
                        float[] got = Arrays.copyOfRange(out, i * os, i * os + HS);
                        // float sums of <= 53 terms of O(1) values against a double reference: 1e-5 is ~100 ulps
                        assertClose(got, ref, 1e-5, "prefill block s0=" + s0 + " nq=" + nq + " mask " + pattern + " query " + i);
                    }
                }
            }
        }
    }

    /** One query at q[qo..] over slots [0, n) of keys/values at base, in double; all slots when none is unmasked. */
    private static float[] queryReference(float[] q, int qo, float[] k, float[] val, int base, byte[] mask, int n, int HS) {
        boolean any = false;
        for (int p = 0; p < n; p++) any |= mask[p] != 0;
        double max = Double.NEGATIVE_INFINITY;
        double[] sc = new double[n];
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            double d = 0;
            for (int i = 0; i < HS; i++) d += (double) q[qo + i] * k[base + p * HS + i];
            sc[p] = d * 0.125;
            max = Math.max(max, sc[p]);
        }
        double sum = 0;
        for (int p = 0; p < n; p++) if (!any || mask[p] != 0) sum += Math.exp(sc[p] - max);
        double[] acc = new double[HS];
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            double w = Math.exp(sc[p] - max) / sum;
            for (int i = 0; i < HS; i++) acc[i] += w * val[base + p * HS + i];
        }
        float[] out = new float[HS];
        for (int i = 0; i < HS; i++) out[i] = (float) acc[i];
        return out;
    }

    /** Padding masks of n slots: 0 none masked, 1 every fourth, 2 pairs (two of every four), 3 all (a pad row). */
    static byte[] maskPattern(int n, int pattern) {
        byte[] mask = new byte[n];
        for (int i = 0; i < n; i++) {
            boolean masked = switch (pattern) {
                case 0 -> false;
                case 1 -> i % 4 == 0;
                case 2 -> i % 4 < 2;
                default -> true;
            };
            mask[i] = (byte) (masked ? 0 : 1);
        }
        return mask;
    }

    /** The attention of one query in double precision; all positions when every one is masked (a pad row). */
    private static float[] attentionReference(float[] q, float[] k, float[] val, byte[] mask, int n, int HS) {
        return queryReference(q, 3, k, val, 5, mask, n, HS);
    }

    @Test
    void parallelCoversEveryItemOnceAndPropagatesErrors() {
        int[] hits = new int[10_007];
        for (int rep = 0; rep < 50; rep++) {
            POOL.forRange(hits.length, 1, (a, z) -> {
                for (int i = a; i < z; i++) hits[i]++;
            });
        }
        for (int h : hits) assertTrue(h == 50);
        RuntimeException boom = new IllegalStateException("boom");
        try {
            POOL.forRange(100, 1, (a, z) -> {
                if (a == 0) throw boom;
            });
            throw new AssertionError("no exception");
        } catch (IllegalStateException e) {
            assertTrue(e == boom);
        }
    }

    /**
     * The pool reuses one job slot: back-to-back jobs of different sizes (1 to 40 items, so chunk counts differ from
     * job to job), with one task object, must each cover every item exactly once, and a job after a failed one
     * must run normally. Stresses the generation stamp that keeps a late worker out of the next job.
     */
    @Test
    void reusedJobSlotNeverMixesJobs() {
        try (Parallel pool = new Parallel(3)) {
            int[] hits = new int[40];
            int[] size = new int[1];
            Parallel.RangeTask task = (a, z) -> {
                for (int i = a; i < z; i++) {
                    if (i >= size[0]) throw new AssertionError("item " + i + " of a job of " + size[0]);
                    hits[i]++;
                }
            };
            for (int rep = 0; rep < 20_000; rep++) {
                int n = 1 + rep % 40;
                size[0] = n;
                java.util.Arrays.fill(hits, 0);
                pool.forRange(n, 1, task);
                for (int i = 0; i < n; i++) if (hits[i] != 1) throw new AssertionError("job " + rep + ": item " + i + " ran " + hits[i] + " times");
                if (rep % 1000 == 0) {
                    assertThrows(IllegalStateException.class, () -> pool.forRange(8, 1, (a, z) -> {
                        throw new IllegalStateException("boom");
                    }));
                }
            }
        }
    }
}
