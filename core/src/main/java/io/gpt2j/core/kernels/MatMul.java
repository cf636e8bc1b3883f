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

    /**
     * Rows at or below this take the streaming kernel: the weight is split by input rows so every thread reads
     * its share front to back (the hardware prefetcher follows one contiguous stream), instead of walking narrow
     * column blocks with a stride of OC*4 bytes, which crosses a 4 KiB page on every row and defeats it.
     */
    public static final int STREAM_ROWS = 8;
    /** From this many rows on, the streaming kernel uses register tiles (4 rows x 2 vectors). */
    static final int TILED_ROWS = 4;

    /** Floats of scratch {@link #conv1d(float[], float[], MemorySegment, MemorySegment, int, int, int, Parallel, float[])} needs. */
    public static int partialFloats(int T, int OC, int threads) {
        return T > STREAM_ROWS ? 0 : streamParts(threads) * T * OC;
    }

    /** Parts of the row split: two per thread, so a thread slowed by another process is not the critical path. */
    static int streamParts(int threads) {
        return threads == 1 ? 1 : 2 * threads;
    }

    /**
     * As {@link #conv1d(float[], float[], MemorySegment, MemorySegment, int, int, int, Parallel)}, with caller-owned
     * scratch of at least {@link #partialFloats} floats for the per-part partial sums of the streaming kernel.
     */
    public static void conv1d(float[] out, float[] inp, MemorySegment w, MemorySegment bias,
                              int T, int C, int OC, Parallel pool, float[] partial) {
        if (Kernels.SCALAR || T > STREAM_ROWS || partial == null || partial.length < partialFloats(T, OC, pool.threads())) {
            conv1d(out, inp, w, bias, T, C, OC, pool);
            return;
        }
        int parts = Math.min(streamParts(pool.threads()), C);
        int rowsPer = (C + parts - 1) / parts;
        int size = T * OC;
        pool.forRange(parts, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int c0 = p * rowsPer, c1 = Math.min(C, (p + 1) * rowsPer);
                java.util.Arrays.fill(partial, p * size, (p + 1) * size, 0f);
                if (T >= TILED_ROWS) conv1dRowsTiled(partial, p * size, inp, 0, w, T, C, OC, c0, c1);
                else conv1dRows(partial, p * size, inp, 0, w, T, C, OC, c0, c1);
            }
        });
        reduceParts(out, partial, bias, parts, size, OC);
    }

    /** out (T,OC) = bias + sum of the parts' partial sums, part p at acc[p*size]. */
    static void reduceParts(float[] out, float[] acc, MemorySegment bias, int parts, int size, int OC) {
        int T = size / OC;
        for (int t = 0; t < T; t++) {
            int o = t * OC, j = 0;
            for (; j + L <= OC; j += L) {
                FloatVector s = bias == null ? FloatVector.zero(S) : FloatVector.fromMemorySegment(S, bias, 4L * j, LE);
                for (int p = 0; p < parts; p++) s = s.add(FloatVector.fromArray(S, acc, p * size + o + j));
                s.intoArray(out, o + j);
            }
            for (; j < OC; j++) {
                float s = bias == null ? 0f : bias.getAtIndex(F32, j);
                for (int p = 0; p < parts; p++) s += acc[p * size + o + j];
                out[o + j] = s;
            }
        }
    }

    /** Weight rows per block of the tiled streaming kernel: the block (RB x OC floats) stays in L2 across t-groups. */
    static final int RB = 16;
    /** Input rows per block of the prefill kernel (see conv1dBlocks). */
    static final int KC = 256;

    /**
     * As {@link #conv1dRows} for more rows: register tiles of 4 rows x 2 vectors accumulate over RB weight rows at a
     * time, so each weight vector loaded feeds 4 FMAs and the accumulators touch memory once per RB rows.
     */
    static void conv1dRowsTiled(float[] acc, int a, float[] inp, int xo, MemorySegment w, int T, int C, int OC, int c0, int c1) {
        int jv = OC - OC % (2 * L);
        for (int rb = c0; rb < c1; rb += RB) {
            int re = Math.min(c1, rb + RB);
            for (int j = 0; j < jv; j += 2 * L) {
                int t = 0;
                for (; t + 4 <= T; t += 4) acc4x2(acc, a + t * OC + j, inp, t * C + xo, w, C, OC, j, rb, re);
                for (; t < T; t++) acc1x2(acc, a + t * OC + j, inp, t * C + xo, w, OC, j, rb, re);
            }
            for (int t = 0; t < T; t++) {
                for (int c = rb; c < re; c++) {
                    float x = inp[t * C + xo + c];
                    for (int j = jv; j < OC; j++) acc[a + t * OC + j] += x * w.get(F32, ((long) c * OC + j) * 4);
                }
            }
        }
    }

    private static void acc4x2(float[] acc, int o, float[] inp, int r0, MemorySegment w, int C, int OC, int j, int c0, int c1) {
        int o1 = o + OC, o2 = o1 + OC, o3 = o2 + OC;
        FloatVector a00 = FloatVector.fromArray(S, acc, o), a01 = FloatVector.fromArray(S, acc, o + L);
        FloatVector a10 = FloatVector.fromArray(S, acc, o1), a11 = FloatVector.fromArray(S, acc, o1 + L);
        FloatVector a20 = FloatVector.fromArray(S, acc, o2), a21 = FloatVector.fromArray(S, acc, o2 + L);
        FloatVector a30 = FloatVector.fromArray(S, acc, o3), a31 = FloatVector.fromArray(S, acc, o3 + L);
        int r1 = r0 + C, r2 = r1 + C, r3 = r2 + C;
        long rowBytes = (long) OC * 4;
        long off = ((long) c0 * OC + j) * 4;
        for (int c = c0; c < c1; c++, off += rowBytes) {
            FloatVector w0 = FloatVector.fromMemorySegment(S, w, off, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(S, w, off + 4L * L, LE);
            FloatVector x0 = FloatVector.broadcast(S, inp[r0 + c]);
            FloatVector x1 = FloatVector.broadcast(S, inp[r1 + c]);
            FloatVector x2 = FloatVector.broadcast(S, inp[r2 + c]);
            FloatVector x3 = FloatVector.broadcast(S, inp[r3 + c]);
            a00 = w0.fma(x0, a00);
            a01 = w1.fma(x0, a01);
            a10 = w0.fma(x1, a10);
            a11 = w1.fma(x1, a11);
            a20 = w0.fma(x2, a20);
            a21 = w1.fma(x2, a21);
            a30 = w0.fma(x3, a30);
            a31 = w1.fma(x3, a31);
        }
        a00.intoArray(acc, o);
        a01.intoArray(acc, o + L);
        a10.intoArray(acc, o1);
        a11.intoArray(acc, o1 + L);
        a20.intoArray(acc, o2);
        a21.intoArray(acc, o2 + L);
        a30.intoArray(acc, o3);
        a31.intoArray(acc, o3 + L);
    }

    private static void acc1x2(float[] acc, int o, float[] inp, int r0, MemorySegment w, int OC, int j, int c0, int c1) {
        FloatVector a0 = FloatVector.fromArray(S, acc, o), a1 = FloatVector.fromArray(S, acc, o + L);
        long rowBytes = (long) OC * 4;
        long off = ((long) c0 * OC + j) * 4;
        for (int c = c0; c < c1; c++, off += rowBytes) {
            FloatVector x = FloatVector.broadcast(S, inp[r0 + c]);
            a0 = FloatVector.fromMemorySegment(S, w, off, LE).fma(x, a0);
            a1 = FloatVector.fromMemorySegment(S, w, off + 4L * L, LE).fma(x, a1);
        }
        a0.intoArray(acc, o);
        a1.intoArray(acc, o + L);
    }

    /** Columns per pass of the streaming kernel: 4 weight rows and T accumulator rows of this width stay in L1. */
    static final int STREAM_COLS = 256;

    /** acc[a + t*OC + j] += sum over c in [c0, c1) of inp[t*C + xo + c] * w[c, j]: weight rows read in order. */
    static void conv1dRows(float[] acc, int a, float[] inp, int xo, MemorySegment w, int T, int C, int OC, int c0, int c1) {
        int c = c0;
        for (; c + 4 <= c1; c += 4) {
            long off = (long) c * OC * 4;
            int cols = T == 1 ? OC : STREAM_COLS;
            for (int j0 = 0; j0 < OC; j0 += cols) {
                int j1 = Math.min(OC, j0 + cols);
                for (int t = 0; t < T; t++) axpy4(acc, a + t * OC, inp, t * C + xo + c, w, off, OC, j0, j1);
            }
        }
        for (; c < c1; c++) {
            for (int t = 0; t < T; t++) axpy1(acc, a + t * OC, inp[t * C + xo + c], w, (long) c * OC * 4, OC);
        }
    }

    /** acc[o+j] += x[xi..xi+4) @ w[4 rows starting at byte offset off][j] for j in [j0, j1). */
    private static void axpy4(float[] acc, int o, float[] x, int xi, MemorySegment w, long off, int OC, int j0, int j1) {
        FloatVector x0 = FloatVector.broadcast(S, x[xi]), x1 = FloatVector.broadcast(S, x[xi + 1]);
        FloatVector x2 = FloatVector.broadcast(S, x[xi + 2]), x3 = FloatVector.broadcast(S, x[xi + 3]);
        long rb = (long) OC * 4;
        int j = j0;
        for (; j + L <= j1; j += L) {
            long p = off + 4L * j;
            FloatVector s = FloatVector.fromArray(S, acc, o + j);
            s = FloatVector.fromMemorySegment(S, w, p, LE).fma(x0, s);
            s = FloatVector.fromMemorySegment(S, w, p + rb, LE).fma(x1, s);
            s = FloatVector.fromMemorySegment(S, w, p + 2 * rb, LE).fma(x2, s);
            s = FloatVector.fromMemorySegment(S, w, p + 3 * rb, LE).fma(x3, s);
            s.intoArray(acc, o + j);
        }
        for (; j < j1; j++) {
            long p = off + 4L * j;
            acc[o + j] += x[xi] * w.get(F32, p) + x[xi + 1] * w.get(F32, p + rb)
                    + x[xi + 2] * w.get(F32, p + 2 * rb) + x[xi + 3] * w.get(F32, p + 3 * rb);
        }
    }

    private static void axpy1(float[] acc, int o, float x, MemorySegment w, long off, int OC) {
        FloatVector xv = FloatVector.broadcast(S, x);
        int j = 0;
        for (; j + L <= OC; j += L) {
            FloatVector.fromMemorySegment(S, w, off + 4L * j, LE).fma(xv, FloatVector.fromArray(S, acc, o + j)).intoArray(acc, o + j);
        }
        for (; j < OC; j++) acc[o + j] += x * w.get(F32, off + 4L * j);
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
        conv1dBlocks(out, inp, w, bias, T, C, OC, j0, j1, C > KC);
    }

    /** kBlocked: block the input dimension by KC (needed when w is strided; a packed (C, NB) panel streams well). */
    static void conv1dBlocks(float[] out, float[] inp, MemorySegment w, MemorySegment bias,
                             int T, int C, int OC, int j0, int j1, boolean kBlocked) {
        int j = j0;
        if (kBlocked) {
            // blocked over the input dimension too: a (KC x NB) weight panel (64 KiB) stays cached while every
            // group of 4 rows passes over it; a whole column panel (C x NB) outgrows L2 once C reaches ~4096
            for (; j + NB <= j1; j += NB) {
                for (int t = 0; t < T; t++) {
                    for (int k = 0; k < NB; k++) out[t * OC + j + k] = bias == null ? 0f : bias.getAtIndex(F32, j + k);
                }
                for (int k0 = 0; k0 < C; k0 += KC) {
                    int k1 = Math.min(C, k0 + KC);
                    int t = 0;
                    for (; t + 4 <= T; t += 4) {
                        acc4x2(out, t * OC + j, inp, t * C, w, C, OC, j, k0, k1);
                        acc4x2(out, t * OC + j + 2 * L, inp, t * C, w, C, OC, j + 2 * L, k0, k1);
                    }
                    for (; t < T; t++) {
                        acc1x2(out, t * OC + j, inp, t * C, w, OC, j, k0, k1);
                        acc1x2(out, t * OC + j + 2 * L, inp, t * C, w, OC, j + 2 * L, k0, k1);
                    }
                }
            }
        }
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

    // C2 inlines a bounded amount of code per compiled method; every Vector API call counts. A 4x4 tile (24 vector
    // calls per step) overflowed that budget and its last rows fell back to boxed vectors (hundreds of MB
    // allocated per call). 4 rows x 2 vectors (14 calls) stays intrinsified; a second call covers the next 2 vectors.
    private static void tile4x4(float[] out, float[] inp, MemorySegment w, MemorySegment bias, int C, int OC, int t, int j) {
        tile4x2(out, inp, w, bias, C, OC, t, j);
        tile4x2(out, inp, w, bias, C, OC, t, j + 2 * L);
    }

    private static void tile4x2(float[] out, float[] inp, MemorySegment w, MemorySegment bias, int C, int OC, int t, int j) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00;
        FloatVector a10 = a00, a11 = a00;
        FloatVector a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00;
        int r0 = t * C, r1 = r0 + C, r2 = r1 + C, r3 = r2 + C;
        long rowBytes = (long) OC * 4;
        long off = (long) j * 4;
        for (int c = 0; c < C; c++, off += rowBytes) {
            FloatVector w0 = FloatVector.fromMemorySegment(S, w, off, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(S, w, off + 4L * L, LE);
            FloatVector x0 = FloatVector.broadcast(S, inp[r0 + c]);
            FloatVector x1 = FloatVector.broadcast(S, inp[r1 + c]);
            FloatVector x2 = FloatVector.broadcast(S, inp[r2 + c]);
            FloatVector x3 = FloatVector.broadcast(S, inp[r3 + c]);
            a00 = w0.fma(x0, a00);
            a01 = w1.fma(x0, a01);
            a10 = w0.fma(x1, a10);
            a11 = w1.fma(x1, a11);
            a20 = w0.fma(x2, a20);
            a21 = w1.fma(x2, a21);
            a30 = w0.fma(x3, a30);
            a31 = w1.fma(x3, a31);
        }
        store2(out, bias, t * OC + j, j, a00, a01);
        store2(out, bias, (t + 1) * OC + j, j, a10, a11);
        store2(out, bias, (t + 2) * OC + j, j, a20, a21);
        store2(out, bias, (t + 3) * OC + j, j, a30, a31);
    }

    private static void store2(float[] out, MemorySegment bias, int o, int j, FloatVector a0, FloatVector a1) {
        if (bias != null) {
            long bo = (long) j * 4;
            a0 = a0.add(FloatVector.fromMemorySegment(S, bias, bo, LE));
            a1 = a1.add(FloatVector.fromMemorySegment(S, bias, bo + 4L * L, LE));
        }
        a0.intoArray(out, o);
        a1.intoArray(out, o + L);
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
        pool.forRange(V, 256, (v0, v1) -> linearTRows(out, inp, w, 0, T, C, V, v0, v1));
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

    static void linearTRows(float[] out, float[] inp, MemorySegment w, long wBase, int T, int C, int V, int v0, int v1) {
        int cv = C - C % L;
        int v = v0;
        if (T >= 4) {
            // two vocabulary rows per pass: each loaded input vector feeds two FMAs (6 loads per 8 FMAs, not 5 per 4)
            for (; v + 2 <= v1; v += 2) {
                long b0 = wBase + (long) v * C * 4;
                int t = 0;
                for (; t + 4 <= T; t += 4) dot2x4(out, inp, w, b0, b0 + 4L * C, t, C, V, v, cv);
                if (t < T) linearTRows(out, inp, w, wBase, T, C, V, v, v + 2, t);
            }
        }
        linearTRows(out, inp, w, wBase, T, C, V, v, v1, 0);
    }

    private static void dot2x4(float[] out, float[] inp, MemorySegment w, long b0, long b1, int t, int C, int V, int v, int cv) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        int r0 = t * C, r1 = r0 + C, r2 = r1 + C, r3 = r2 + C;
        for (int c = 0; c < cv; c += L) {
            FloatVector w0 = FloatVector.fromMemorySegment(S, w, b0 + 4L * c, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(S, w, b1 + 4L * c, LE);
            FloatVector x0 = FloatVector.fromArray(S, inp, r0 + c), x1 = FloatVector.fromArray(S, inp, r1 + c);
            FloatVector x2 = FloatVector.fromArray(S, inp, r2 + c), x3 = FloatVector.fromArray(S, inp, r3 + c);
            a0 = w0.fma(x0, a0);
            a1 = w0.fma(x1, a1);
            a2 = w0.fma(x2, a2);
            a3 = w0.fma(x3, a3);
            c0 = w1.fma(x0, c0);
            c1 = w1.fma(x1, c1);
            c2 = w1.fma(x2, c2);
            c3 = w1.fma(x3, c3);
        }
        out[t * V + v] = a0.reduceLanes(VectorOperators.ADD) + tail(inp, r0, w, b0, cv, C);
        out[(t + 1) * V + v] = a1.reduceLanes(VectorOperators.ADD) + tail(inp, r1, w, b0, cv, C);
        out[(t + 2) * V + v] = a2.reduceLanes(VectorOperators.ADD) + tail(inp, r2, w, b0, cv, C);
        out[(t + 3) * V + v] = a3.reduceLanes(VectorOperators.ADD) + tail(inp, r3, w, b0, cv, C);
        out[t * V + v + 1] = c0.reduceLanes(VectorOperators.ADD) + tail(inp, r0, w, b1, cv, C);
        out[(t + 1) * V + v + 1] = c1.reduceLanes(VectorOperators.ADD) + tail(inp, r1, w, b1, cv, C);
        out[(t + 2) * V + v + 1] = c2.reduceLanes(VectorOperators.ADD) + tail(inp, r2, w, b1, cv, C);
        out[(t + 3) * V + v + 1] = c3.reduceLanes(VectorOperators.ADD) + tail(inp, r3, w, b1, cv, C);
    }

    private static float tail(float[] inp, int r, MemorySegment w, long b, int cv, int C) {
        float s = 0f;
        for (int c = cv; c < C; c++) s += w.get(F32, b + 4L * c) * inp[r + c];
        return s;
    }

    /** Rows [v0, v1) of the LM head for input rows [tFrom, T), one vocabulary row at a time. */
    private static void linearTRows(float[] out, float[] inp, MemorySegment w, long wBase, int T, int C, int V, int v0, int v1, int tFrom) {
        int cv = C - C % L;
        for (int v = v0; v < v1; v++) {
            long base = wBase + (long) v * C * 4;
            int t = tFrom;
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
