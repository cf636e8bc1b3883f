package io.gpt2j.core.kernels;

import io.gpt2j.core.io.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Matmuls over weights in any stored dtype (F32, F16, BF16, Q8_0) without widening the whole tensor: each part of
 * the work widens a cache-sized panel of the weight ({@link Dequant}) into its own F32 scratch and runs the F32
 * micro-kernels of {@link MatMul} on it. F32 weights go straight to {@link MatMul}. Scratch lives in a caller-owned
 * {@link Work}; nothing is allocated per call once it has grown.
 */
public final class TypedMatMul {
    private TypedMatMul() {
    }

    static final int NB = MatMul.NB, RB = MatMul.RB, VB = 16;

    /** Caller-owned scratch: partial sums, per-part F32 panels and per-part output tiles. Not thread-safe. */
    public static final class Work {
        float[] partial = new float[0];
        float[][] tiles = new float[0][];
        MemorySegment panels = MemorySegment.NULL;

        float[] partial(int n) {
            if (partial.length < n) partial = new float[n];
            return partial;
        }

        float[][] tiles(int parts, int n) {
            if (tiles.length < parts || tiles[0].length < n) {
                tiles = new float[parts][n];
            }
            return tiles;
        }

        /** parts panels of {@code floats} each, native, 64-byte aligned. */
        MemorySegment panels(int parts, long floats) {
            if (panels.byteSize() < 4L * parts * floats) panels = Arena.ofAuto().allocate(4L * parts * floats, 64);
            return panels;
        }
    }

