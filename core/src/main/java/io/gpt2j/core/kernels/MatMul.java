package io.gpt2j.core.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix products over F32 weights kept in memory-mapped (or off-heap) little-endian segments, in the two
 * layouts GPT-2 needs: Conv1D {@code x @ W} with W [C, OC] and the tied LM head {@code x @ wte^T} with wte [V, C].
 * Static, allocation-free in the inner loops; each vector kernel has a scalar twin ({@link Kernels#SCALAR}).
 */
public final class MatMul {
    private MatMul() {
    }

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Columns per micro-kernel block: 4 vectors. */
    static final int NB = 4 * L;

    /**
     * out (T,OC) = inp (T,C) @ w (C,OC) + bias (OC). bias may be null. Work split over column blocks.
     */
    public static void conv1d(float[] out, float[] inp, MemorySegment w, MemorySegment bias,
                              int T, int C, int OC, Parallel pool) {
        if (Kernels.SCALAR) {
            pool.forRange(OC, 64, (j0, j1) -> conv1dScalar(out, inp, w, bias, T, C, OC, j0, j1));
            return;
        }
        int blocks = (OC + NB - 1) / NB;
        pool.forRange(blocks, 1, (b0, b1) -> conv1dBlocks(out, inp, w, bias, T, C, OC, b0 * NB, Math.min(OC, b1 * NB)));
    }

    /** Scalar twin of {@link #conv1d}: columns [j0, j1). */
    public static void conv1dScalar(float[] out, float[] inp, MemorySegment w, MemorySegment bias,
                                    int T, int C, int OC, int j0, int j1) {
        for (int t = 0; t < T; t++) {
            for (int j = j0; j < j1; j++) {
                float acc = bias == null ? 0f : bias.getAtIndex(F32, j);
                for (int c = 0; c < C; c++) acc += inp[t * C + c] * w.getAtIndex(F32, (long) c * OC + j);
                out[t * OC + j] = acc;
            }
        }
    }

    static void conv1dBlocks(float[] out, float[] inp, MemorySegment w, MemorySegment bias,
                             int T, int C, int OC, int j0, int j1) {
        int j = j0;
        for (; j + NB <= j1; j += NB) {
            int t = 0;
            for (; t + 4 <= T; t += 4) tile4x4(out, inp, w, bias, C, OC, t, j);
            for (; t < T; t++) tile1x4(out, inp, w, bias, C, OC, t, j);
        }
        for (; j + L <= j1; j += L) {
            for (int t = 0; t < T; t++) tile1x1(out, inp, w, bias, C, OC, t, j);
        }
        if (j < j1) conv1dScalar(out, inp, w, bias, T, C, OC, j, j1);
    }

    private static void tile4x4(float[] out, float[] inp, MemorySegment w, MemorySegment bias, int C, int OC, int t, int j) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int r0 = t * C, r1 = r0 + C, r2 = r1 + C, r3 = r2 + C;
        long rowBytes = (long) OC * 4;
        long off = (long) j * 4;
        for (int c = 0; c < C; c++, off += rowBytes) {
            FloatVector w0 = FloatVector.fromMemorySegment(S, w, off, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(S, w, off + 4L * L, LE);
            FloatVector w2 = FloatVector.fromMemorySegment(S, w, off + 8L * L, LE);
            FloatVector w3 = FloatVector.fromMemorySegment(S, w, off + 12L * L, LE);
            FloatVector x = FloatVector.broadcast(S, inp[r0 + c]);
            a00 = w0.fma(x, a00); a01 = w1.fma(x, a01); a02 = w2.fma(x, a02); a03 = w3.fma(x, a03);
            x = FloatVector.broadcast(S, inp[r1 + c]);
            a10 = w0.fma(x, a10); a11 = w1.fma(x, a11); a12 = w2.fma(x, a12); a13 = w3.fma(x, a13);
            x = FloatVector.broadcast(S, inp[r2 + c]);
            a20 = w0.fma(x, a20); a21 = w1.fma(x, a21); a22 = w2.fma(x, a22); a23 = w3.fma(x, a23);
            x = FloatVector.broadcast(S, inp[r3 + c]);
            a30 = w0.fma(x, a30); a31 = w1.fma(x, a31); a32 = w2.fma(x, a32); a33 = w3.fma(x, a33);
        }
        store4(out, bias, t * OC + j, j, a00, a01, a02, a03);
        store4(out, bias, (t + 1) * OC + j, j, a10, a11, a12, a13);
        store4(out, bias, (t + 2) * OC + j, j, a20, a21, a22, a23);
        store4(out, bias, (t + 3) * OC + j, j, a30, a31, a32, a33);
    }

    private static void tile1x4(float[] out, float[] inp, MemorySegment w, MemorySegment bias, int C, int OC, int t, int j) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int r0 = t * C;
        long rowBytes = (long) OC * 4;
        long off = (long) j * 4;
        for (int c = 0; c < C; c++, off += rowBytes) {
            FloatVector x = FloatVector.broadcast(S, inp[r0 + c]);
            a0 = FloatVector.fromMemorySegment(S, w, off, LE).fma(x, a0);
            a1 = FloatVector.fromMemorySegment(S, w, off + 4L * L, LE).fma(x, a1);
            a2 = FloatVector.fromMemorySegment(S, w, off + 8L * L, LE).fma(x, a2);
            a3 = FloatVector.fromMemorySegment(S, w, off + 12L * L, LE).fma(x, a3);
        }
        store4(out, bias, t * OC + j, j, a0, a1, a2, a3);
    }

    private static void tile1x1(float[] out, float[] inp, MemorySegment w, MemorySegment bias, int C, int OC, int t, int j) {
        FloatVector a0 = FloatVector.zero(S);
        int r0 = t * C;
        long rowBytes = (long) OC * 4;
        long off = (long) j * 4;
        for (int c = 0; c < C; c++, off += rowBytes) {
            a0 = FloatVector.fromMemorySegment(S, w, off, LE).fma(FloatVector.broadcast(S, inp[r0 + c]), a0);
        }
        if (bias != null) a0 = a0.add(FloatVector.fromMemorySegment(S, bias, (long) j * 4, LE));
        a0.intoArray(out, t * OC + j);
    }

    private static void store4(float[] out, MemorySegment bias, int o, int j,
                               FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        if (bias != null) {
            long bo = (long) j * 4;
            a0 = a0.add(FloatVector.fromMemorySegment(S, bias, bo, LE));
            a1 = a1.add(FloatVector.fromMemorySegment(S, bias, bo + 4L * L, LE));
            a2 = a2.add(FloatVector.fromMemorySegment(S, bias, bo + 8L * L, LE));
            a3 = a3.add(FloatVector.fromMemorySegment(S, bias, bo + 12L * L, LE));
        }
        a0.intoArray(out, o);
        a1.intoArray(out, o + L);
        a2.intoArray(out, o + 2 * L);
        a3.intoArray(out, o + 3 * L);
    }

    /**
     * out (T,V) = inp (T,C) @ w (V,C)^T: the tied LM head. Rows of w are contiguous; split over V.
     * {@code outStride} lets callers write rows into a larger buffer (use V for packed output).
     */
    public static void linearT(float[] out, float[] inp, MemorySegment w, int T, int C, int V, Parallel pool) {
        if (Kernels.SCALAR) {
            pool.forRange(V, 256, (v0, v1) -> linearTScalar(out, inp, w, T, C, V, v0, v1));
            return;
        }
        pool.forRange(V, 256, (v0, v1) -> linearTRows(out, inp, w, T, C, V, v0, v1));
    }

    /** Scalar twin of {@link #linearT}: output columns [v0, v1). */
    public static void linearTScalar(float[] out, float[] inp, MemorySegment w, int T, int C, int V, int v0, int v1) {
        for (int v = v0; v < v1; v++) {
            long base = (long) v * C;
            for (int t = 0; t < T; t++) {
                float acc = 0f;
                for (int c = 0; c < C; c++) acc += inp[t * C + c] * w.getAtIndex(F32, base + c);
                out[t * V + v] = acc;
            }
        }
    }

    static void linearTRows(float[] out, float[] inp, MemorySegment w, int T, int C, int V, int v0, int v1) {
        int cv = C - C % L;
        for (int v = v0; v < v1; v++) {
            long base = (long) v * C * 4;
            int t = 0;
            for (; t + 4 <= T; t += 4) {
                FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                int r0 = t * C, r1 = r0 + C, r2 = r1 + C, r3 = r2 + C;
                for (int c = 0; c < cv; c += L) {
                    FloatVector wv = FloatVector.fromMemorySegment(S, w, base + 4L * c, LE);
                    a0 = wv.fma(FloatVector.fromArray(S, inp, r0 + c), a0);
                    a1 = wv.fma(FloatVector.fromArray(S, inp, r1 + c), a1);
                    a2 = wv.fma(FloatVector.fromArray(S, inp, r2 + c), a2);
                    a3 = wv.fma(FloatVector.fromArray(S, inp, r3 + c), a3);
                }
                float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
                float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
                for (int c = cv; c < C; c++) {
                    float wc = w.get(F32, base + 4L * c);
                    s0 += wc * inp[r0 + c];
                    s1 += wc * inp[r1 + c];
                    s2 += wc * inp[r2 + c];
                    s3 += wc * inp[r3 + c];
                }
                out[t * V + v] = s0;
                out[(t + 1) * V + v] = s1;
                out[(t + 2) * V + v] = s2;
                out[(t + 3) * V + v] = s3;
            }
            for (; t < T; t++) {
                FloatVector a0 = FloatVector.zero(S);
                int r0 = t * C;
                for (int c = 0; c < cv; c += L) {
                    a0 = FloatVector.fromMemorySegment(S, w, base + 4L * c, LE).fma(FloatVector.fromArray(S, inp, r0 + c), a0);
                }
                float s0 = a0.reduceLanes(VectorOperators.ADD);
                for (int c = cv; c < C; c++) s0 += w.get(F32, base + 4L * c) * inp[r0 + c];
                out[t * V + v] = s0;
            }
        }
    }
}