    /** out (T,OC) = inp (T,C) @ w (C,OC) + bias (OC, F32, may be null), w stored as {@code dt}. */
    public static void conv1d(float[] out, float[] inp, MemorySegment w, DType dt, MemorySegment bias,
                              int T, int C, int OC, Parallel pool, Work work) {
        if (dt == DType.F32) {
            MatMul.conv1d(out, inp, w, bias, T, C, OC, pool, work.partial(MatMul.partialFloats(T, OC, pool.threads())));
            return;
        }
        if (Kernels.SCALAR) {
            pool.forRange(OC, 64, (j0, j1) -> conv1dScalar(out, inp, w, dt, bias, T, C, OC, j0, j1));
            return;
        }
        int parts = Math.min(MatMul.streamParts(pool.threads()), T <= MatMul.STREAM_ROWS ? C : (OC + NB - 1) / NB);
        if (T <= MatMul.STREAM_ROWS) {
            int size = T * OC, rowsPer = (C + parts - 1) / parts;
            float[] partial = work.partial(parts * size);
            MemorySegment panels = work.panels(parts, (long) RB * OC);
            pool.forRange(parts, 1, (p0, p1) -> {
                for (int p = p0; p < p1; p++) {
                    int c0 = p * rowsPer, c1 = Math.min(C, (p + 1) * rowsPer);
                    if (fused(T, dt, OC)) streamPart1(partial, p * size, inp, w, dt, OC, c0, c1);
                    else streamPart(partial, p * size, inp, w, dt, panels, (long) p * RB * OC, T, C, OC, c0, c1);
                }
            });
            MatMul.reduceParts(out, partial, bias, parts, size, OC);
            return;
        }
        int blocks = (OC + NB - 1) / NB, blocksPer = (blocks + parts - 1) / parts;
        MemorySegment panels = work.panels(parts, (long) C * NB);
        float[][] tiles = work.tiles(parts, T * NB);
        pool.forRange(parts, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                for (int b = p * blocksPer; b < Math.min(blocks, (p + 1) * blocksPer); b++) {
                    panelBlock(out, inp, w, dt, bias, panels, (long) p * C * NB, tiles[p], T, C, OC, b * NB);
                }
            }
        });
    }

    /**
     * One row (T = 1, single-sequence decode): widening fused into the multiply-add, so the reduced-precision
     * weight is read once from memory and never stored widened. Q8_0 needs whole blocks per weight row.
     */
    static boolean fused(int T, DType dt, int OC) {
        return T == 1 && (dt != DType.Q8_0 || (OC % Dequant.QK == 0 && Dequant.QK % Dequant.L == 0 && Dequant.L >= 8));
    }

    static void streamPart1(float[] acc, int a, float[] inp, MemorySegment w, DType dt, int OC, int c0, int c1) {
        java.util.Arrays.fill(acc, a, a + OC, 0f);
        for (int c = c0; c < c1; c++) {
            float x = inp[c];
            switch (dt) {
                case BF16 -> axpyBf16(acc, a, x, w, (long) c * OC, OC);
                case F16 -> axpyF16(acc, a, x, w, (long) c * OC, OC);
                default -> axpyQ8(acc, a, x, w, (long) c * OC, OC);
            }
        }
    }

    private static void axpyBf16(float[] acc, int a, float x, MemorySegment w, long e, int OC) {
        FloatVector xv = FloatVector.broadcast(Dequant.S, x);
        int j = 0, L = Dequant.L;
        for (; j + L <= OC; j += L) {
            IntVector i = (IntVector) ShortVector.fromMemorySegment(Dequant.SS, w, 2 * (e + j), Dequant.LE)
                    .convertShape(VectorOperators.S2I, Dequant.IS, 0);
            i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(xv, FloatVector.fromArray(Dequant.S, acc, a + j)).intoArray(acc, a + j);
        }
        for (; j < OC; j++) acc[a + j] += x * Dequant.scalarAt(w, DType.BF16, e + j);
    }

    private static void axpyF16(float[] acc, int a, float x, MemorySegment w, long e, int OC) {
        // the 2^112 rescale of the widening is folded into x; an |x| so large that x * 2^112 could overflow
        // (never seen after layer norm or gelu) takes the unfused widening
        if (!(Math.abs(x) < 0x1p14f)) {
            for (int j = 0; j < OC; j++) acc[a + j] += x * Dequant.scalarAt(w, DType.F16, e + j);
            return;
        }
        FloatVector xv = FloatVector.broadcast(Dequant.S, x * 0x1p112f);
        int j = 0, L = Dequant.L;
        for (; j + L <= OC; j += L) {
            IntVector i = (IntVector) ShortVector.fromMemorySegment(Dequant.SS, w, 2 * (e + j), Dequant.LE)
                    .convertShape(VectorOperators.S2I, Dequant.IS, 0);
            i.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats()
                    .fma(xv, FloatVector.fromArray(Dequant.S, acc, a + j)).intoArray(acc, a + j);
        }
        for (; j < OC; j++) acc[a + j] += x * Dequant.scalarAt(w, DType.F16, e + j);
    }

    private static void axpyQ8(float[] acc, int a, float x, MemorySegment w, long e, int OC) {
        int L = Dequant.L;
        for (int j = 0; j < OC; j += Dequant.QK) {
            long b = (e + j) / Dequant.QK * Dequant.QBYTES;
            FloatVector xs = FloatVector.broadcast(Dequant.S, x * Float.float16ToFloat(w.get(Dequant.I16, b)));
            for (int u = 0; u < Dequant.QK; u += L) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(Dequant.BS, w, b + 2 + u, Dequant.LE)
                        .convertShape(VectorOperators.B2F, Dequant.S, 0);
                q.fma(xs, FloatVector.fromArray(Dequant.S, acc, a + j + u)).intoArray(acc, a + j + u);
            }
        }
    }

    /** Rows [c0, c1) of the weight, RB at a time: widen the rows into the panel, accumulate into acc. */
    static void streamPart(float[] acc, int a, float[] inp, MemorySegment w, DType dt, MemorySegment panels, long po,
                           int T, int C, int OC, int c0, int c1) {
        java.util.Arrays.fill(acc, a, a + T * OC, 0f);
        MemorySegment panel = panels.asSlice(4 * po, 4L * RB * OC);
        for (int rb = c0; rb < c1; rb += RB) {
            int n = Math.min(RB, c1 - rb);
            Dequant.toF32(panel, 0, w, dt, (long) rb * OC, n * OC);
            if (T >= MatMul.TILED_ROWS) MatMul.conv1dRowsTiled(acc, a, inp, rb, panel, T, C, OC, 0, n);
            else MatMul.conv1dRows(acc, a, inp, rb, panel, T, C, OC, 0, n);
        }
    }

    /** Output columns [j, j + NB): widen the (C, NB) column panel, run the F32 tile kernel into tile, copy out. */
    static void panelBlock(float[] out, float[] inp, MemorySegment w, DType dt, MemorySegment bias, MemorySegment panels,
                           long po, float[] tile, int T, int C, int OC, int j) {
        int nb = Math.min(NB, OC - j);
        MemorySegment panel = panels.asSlice(4 * po, 4L * C * nb);
        for (int c = 0; c < C; c++) Dequant.toF32(panel, (long) c * nb, w, dt, (long) c * OC + j, nb);
        MemorySegment b = bias == null ? null : bias.asSlice(4L * j, 4L * nb);
        // the packed panel streams contiguously, so the plain tile kernel beats the C-blocked one here
        // (gpt2-large Q8_0 prefill 256 tokens: 105-110 vs 48-53 tok/s)
        MatMul.conv1dBlocks(tile, inp, panel, b, T, C, nb, 0, nb, false);
        for (int t = 0; t < T; t++) System.arraycopy(tile, t * nb, out, t * OC + j, nb);
    }

    /** Scalar twin of {@link #conv1d}: columns [j0, j1). */
    public static void conv1dScalar(float[] out, float[] inp, MemorySegment w, DType dt, MemorySegment bias,
                                    int T, int C, int OC, int j0, int j1) {
        for (int t = 0; t < T; t++) {
            for (int j = j0; j < j1; j++) {
                float acc = bias == null ? 0f : bias.getAtIndex(MatMul.F32, j);
                for (int c = 0; c < C; c++) acc += inp[t * C + c] * Dequant.scalarAt(w, dt, (long) c * OC + j);
                out[t * OC + j] = acc;
            }
        }
    }

    /** out (T,V) = inp (T,C) @ w (V,C)^T, w stored as {@code dt}: the tied LM head. */
    public static void linearT(float[] out, float[] inp, MemorySegment w, DType dt, int T, int C, int V, Parallel pool, Work work) {
        if (dt == DType.F32) {
            MatMul.linearT(out, inp, w, T, C, V, pool);
            return;
        }
        if (Kernels.SCALAR) {
            pool.forRange(V, 256, (v0, v1) -> linearTScalar(out, inp, w, dt, T, C, V, v0, v1));
            return;
        }
        if (T == 1 && (dt != DType.Q8_0 || (C % Dequant.QK == 0 && Dequant.QK % Dequant.L == 0 && Dequant.L >= 8))) {
            pool.forRange(V, 256, (v0, v1) -> {
                for (int v = v0; v < v1; v++) out[v] = dot1(inp, w, dt, (long) v * C, C);
            });
            return;
        }
        int parts = Math.min(4 * pool.threads(), (V + VB - 1) / VB);
        int groups = (V + VB - 1) / VB, groupsPer = (groups + parts - 1) / parts;
        MemorySegment panels = work.panels(parts, (long) VB * C);
        pool.forRange(parts, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                MemorySegment panel = panels.asSlice(4L * p * VB * C, 4L * VB * C);
                for (int g = p * groupsPer; g < Math.min(groups, (p + 1) * groupsPer); g++) {
                    int v0 = g * VB, v1 = Math.min(V, v0 + VB);
                    Dequant.toF32(panel, 0, w, dt, (long) v0 * C, (v1 - v0) * C);
                    MatMul.linearTRows(out, inp, panel, -4L * v0 * C, T, C, V, v0, v1);
                }
            }
        });
    }

    /** inp[0, C) . (row of w starting at element e), widening in registers (single-row LM head). */
    static float dot1(float[] inp, MemorySegment w, DType dt, long e, int C) {
        int L = Dequant.L, c = 0;
        FloatVector acc = FloatVector.zero(Dequant.S);
        switch (dt) {
            case BF16 -> {
                for (; c + L <= C; c += L) {
                    IntVector i = (IntVector) ShortVector.fromMemorySegment(Dequant.SS, w, 2 * (e + c), Dequant.LE)
                            .convertShape(VectorOperators.S2I, Dequant.IS, 0);
                    acc = i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(Dequant.S, inp, c), acc);
                }
            }
            case F16 -> {
                for (; c + L <= C; c += L) {
                    IntVector i = (IntVector) ShortVector.fromMemorySegment(Dequant.SS, w, 2 * (e + c), Dequant.LE)
                            .convertShape(VectorOperators.S2I, Dequant.IS, 0);
                    acc = i.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f)
                            .fma(FloatVector.fromArray(Dequant.S, inp, c), acc);
                }
            }
            default -> {
                for (; c < C; c += Dequant.QK) {
                    long b = (e + c) / Dequant.QK * Dequant.QBYTES;
                    FloatVector d = FloatVector.broadcast(Dequant.S, Float.float16ToFloat(w.get(Dequant.I16, b)));
                    for (int u = 0; u < Dequant.QK; u += L) {
                        FloatVector q = (FloatVector) ByteVector.fromMemorySegment(Dequant.BS, w, b + 2 + u, Dequant.LE)
                                .convertShape(VectorOperators.B2F, Dequant.S, 0);
                        acc = q.mul(d).fma(FloatVector.fromArray(Dequant.S, inp, c + u), acc);
                    }
                }
            }
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; c < C; c++) s += inp[c] * Dequant.scalarAt(w, dt, e + c);
        return s;
    }

    /** Scalar twin of {@link #linearT}: output columns [v0, v1). */
    public static void linearTScalar(float[] out, float[] inp, MemorySegment w, DType dt, int T, int C, int V, int v0, int v1) {
        for (int v = v0; v < v1; v++) {
            for (int t = 0; t < T; t++) {
                float acc = 0f;
                for (int c = 0; c < C; c++) acc += inp[t * C + c] * Dequant.scalarAt(w, dt, (long) v * C + c);
                out[t * V + v] = acc;
            }
        }
    }
}
