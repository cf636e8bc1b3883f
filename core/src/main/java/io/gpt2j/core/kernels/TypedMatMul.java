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
 * micro-kernels of {@link MatMul} on it. F32 weights are read in place for few rows and copied into the same packed
 * panels for many. Scratch lives in a caller-owned {@link Work}; nothing is allocated per call once it has grown.
 */
public final class TypedMatMul {
    private TypedMatMul() {
    }

    static final int NB = MatMul.NB, RB = MatMul.RB, VB = 16;
    /**
     * linearT's fused multi-row kernels for 2-8 rows of reduced-precision weights; -Dgpt2j.nomultirow=true falls back
     * to the widened panels (the A/B switch behind the numbers in docs/performance.md).
     */
    static final boolean MULTI_ROW = !Boolean.getBoolean("gpt2j.nomultirow");

    /**
     * Caller-owned scratch: partial sums, per-part F32 panels and per-part output tiles, plus the operands of the
     * call in progress. The pool's tasks are created once with the Work and read those operands, so a matmul hands
     * the pool an existing object instead of a capturing lambda: nothing is allocated per call. Not thread-safe.
     */
    public static final class Work {
        float[] partial = new float[0];
        float[][] tiles = new float[0][];
        /** One native, 64-byte aligned F32 panel per part, all of the same size; kept as slices made once (asSlice
         *  allocates a segment object, which a per-call slice would do on every matmul). */
        MemorySegment[] panels = new MemorySegment[0];

        // operands of the call in progress (for linearT, OC is V); span = weight rows, blocks or groups per part
        private float[] out, inp;
        private MemorySegment w, bias;
        private DType dt;
        private int T, C, OC, size, span;

        // one task per kernel: a task whose body reaches several vector kernels gets them inlined together, and
        // C2 drops the Vector API intrinsics of a method that grows too big (seen: the F32 LM head allocating boxes)
        private final Parallel.RangeTask f32Stream = this::f32Stream, typedStream = this::typedStream,
                typedBlocks = this::typedBlocks, scalarColumns = this::scalarColumns,
                f32Head = this::f32Head, fusedF16 = this::fusedF16, fusedBf16 = this::fusedBf16, fusedQ8 = this::fusedQ8,
                typedHead = this::typedHead, fusedQ8Rows8 = this::fusedQ8Rows8, fusedQ8Rows4 = this::fusedQ8Rows4,
                fusedQ8Rows2 = this::fusedQ8Rows2, fusedF16Rows8 = this::fusedF16Rows8, fusedF16Rows4 = this::fusedF16Rows4,
                fusedF16Rows2 = this::fusedF16Rows2, fusedBf16Rows8 = this::fusedBf16Rows8, fusedBf16Rows4 = this::fusedBf16Rows4,
                fusedBf16Rows2 = this::fusedBf16Rows2,
                scalarHead = this::scalarHead;

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

        /** At least {@code parts} panels of at least {@code floats} floats each (grown to the largest call seen). */
        MemorySegment[] panels(int parts, long floats) {
            if (panels.length < parts || panels[0].byteSize() < 4L * floats) {
                int n = Math.max(parts, panels.length);
                long size = Math.max(4L * floats, panels.length == 0 ? 0 : panels[0].byteSize());
                size = (size + 63) & ~63L;
                MemorySegment all = Arena.ofAuto().allocate(size * n, 64);
                panels = new MemorySegment[n];
                for (int p = 0; p < n; p++) panels[p] = all.asSlice(p * size, size);
            }
            return panels;
        }

        private void set(float[] out, float[] inp, MemorySegment w, DType dt, MemorySegment bias, int T, int C, int OC) {
            this.out = out;
            this.inp = inp;
            this.w = w;
            this.dt = dt;
            this.bias = bias;
            this.T = T;
            this.C = C;
            this.OC = OC;
        }

        /** Drops the caller's arrays once the call is over (the Work may outlive them). */
        private void clear() {
            out = inp = null;
        }

        /** Streaming kernel, F32, parts [p0, p1): part p accumulates weight rows [p*span, (p+1)*span) into its partial sums. */
        private void f32Stream(int p0, int p1) {
            for (int p = p0; p < p1; p++) {
                int c0 = p * span, c1 = Math.min(C, c0 + span);
                java.util.Arrays.fill(partial, p * size, (p + 1) * size, 0f);
                if (T >= MatMul.TILED_ROWS) MatMul.conv1dRowsTiled(partial, p * size, inp, 0, w, T, C, OC, c0, c1);
                else MatMul.conv1dRows(partial, p * size, inp, 0, w, T, C, OC, c0, c1);
            }
        }

        /** As f32Stream for a reduced-precision weight: widened in registers (one row) or panel by panel. */
        private void typedStream(int p0, int p1) {
            for (int p = p0; p < p1; p++) {
                int c0 = p * span, c1 = Math.min(C, c0 + span);
                if (fused(T, dt, OC)) streamPart1(partial, p * size, inp, w, dt, OC, c0, c1);
                else streamPart(partial, p * size, inp, w, dt, panels[p], T, C, OC, c0, c1);
            }
        }

        /** Many rows, parts [p0, p1): part p packs (widens) and multiplies column blocks [p*span, ...). */
        private void typedBlocks(int p0, int p1) {
            int blocks = (OC + NB - 1) / NB;
            for (int p = p0; p < p1; p++) {
                for (int b = p * span; b < Math.min(blocks, (p + 1) * span); b++) {
                    panelBlock(out, inp, w, dt, bias, panels[p], tiles[p], T, C, OC, b * NB);
                }
            }
        }

        private void scalarColumns(int j0, int j1) {
            if (dt == DType.F32) MatMul.conv1dScalar(out, inp, w, bias, T, C, OC, j0, j1);
            else conv1dScalar(out, inp, w, dt, bias, T, C, OC, j0, j1);
        }

        /** LM head, vocabulary rows [v0, v1): F32 straight from the weight. */
        private void f32Head(int v0, int v1) {
            MatMul.linearTRows(out, inp, w, 0, T, C, OC, v0, v1);
        }

        /** LM head (or a transposed Conv1D weight), one input row, widened in registers: one task per dtype. */
        private void fusedF16(int v0, int v1) {
            for (int v = v0; v < v1; v++) out[v] = dotF16(inp, w, (long) v * C, C);
        }

        private void fusedBf16(int v0, int v1) {
            for (int v = v0; v < v1; v++) out[v] = dotBf16(inp, w, (long) v * C, C);
        }

        private void fusedQ8(int v0, int v1) {
            for (int v = v0; v < v1; v++) out[v] = dotQ8(inp, w, (long) v * C, C);
        }

        /** 5 to 8 input rows over Q8_0 rows of C values: output rows [v0, v1), two at a time (see q8Rows8). */
        private void fusedQ8Rows8(int v0, int v1) {
            int v = v0;
            for (; v + 2 <= v1; v += 2) q8Rows8(out, inp, w, T, C, OC, v);
            if (v < v1) linearTScalar(out, inp, w, DType.Q8_0, T, C, OC, v, v1);
        }

        /** As fusedQ8Rows8 for 3 or 4 rows; a task of its own, as every vector kernel here. */
        private void fusedQ8Rows4(int v0, int v1) {
            int v = v0;
            for (; v + 2 <= v1; v += 2) q8Rows4(out, inp, w, T, C, OC, v);
            if (v < v1) linearTScalar(out, inp, w, DType.Q8_0, T, C, OC, v, v1);
        }

        /** As fusedQ8Rows8 for 2 rows. */
        private void fusedQ8Rows2(int v0, int v1) {
            int v = v0;
            for (; v + 2 <= v1; v += 2) q8Rows2(out, inp, w, T, C, OC, v);
            if (v < v1) linearTScalar(out, inp, w, DType.Q8_0, T, C, OC, v, v1);
        }

        // the same over F16 and BF16 rows, one task per kernel
        private void fusedF16Rows8(int v0, int v1) {
            int v = v0;
            for (; v + 2 <= v1; v += 2) f16Rows8(out, inp, w, T, C, OC, v);
            if (v < v1) linearTScalar(out, inp, w, DType.F16, T, C, OC, v, v1);
        }

        private void fusedF16Rows4(int v0, int v1) {
            int v = v0;
            for (; v + 2 <= v1; v += 2) f16Rows4(out, inp, w, T, C, OC, v);
            if (v < v1) linearTScalar(out, inp, w, DType.F16, T, C, OC, v, v1);
        }

        private void fusedF16Rows2(int v0, int v1) {
            int v = v0;
            for (; v + 2 <= v1; v += 2) f16Rows2(out, inp, w, T, C, OC, v);
            if (v < v1) linearTScalar(out, inp, w, DType.F16, T, C, OC, v, v1);
        }

        private void fusedBf16Rows8(int v0, int v1) {
            int v = v0;
            for (; v + 2 <= v1; v += 2) bf16Rows8(out, inp, w, T, C, OC, v);
            if (v < v1) linearTScalar(out, inp, w, DType.BF16, T, C, OC, v, v1);
        }

        private void fusedBf16Rows4(int v0, int v1) {
            int v = v0;
            for (; v + 2 <= v1; v += 2) bf16Rows4(out, inp, w, T, C, OC, v);
            if (v < v1) linearTScalar(out, inp, w, DType.BF16, T, C, OC, v, v1);
        }

        private void fusedBf16Rows2(int v0, int v1) {
            int v = v0;
            for (; v + 2 <= v1; v += 2) bf16Rows2(out, inp, w, T, C, OC, v);
            if (v < v1) linearTScalar(out, inp, w, DType.BF16, T, C, OC, v, v1);
        }

        private void scalarHead(int v0, int v1) {
            if (dt == DType.F32) MatMul.linearTScalar(out, inp, w, T, C, OC, v0, v1);
            else linearTScalar(out, inp, w, dt, T, C, OC, v0, v1);
        }

        /** LM head, reduced precision, parts [p0, p1): part p widens groups of VB vocabulary rows into its panel. */
        private void typedHead(int p0, int p1) {
            int groups = (OC + VB - 1) / VB;
            for (int p = p0; p < p1; p++) {
                MemorySegment panel = panels[p];
                for (int g = p * span; g < Math.min(groups, (p + 1) * span); g++) {
                    int v0 = g * VB, v1 = Math.min(OC, v0 + VB);
                    Dequant.toF32(panel, 0, w, dt, (long) v0 * C, (v1 - v0) * C);
                    MatMul.linearTRows(out, inp, panel, -4L * v0 * C, T, C, OC, v0, v1);
                }
            }
        }
    }

    /** out[t*OC + j + k] = tile[t*nb + k] + bias[j + k] (k < nb): the tile's rows into the output, plus the bias. */
    private static void addBias(float[] out, float[] tile, MemorySegment bias, int T, int OC, int j, int nb) {
        int L = MatMul.L, kv = nb - nb % L;
        for (int t = 0; t < T; t++) {
            int o = t * OC + j, s = t * nb;
            for (int k = 0; k < kv; k += L) {
                FloatVector.fromArray(MatMul.S, tile, s + k).add(FloatVector.fromMemorySegment(MatMul.S, bias, 4L * (j + k), MatMul.LE))
                        .intoArray(out, o + k);
            }
            for (int k = kv; k < nb; k++) out[o + k] = tile[s + k] + bias.getAtIndex(MatMul.F32, j + k);
        }
    }

    /** out (T,OC) = inp (T,C) @ w (C,OC) + bias (OC, F32, may be null), w stored as {@code dt}. */
    public static void conv1d(float[] out, float[] inp, MemorySegment w, DType dt, MemorySegment bias,
                              int T, int C, int OC, Parallel pool, Work work) {
        work.set(out, inp, w, dt, bias, T, C, OC);
        try {
            if (Kernels.SCALAR) {
                pool.forRange(OC, 64, work.scalarColumns);
            } else if (dt.transposed() && T <= MatMul.STREAM_ROWS) {
                // the stored [OC, C] rows are an LM-head-shaped weight: one row is a dot product per output, read
                // as one sequential stream; a few rows widen groups of output rows into panels
                linearT(out, inp, w, dt.base(), T, C, OC, pool, work);
                if (bias != null) {
                    for (int t = 0; t < T; t++) {
                        for (int j = 0; j < OC; j++) out[t * OC + j] += bias.getAtIndex(MatMul.F32, j);
                    }
                }
            } else if (T <= MatMul.STREAM_ROWS) {
                int parts = Math.min(MatMul.streamParts(pool.threads()), C);
                work.size = T * OC;
                work.span = (C + parts - 1) / parts;
                work.partial(parts * work.size);
                if (dt != DType.F32) work.panels(parts, (long) RB * OC);
                pool.forRange(parts, 1, dt == DType.F32 ? work.f32Stream : work.typedStream);
                MatMul.reduceParts(out, work.partial, bias, parts, work.size, OC);
            } else {
                // F32 too: a packed (C, NB) panel streams contiguously through the 4x2 tiles, where the weight itself
                // has a stride of OC floats per row (gpt2-large's four matmuls at 512 rows, one thread, best CPU
                // time: 250 -> 200 ms, 80 -> 100 GFLOP/s); the copy is C*NB floats per T*C*NB*2 FLOPs
                int blocks = (OC + NB - 1) / NB, parts = Math.min(MatMul.streamParts(pool.threads()), blocks);
                work.span = (blocks + parts - 1) / parts;
                // transposed dtypes: each part also holds the NB output rows it widens before packing them as columns
                work.panels(parts, (long) C * NB * (dt.transposed() ? 2 : 1));
                work.tiles(parts, T * NB);
                pool.forRange(parts, 1, work.typedBlocks);
            }
        } finally {
            work.clear();
        }
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
        // four weight rows per pass: each accumulator vector is loaded and stored once per four rows, and the core
        // reads four streams at once (one stream tops out near 12 GB/s here, four reach the F32 kernel's ~22); per
        // element the products are still added in row order, so the sums equal the one-row loop's. gpt2-large c_fc,
        // one thread, best CPU time: Q8_0 0.79-0.94 -> 0.57-0.60 ms, F16 1.10-1.12 -> 0.77-0.79 ms
        // (two rows of F16/BF16 gained nothing). F16 rows with |x| >= 2^14 take the one-row path (see axpyF16)
        int c = c0;
        if (dt == DType.Q8_0) {
            for (; c + 4 <= c1; c += 4) axpy4Q8(acc, a, inp, c, w, OC);
        } else if (dt == DType.F16) {
            for (; c + 4 <= c1 && small4(inp, c); c += 4) axpy4F16(acc, a, inp, c, w, OC);
        } else {
            for (; c + 4 <= c1; c += 4) axpy4Bf16(acc, a, inp, c, w, OC);
        }
        for (; c < c1; c++) {
            float x = inp[c];
            switch (dt) {
                case BF16 -> axpyBf16(acc, a, x, w, (long) c * OC, OC);
                case F16 -> axpyF16(acc, a, x, w, (long) c * OC, OC);
                default -> axpyQ8(acc, a, x, w, (long) c * OC, OC);
            }
        }
    }

    private static boolean small4(float[] x, int c) {
        return Math.abs(x[c]) < 0x1p14f && Math.abs(x[c + 1]) < 0x1p14f && Math.abs(x[c + 2]) < 0x1p14f && Math.abs(x[c + 3]) < 0x1p14f;
    }

    /** acc += sum over r < 4 of inp[c + r] * row(c + r), F16 rows widened in registers, |inp| < 2^14. */
    private static void axpy4F16(float[] acc, int a, float[] inp, int c, MemorySegment w, int OC) {
        long e0 = (long) c * OC;
        FloatVector x0 = FloatVector.broadcast(Dequant.S, inp[c] * 0x1p112f), x1 = FloatVector.broadcast(Dequant.S, inp[c + 1] * 0x1p112f);
        FloatVector x2 = FloatVector.broadcast(Dequant.S, inp[c + 2] * 0x1p112f), x3 = FloatVector.broadcast(Dequant.S, inp[c + 3] * 0x1p112f);
        int j = 0, L = Dequant.L;
        for (; j + L <= OC; j += L) {
            FloatVector s = FloatVector.fromArray(Dequant.S, acc, a + j);
            s = h2f(w, e0 + j).fma(x0, s);
            s = h2f(w, e0 + OC + j).fma(x1, s);
            s = h2f(w, e0 + 2L * OC + j).fma(x2, s);
            h2f(w, e0 + 3L * OC + j).fma(x3, s).intoArray(acc, a + j);
        }
        for (; j < OC; j++) {
            for (int r = 0; r < 4; r++) acc[a + j] += inp[c + r] * Dequant.scalarAt(w, DType.F16, e0 + (long) r * OC + j);
        }
    }

    /** acc += sum over r < 4 of inp[c + r] * row(c + r), BF16 rows widened in registers. */
    private static void axpy4Bf16(float[] acc, int a, float[] inp, int c, MemorySegment w, int OC) {
        long e0 = (long) c * OC;
        FloatVector x0 = FloatVector.broadcast(Dequant.S, inp[c]), x1 = FloatVector.broadcast(Dequant.S, inp[c + 1]);
        FloatVector x2 = FloatVector.broadcast(Dequant.S, inp[c + 2]), x3 = FloatVector.broadcast(Dequant.S, inp[c + 3]);
        int j = 0, L = Dequant.L;
        for (; j + L <= OC; j += L) {
            FloatVector s = FloatVector.fromArray(Dequant.S, acc, a + j);
            s = bf2f(w, e0 + j).fma(x0, s);
            s = bf2f(w, e0 + OC + j).fma(x1, s);
            s = bf2f(w, e0 + 2L * OC + j).fma(x2, s);
            bf2f(w, e0 + 3L * OC + j).fma(x3, s).intoArray(acc, a + j);
        }
        for (; j < OC; j++) {
            for (int r = 0; r < 4; r++) acc[a + j] += inp[c + r] * Dequant.scalarAt(w, DType.BF16, e0 + (long) r * OC + j);
        }
    }

    /** L BF16 values at element e, as F32. */
    private static FloatVector bf2f(MemorySegment w, long e) {
        IntVector i = (IntVector) ShortVector.fromMemorySegment(Dequant.SS, w, 2 * e, Dequant.LE).convertShape(VectorOperators.S2I, Dequant.IS, 0);
        return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** L F16 values at element e, as F32 scaled by 2^-112 (the caller's x carries 2^112). */
    private static FloatVector h2f(MemorySegment w, long e) {
        IntVector i = (IntVector) ShortVector.fromMemorySegment(Dequant.SS, w, 2 * e, Dequant.LE).convertShape(VectorOperators.S2I, Dequant.IS, 0);
        return i.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
    }

    /** acc += sum over r < 4 of inp[c + r] * row(c + r), Q8_0 rows (whole blocks: OC % 32 == 0) widened in registers. */
    private static void axpy4Q8(float[] acc, int a, float[] inp, int c, MemorySegment w, int OC) {
        int L = Dequant.L;
        long row = (long) OC / Dequant.QK * Dequant.QBYTES, b0 = c * row;
        float x0 = inp[c], x1 = inp[c + 1], x2 = inp[c + 2], x3 = inp[c + 3];
        for (int j = 0; j < OC; j += Dequant.QK, b0 += Dequant.QBYTES) {
            long b1 = b0 + row, b2 = b1 + row, b3 = b2 + row;
            FloatVector s0 = FloatVector.broadcast(Dequant.S, x0 * Float.float16ToFloat(w.get(Dequant.I16, b0)));
            FloatVector s1 = FloatVector.broadcast(Dequant.S, x1 * Float.float16ToFloat(w.get(Dequant.I16, b1)));
            FloatVector s2 = FloatVector.broadcast(Dequant.S, x2 * Float.float16ToFloat(w.get(Dequant.I16, b2)));
            FloatVector s3 = FloatVector.broadcast(Dequant.S, x3 * Float.float16ToFloat(w.get(Dequant.I16, b3)));
            for (int u = 0; u < Dequant.QK; u += L) {
                FloatVector s = FloatVector.fromArray(Dequant.S, acc, a + j + u);
                s = q8(w, b0 + 2 + u).fma(s0, s);
                s = q8(w, b1 + 2 + u).fma(s1, s);
                s = q8(w, b2 + 2 + u).fma(s2, s);
                q8(w, b3 + 2 + u).fma(s3, s).intoArray(acc, a + j + u);
            }
        }
    }

    /** L int8 quants at byte offset o, widened to floats. */
    private static FloatVector q8(MemorySegment w, long o) {
        return (FloatVector) ByteVector.fromMemorySegment(Dequant.BS, w, o, Dequant.LE).convertShape(VectorOperators.B2F, Dequant.S, 0);
    }

    private static void axpyBf16(float[] acc, int a, float x, MemorySegment w, long e, int OC) {
        FloatVector xv = FloatVector.broadcast(Dequant.S, x);
        int j = 0, L = Dequant.L;
        for (; j + L <= OC; j += L) {
            bf2f(w, e + j).fma(xv, FloatVector.fromArray(Dequant.S, acc, a + j)).intoArray(acc, a + j);
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
            h2f(w, e + j).fma(xv, FloatVector.fromArray(Dequant.S, acc, a + j)).intoArray(acc, a + j);
        }
        for (; j < OC; j++) acc[a + j] += x * Dequant.scalarAt(w, DType.F16, e + j);
    }

    private static void axpyQ8(float[] acc, int a, float x, MemorySegment w, long e, int OC) {
        int L = Dequant.L;
        for (int j = 0; j < OC; j += Dequant.QK) {
            long b = (e + j) / Dequant.QK * Dequant.QBYTES;
            FloatVector xs = FloatVector.broadcast(Dequant.S, x * Float.float16ToFloat(w.get(Dequant.I16, b)));
            for (int u = 0; u < Dequant.QK; u += L) {
                q8(w, b + 2 + u).fma(xs, FloatVector.fromArray(Dequant.S, acc, a + j + u)).intoArray(acc, a + j + u);
            }
        }
    }

    /** Rows [c0, c1) of the weight, RB at a time: widen the rows into the panel (RB*OC floats), accumulate into acc. */
    static void streamPart(float[] acc, int a, float[] inp, MemorySegment w, DType dt, MemorySegment panel,
                           int T, int C, int OC, int c0, int c1) {
        java.util.Arrays.fill(acc, a, a + T * OC, 0f);
        for (int rb = c0; rb < c1; rb += RB) {
            int n = Math.min(RB, c1 - rb);
            Dequant.toF32(panel, 0, w, dt, (long) rb * OC, n * OC);
            if (T >= MatMul.TILED_ROWS) MatMul.conv1dRowsTiled(acc, a, inp, rb, panel, T, C, OC, 0, n);
            else MatMul.conv1dRows(acc, a, inp, rb, panel, T, C, OC, 0, n);
        }
    }

    /**
     * Output columns [j, j + NB): widen the (C, NB) column panel, run the F32 tile kernel into tile, copy out adding
     * the bias (the tile kernel would add it last too, so the sums are the same).
     */
    static void panelBlock(float[] out, float[] inp, MemorySegment w, DType dt, MemorySegment bias, MemorySegment panel,
                           float[] tile, int T, int C, int OC, int j) {
        int nb = Math.min(NB, OC - j);
        if (dt.transposed()) {
            // output rows j..j+nb are contiguous: widen them behind the panel, then pack them as its columns
            long raw = (long) C * NB;
            Dequant.toF32(panel, raw, w, dt.base(), (long) j * C, nb * C);
            Transpose.transpose(panel, raw, C, panel, 0, nb, nb, C);
        } else {
            for (int c = 0; c < C; c++) Dequant.toF32(panel, (long) c * nb, w, dt, (long) c * OC + j, nb);
        }
        // the packed panel streams contiguously, so the plain tile kernel beats the C-blocked one here
        // (gpt2-large Q8_0 prefill 256 tokens: 105-110 vs 48-53 tok/s)
        MatMul.conv1dBlocks(tile, inp, panel, null, T, C, nb, 0, nb, false);
        if (bias == null) {
            for (int t = 0; t < T; t++) System.arraycopy(tile, t * nb, out, t * OC + j, nb);
        } else {
            addBias(out, tile, bias, T, OC, j, nb);
        }
    }

    /** Scalar twin of {@link #conv1d}: columns [j0, j1). */
    public static void conv1dScalar(float[] out, float[] inp, MemorySegment w, DType dt, MemorySegment bias,
                                    int T, int C, int OC, int j0, int j1) {
        for (int t = 0; t < T; t++) {
            for (int j = j0; j < j1; j++) {
                float acc = bias == null ? 0f : bias.getAtIndex(MatMul.F32, j);
                for (int c = 0; c < C; c++) acc += inp[t * C + c] * weightAt(w, dt, C, OC, c, j);
                out[t * OC + j] = acc;
            }
        }
    }

    /** Element (c, j) of a Conv1D weight {@code [C, OC]} stored as {@code dt} (Q8_0_T keeps it at row j, column c). */
    public static float weightAt(MemorySegment w, DType dt, int C, int OC, int c, int j) {
        return dt.transposed() ? Dequant.scalarAt(w, dt.base(), (long) j * C + c) : Dequant.scalarAt(w, dt, (long) c * OC + j);
    }

    /** out (T,V) = inp (T,C) @ w (V,C)^T, w stored as {@code dt}: the tied LM head. */
    public static void linearT(float[] out, float[] inp, MemorySegment w, DType dt, int T, int C, int V, Parallel pool, Work work) {
        work.set(out, inp, w, dt, null, T, C, V);
        try {
            if (Kernels.SCALAR || dt == DType.F32) {
                pool.forRange(V, 256, Kernels.SCALAR ? work.scalarHead : work.f32Head);
                return;
            }
            if (T == 1 && (dt != DType.Q8_0 || (C % Dequant.QK == 0 && Dequant.QK % Dequant.L == 0 && Dequant.L >= 8))) {
                // chunks of at most 256 rows, at least 8 per thread (a 1280-row matmul in 256-row chunks splits 3:2)
                pool.forRange(V, Math.min(256, Math.max(16, V / (8 * pool.threads()))),
                        dt == DType.F16 ? work.fusedF16 : dt == DType.BF16 ? work.fusedBf16 : work.fusedQ8);
                return;
            }
            if (MULTI_ROW && T <= 8 && C % 32 == 0 && Dequant.L == 16) {
                // 2-8 rows: each weight block widened once in registers for all rows (q8Rows8 and its twins)
                Parallel.RangeTask task = switch (dt) {
                    case Q8_0 -> T <= 2 ? work.fusedQ8Rows2 : T <= 4 ? work.fusedQ8Rows4 : work.fusedQ8Rows8;
                    case F16 -> T <= 2 ? work.fusedF16Rows2 : T <= 4 ? work.fusedF16Rows4 : work.fusedF16Rows8;
                    default -> T <= 2 ? work.fusedBf16Rows2 : T <= 4 ? work.fusedBf16Rows4 : work.fusedBf16Rows8;
                };
                pool.forRange(V, Math.min(256, Math.max(16, V / (8 * pool.threads()))), task);
                return;
            }
            int parts = Math.min(4 * pool.threads(), (V + VB - 1) / VB);
            work.span = ((V + VB - 1) / VB + parts - 1) / parts;
            work.panels(parts, (long) VB * C);
            pool.forRange(parts, 1, work.typedHead);
        } finally {
            work.clear();
        }
    }

    // One method per dtype, each reached from its own pool task: with all three inlined into one task, C2 dropped
    // the Vector API intrinsics of the F16 loop (2.7 MB of vector boxes per gpt2 decode step). Two accumulator
    // chains each: one output row is one sequential stream, and a single FMA chain would bound it.

    static float dotBf16(float[] inp, MemorySegment w, long e, int C) {
        int L = Dequant.L, c = 0;
        FloatVector a0 = FloatVector.zero(Dequant.S), a1 = a0;
        for (; c + 2 * L <= C; c += 2 * L) {
            a0 = bf2f(w, e + c).fma(FloatVector.fromArray(Dequant.S, inp, c), a0);
            a1 = bf2f(w, e + c + L).fma(FloatVector.fromArray(Dequant.S, inp, c + L), a1);
        }
        if (c + L <= C) {
            a0 = bf2f(w, e + c).fma(FloatVector.fromArray(Dequant.S, inp, c), a0);
            c += L;
        }
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; c < C; c++) s += inp[c] * Dequant.scalarAt(w, DType.BF16, e + c);
        return s;
    }

    static float dotF16(float[] inp, MemorySegment w, long e, int C) {
        int L = Dequant.L, c = 0;
        FloatVector a0 = FloatVector.zero(Dequant.S), a1 = a0;
        for (; c + 2 * L <= C; c += 2 * L) {
            a0 = h2f(w, e + c).mul(0x1p112f).fma(FloatVector.fromArray(Dequant.S, inp, c), a0);
            a1 = h2f(w, e + c + L).mul(0x1p112f).fma(FloatVector.fromArray(Dequant.S, inp, c + L), a1);
        }
        if (c + L <= C) {
            a0 = h2f(w, e + c).mul(0x1p112f).fma(FloatVector.fromArray(Dequant.S, inp, c), a0);
            c += L;
        }
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; c < C; c++) s += inp[c] * Dequant.scalarAt(w, DType.F16, e + c);
        return s;
    }

    /** Q8_0 (C a multiple of QK): per block the products are summed first and scaled once, two blocks in flight. */
    /**
     * out[t*V + v + i] = dot(inp row t, Q8_0 row v + i) for i < 2, t < T <= 8: each block of both output rows is
     * widened and scaled once, in registers, and feeds 16 FMAs per vector (8 input rows x 2 outputs), where the
     * widened-panel path stores the rows as F32 and reads them back once per 4 input rows. Rows t >= T repeat row
     * T - 1 (computed, not stored). L = 16 (a block is two vectors).
     */
    static void q8Rows8(float[] out, float[] inp, MemorySegment w, int T, int C, int V, int v) {
        int r0 = 0, r1 = Math.min(1, T - 1) * C, r2 = Math.min(2, T - 1) * C, r3 = Math.min(3, T - 1) * C;
        int r4 = Math.min(4, T - 1) * C, r5 = Math.min(5, T - 1) * C, r6 = Math.min(6, T - 1) * C, r7 = Math.min(7, T - 1) * C;
        FloatVector a0 = FloatVector.zero(Dequant.S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
        int nb = C / Dequant.QK;
        long p = (long) v * nb * Dequant.QBYTES, q = p + (long) nb * Dequant.QBYTES;
        for (int k = 0; k < nb; k++, p += Dequant.QBYTES, q += Dequant.QBYTES) {
            float dp = Float.float16ToFloat(w.get(Dequant.I16, p)), dq = Float.float16ToFloat(w.get(Dequant.I16, q));
            FloatVector p0 = q8(w, p + 2).mul(dp), p1 = q8(w, p + 2 + 16).mul(dp);
            FloatVector q0 = q8(w, q + 2).mul(dq), q1 = q8(w, q + 2 + 16).mul(dq);
            int c = k * Dequant.QK;
            FloatVector x = FloatVector.fromArray(Dequant.S, inp, r0 + c), y = FloatVector.fromArray(Dequant.S, inp, r0 + c + 16);
            a0 = p1.fma(y, p0.fma(x, a0));
            b0 = q1.fma(y, q0.fma(x, b0));
            x = FloatVector.fromArray(Dequant.S, inp, r1 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r1 + c + 16);
            a1 = p1.fma(y, p0.fma(x, a1));
            b1 = q1.fma(y, q0.fma(x, b1));
            x = FloatVector.fromArray(Dequant.S, inp, r2 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r2 + c + 16);
            a2 = p1.fma(y, p0.fma(x, a2));
            b2 = q1.fma(y, q0.fma(x, b2));
            x = FloatVector.fromArray(Dequant.S, inp, r3 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r3 + c + 16);
            a3 = p1.fma(y, p0.fma(x, a3));
            b3 = q1.fma(y, q0.fma(x, b3));
            x = FloatVector.fromArray(Dequant.S, inp, r4 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r4 + c + 16);
            a4 = p1.fma(y, p0.fma(x, a4));
            b4 = q1.fma(y, q0.fma(x, b4));
            x = FloatVector.fromArray(Dequant.S, inp, r5 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r5 + c + 16);
            a5 = p1.fma(y, p0.fma(x, a5));
            b5 = q1.fma(y, q0.fma(x, b5));
            x = FloatVector.fromArray(Dequant.S, inp, r6 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r6 + c + 16);
            a6 = p1.fma(y, p0.fma(x, a6));
            b6 = q1.fma(y, q0.fma(x, b6));
            x = FloatVector.fromArray(Dequant.S, inp, r7 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r7 + c + 16);
            a7 = p1.fma(y, p0.fma(x, a7));
            b7 = q1.fma(y, q0.fma(x, b7));
        }
        out[v] = a0.reduceLanes(VectorOperators.ADD);
        out[v + 1] = b0.reduceLanes(VectorOperators.ADD);
        if (T > 1) {
            out[V + v] = a1.reduceLanes(VectorOperators.ADD);
            out[V + v + 1] = b1.reduceLanes(VectorOperators.ADD);
        }
        if (T > 2) {
            out[2 * V + v] = a2.reduceLanes(VectorOperators.ADD);
            out[2 * V + v + 1] = b2.reduceLanes(VectorOperators.ADD);
        }
        if (T > 3) {
            out[3 * V + v] = a3.reduceLanes(VectorOperators.ADD);
            out[3 * V + v + 1] = b3.reduceLanes(VectorOperators.ADD);
        }
        if (T > 4) {
            out[4 * V + v] = a4.reduceLanes(VectorOperators.ADD);
            out[4 * V + v + 1] = b4.reduceLanes(VectorOperators.ADD);
        }
        if (T > 5) {
            out[5 * V + v] = a5.reduceLanes(VectorOperators.ADD);
            out[5 * V + v + 1] = b5.reduceLanes(VectorOperators.ADD);
        }
        if (T > 6) {
            out[6 * V + v] = a6.reduceLanes(VectorOperators.ADD);
            out[6 * V + v + 1] = b6.reduceLanes(VectorOperators.ADD);
        }
        if (T > 7) {
            out[7 * V + v] = a7.reduceLanes(VectorOperators.ADD);
            out[7 * V + v + 1] = b7.reduceLanes(VectorOperators.ADD);
        }
    }

    /** As {@link #q8Rows8} for T <= 4: 4 input rows (rows t >= T repeat row T - 1). */
    static void q8Rows4(float[] out, float[] inp, MemorySegment w, int T, int C, int V, int v) {
        int r0 = 0, r1 = Math.min(1, T - 1) * C, r2 = Math.min(2, T - 1) * C, r3 = Math.min(3, T - 1) * C;
        FloatVector a0 = FloatVector.zero(Dequant.S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int nb = C / Dequant.QK;
        long p = (long) v * nb * Dequant.QBYTES, q = p + (long) nb * Dequant.QBYTES;
        for (int k = 0; k < nb; k++, p += Dequant.QBYTES, q += Dequant.QBYTES) {
            float dp = Float.float16ToFloat(w.get(Dequant.I16, p)), dq = Float.float16ToFloat(w.get(Dequant.I16, q));
            FloatVector p0 = q8(w, p + 2).mul(dp), p1 = q8(w, p + 2 + 16).mul(dp);
            FloatVector q0 = q8(w, q + 2).mul(dq), q1 = q8(w, q + 2 + 16).mul(dq);
            int c = k * Dequant.QK;
            FloatVector x = FloatVector.fromArray(Dequant.S, inp, r0 + c), y = FloatVector.fromArray(Dequant.S, inp, r0 + c + 16);
            a0 = p1.fma(y, p0.fma(x, a0));
            b0 = q1.fma(y, q0.fma(x, b0));
            x = FloatVector.fromArray(Dequant.S, inp, r1 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r1 + c + 16);
            a1 = p1.fma(y, p0.fma(x, a1));
            b1 = q1.fma(y, q0.fma(x, b1));
            x = FloatVector.fromArray(Dequant.S, inp, r2 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r2 + c + 16);
            a2 = p1.fma(y, p0.fma(x, a2));
            b2 = q1.fma(y, q0.fma(x, b2));
            x = FloatVector.fromArray(Dequant.S, inp, r3 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r3 + c + 16);
            a3 = p1.fma(y, p0.fma(x, a3));
            b3 = q1.fma(y, q0.fma(x, b3));
        }
        out[v] = a0.reduceLanes(VectorOperators.ADD);
        out[v + 1] = b0.reduceLanes(VectorOperators.ADD);
        if (T > 1) {
            out[V + v] = a1.reduceLanes(VectorOperators.ADD);
            out[V + v + 1] = b1.reduceLanes(VectorOperators.ADD);
        }
        if (T > 2) {
            out[2 * V + v] = a2.reduceLanes(VectorOperators.ADD);
            out[2 * V + v + 1] = b2.reduceLanes(VectorOperators.ADD);
        }
        if (T > 3) {
            out[3 * V + v] = a3.reduceLanes(VectorOperators.ADD);
            out[3 * V + v + 1] = b3.reduceLanes(VectorOperators.ADD);
        }
    }

    /** As {@link #q8Rows8} for T <= 2: 2 input rows (rows t >= T repeat row T - 1). */
    static void q8Rows2(float[] out, float[] inp, MemorySegment w, int T, int C, int V, int v) {
        int r0 = 0, r1 = Math.min(1, T - 1) * C;
        FloatVector a0 = FloatVector.zero(Dequant.S), a1 = a0, b0 = a0, b1 = a0;
        int nb = C / Dequant.QK;
        long p = (long) v * nb * Dequant.QBYTES, q = p + (long) nb * Dequant.QBYTES;
        for (int k = 0; k < nb; k++, p += Dequant.QBYTES, q += Dequant.QBYTES) {
            float dp = Float.float16ToFloat(w.get(Dequant.I16, p)), dq = Float.float16ToFloat(w.get(Dequant.I16, q));
            FloatVector p0 = q8(w, p + 2).mul(dp), p1 = q8(w, p + 2 + 16).mul(dp);
            FloatVector q0 = q8(w, q + 2).mul(dq), q1 = q8(w, q + 2 + 16).mul(dq);
            int c = k * Dequant.QK;
            FloatVector x = FloatVector.fromArray(Dequant.S, inp, r0 + c), y = FloatVector.fromArray(Dequant.S, inp, r0 + c + 16);
            a0 = p1.fma(y, p0.fma(x, a0));
            b0 = q1.fma(y, q0.fma(x, b0));
            x = FloatVector.fromArray(Dequant.S, inp, r1 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r1 + c + 16);
            a1 = p1.fma(y, p0.fma(x, a1));
            b1 = q1.fma(y, q0.fma(x, b1));
        }
        out[v] = a0.reduceLanes(VectorOperators.ADD);
        out[v + 1] = b0.reduceLanes(VectorOperators.ADD);
        if (T > 1) {
            out[V + v] = a1.reduceLanes(VectorOperators.ADD);
            out[V + v + 1] = b1.reduceLanes(VectorOperators.ADD);
        }
    }

    /** As {@link #q8Rows8} over F16 rows (C a multiple of 32), for T <= 8. */
    static void f16Rows8(float[] out, float[] inp, MemorySegment w, int T, int C, int V, int v) {
        int r0 = 0, r1 = Math.min(1, T - 1) * C, r2 = Math.min(2, T - 1) * C, r3 = Math.min(3, T - 1) * C, r4 = Math.min(4, T - 1) * C, r5 = Math.min(5, T - 1) * C, r6 = Math.min(6, T - 1) * C, r7 = Math.min(7, T - 1) * C;
        FloatVector a0 = FloatVector.zero(Dequant.S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
        long p = (long) v * C, q = p + C;
        for (int c = 0; c < C; c += 32) {
            FloatVector p0 = h2f(w, p + c).mul(0x1p112f), p1 = h2f(w, p + c + 16).mul(0x1p112f);
            FloatVector q0 = h2f(w, q + c).mul(0x1p112f), q1 = h2f(w, q + c + 16).mul(0x1p112f);
            FloatVector x = FloatVector.fromArray(Dequant.S, inp, r0 + c), y = FloatVector.fromArray(Dequant.S, inp, r0 + c + 16);
            a0 = p1.fma(y, p0.fma(x, a0));
            b0 = q1.fma(y, q0.fma(x, b0));
            x = FloatVector.fromArray(Dequant.S, inp, r1 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r1 + c + 16);
            a1 = p1.fma(y, p0.fma(x, a1));
            b1 = q1.fma(y, q0.fma(x, b1));
            x = FloatVector.fromArray(Dequant.S, inp, r2 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r2 + c + 16);
            a2 = p1.fma(y, p0.fma(x, a2));
            b2 = q1.fma(y, q0.fma(x, b2));
            x = FloatVector.fromArray(Dequant.S, inp, r3 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r3 + c + 16);
            a3 = p1.fma(y, p0.fma(x, a3));
            b3 = q1.fma(y, q0.fma(x, b3));
            x = FloatVector.fromArray(Dequant.S, inp, r4 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r4 + c + 16);
            a4 = p1.fma(y, p0.fma(x, a4));
            b4 = q1.fma(y, q0.fma(x, b4));
            x = FloatVector.fromArray(Dequant.S, inp, r5 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r5 + c + 16);
            a5 = p1.fma(y, p0.fma(x, a5));
            b5 = q1.fma(y, q0.fma(x, b5));
            x = FloatVector.fromArray(Dequant.S, inp, r6 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r6 + c + 16);
            a6 = p1.fma(y, p0.fma(x, a6));
            b6 = q1.fma(y, q0.fma(x, b6));
            x = FloatVector.fromArray(Dequant.S, inp, r7 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r7 + c + 16);
            a7 = p1.fma(y, p0.fma(x, a7));
            b7 = q1.fma(y, q0.fma(x, b7));
        }
        out[v] = a0.reduceLanes(VectorOperators.ADD);
        out[v + 1] = b0.reduceLanes(VectorOperators.ADD);
        if (T > 1) {
            out[V + v] = a1.reduceLanes(VectorOperators.ADD);
            out[V + v + 1] = b1.reduceLanes(VectorOperators.ADD);
        }
        if (T > 2) {
            out[2 * V + v] = a2.reduceLanes(VectorOperators.ADD);
            out[2 * V + v + 1] = b2.reduceLanes(VectorOperators.ADD);
        }
        if (T > 3) {
            out[3 * V + v] = a3.reduceLanes(VectorOperators.ADD);
            out[3 * V + v + 1] = b3.reduceLanes(VectorOperators.ADD);
        }
        if (T > 4) {
            out[4 * V + v] = a4.reduceLanes(VectorOperators.ADD);
            out[4 * V + v + 1] = b4.reduceLanes(VectorOperators.ADD);
        }
        if (T > 5) {
            out[5 * V + v] = a5.reduceLanes(VectorOperators.ADD);
            out[5 * V + v + 1] = b5.reduceLanes(VectorOperators.ADD);
        }
        if (T > 6) {
            out[6 * V + v] = a6.reduceLanes(VectorOperators.ADD);
            out[6 * V + v + 1] = b6.reduceLanes(VectorOperators.ADD);
        }
        if (T > 7) {
            out[7 * V + v] = a7.reduceLanes(VectorOperators.ADD);
            out[7 * V + v + 1] = b7.reduceLanes(VectorOperators.ADD);
        }
    }

    /** As {@link #q8Rows8} over F16 rows (C a multiple of 32), for T <= 4. */
    static void f16Rows4(float[] out, float[] inp, MemorySegment w, int T, int C, int V, int v) {
        int r0 = 0, r1 = Math.min(1, T - 1) * C, r2 = Math.min(2, T - 1) * C, r3 = Math.min(3, T - 1) * C;
        FloatVector a0 = FloatVector.zero(Dequant.S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        long p = (long) v * C, q = p + C;
        for (int c = 0; c < C; c += 32) {
            FloatVector p0 = h2f(w, p + c).mul(0x1p112f), p1 = h2f(w, p + c + 16).mul(0x1p112f);
            FloatVector q0 = h2f(w, q + c).mul(0x1p112f), q1 = h2f(w, q + c + 16).mul(0x1p112f);
            FloatVector x = FloatVector.fromArray(Dequant.S, inp, r0 + c), y = FloatVector.fromArray(Dequant.S, inp, r0 + c + 16);
            a0 = p1.fma(y, p0.fma(x, a0));
            b0 = q1.fma(y, q0.fma(x, b0));
            x = FloatVector.fromArray(Dequant.S, inp, r1 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r1 + c + 16);
            a1 = p1.fma(y, p0.fma(x, a1));
            b1 = q1.fma(y, q0.fma(x, b1));
            x = FloatVector.fromArray(Dequant.S, inp, r2 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r2 + c + 16);
            a2 = p1.fma(y, p0.fma(x, a2));
            b2 = q1.fma(y, q0.fma(x, b2));
            x = FloatVector.fromArray(Dequant.S, inp, r3 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r3 + c + 16);
            a3 = p1.fma(y, p0.fma(x, a3));
            b3 = q1.fma(y, q0.fma(x, b3));
        }
        out[v] = a0.reduceLanes(VectorOperators.ADD);
        out[v + 1] = b0.reduceLanes(VectorOperators.ADD);
        if (T > 1) {
            out[V + v] = a1.reduceLanes(VectorOperators.ADD);
            out[V + v + 1] = b1.reduceLanes(VectorOperators.ADD);
        }
        if (T > 2) {
            out[2 * V + v] = a2.reduceLanes(VectorOperators.ADD);
            out[2 * V + v + 1] = b2.reduceLanes(VectorOperators.ADD);
        }
        if (T > 3) {
            out[3 * V + v] = a3.reduceLanes(VectorOperators.ADD);
            out[3 * V + v + 1] = b3.reduceLanes(VectorOperators.ADD);
        }
    }

    /** As {@link #q8Rows8} over F16 rows (C a multiple of 32), for T <= 2. */
    static void f16Rows2(float[] out, float[] inp, MemorySegment w, int T, int C, int V, int v) {
        int r0 = 0, r1 = Math.min(1, T - 1) * C;
        FloatVector a0 = FloatVector.zero(Dequant.S), a1 = a0, b0 = a0, b1 = a0;
        long p = (long) v * C, q = p + C;
        for (int c = 0; c < C; c += 32) {
            FloatVector p0 = h2f(w, p + c).mul(0x1p112f), p1 = h2f(w, p + c + 16).mul(0x1p112f);
            FloatVector q0 = h2f(w, q + c).mul(0x1p112f), q1 = h2f(w, q + c + 16).mul(0x1p112f);
            FloatVector x = FloatVector.fromArray(Dequant.S, inp, r0 + c), y = FloatVector.fromArray(Dequant.S, inp, r0 + c + 16);
            a0 = p1.fma(y, p0.fma(x, a0));
            b0 = q1.fma(y, q0.fma(x, b0));
            x = FloatVector.fromArray(Dequant.S, inp, r1 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r1 + c + 16);
            a1 = p1.fma(y, p0.fma(x, a1));
            b1 = q1.fma(y, q0.fma(x, b1));
        }
        out[v] = a0.reduceLanes(VectorOperators.ADD);
        out[v + 1] = b0.reduceLanes(VectorOperators.ADD);
        if (T > 1) {
            out[V + v] = a1.reduceLanes(VectorOperators.ADD);
            out[V + v + 1] = b1.reduceLanes(VectorOperators.ADD);
        }
    }

    /** As {@link #q8Rows8} over Bf16 rows (C a multiple of 32), for T <= 8. */
    static void bf16Rows8(float[] out, float[] inp, MemorySegment w, int T, int C, int V, int v) {
        int r0 = 0, r1 = Math.min(1, T - 1) * C, r2 = Math.min(2, T - 1) * C, r3 = Math.min(3, T - 1) * C, r4 = Math.min(4, T - 1) * C, r5 = Math.min(5, T - 1) * C, r6 = Math.min(6, T - 1) * C, r7 = Math.min(7, T - 1) * C;
        FloatVector a0 = FloatVector.zero(Dequant.S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
        long p = (long) v * C, q = p + C;
        for (int c = 0; c < C; c += 32) {
            FloatVector p0 = bf2f(w, p + c), p1 = bf2f(w, p + c + 16);
            FloatVector q0 = bf2f(w, q + c), q1 = bf2f(w, q + c + 16);
            FloatVector x = FloatVector.fromArray(Dequant.S, inp, r0 + c), y = FloatVector.fromArray(Dequant.S, inp, r0 + c + 16);
            a0 = p1.fma(y, p0.fma(x, a0));
            b0 = q1.fma(y, q0.fma(x, b0));
            x = FloatVector.fromArray(Dequant.S, inp, r1 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r1 + c + 16);
            a1 = p1.fma(y, p0.fma(x, a1));
            b1 = q1.fma(y, q0.fma(x, b1));
            x = FloatVector.fromArray(Dequant.S, inp, r2 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r2 + c + 16);
            a2 = p1.fma(y, p0.fma(x, a2));
            b2 = q1.fma(y, q0.fma(x, b2));
            x = FloatVector.fromArray(Dequant.S, inp, r3 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r3 + c + 16);
            a3 = p1.fma(y, p0.fma(x, a3));
            b3 = q1.fma(y, q0.fma(x, b3));
            x = FloatVector.fromArray(Dequant.S, inp, r4 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r4 + c + 16);
            a4 = p1.fma(y, p0.fma(x, a4));
            b4 = q1.fma(y, q0.fma(x, b4));
            x = FloatVector.fromArray(Dequant.S, inp, r5 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r5 + c + 16);
            a5 = p1.fma(y, p0.fma(x, a5));
            b5 = q1.fma(y, q0.fma(x, b5));
            x = FloatVector.fromArray(Dequant.S, inp, r6 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r6 + c + 16);
            a6 = p1.fma(y, p0.fma(x, a6));
            b6 = q1.fma(y, q0.fma(x, b6));
            x = FloatVector.fromArray(Dequant.S, inp, r7 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r7 + c + 16);
            a7 = p1.fma(y, p0.fma(x, a7));
            b7 = q1.fma(y, q0.fma(x, b7));
        }
        out[v] = a0.reduceLanes(VectorOperators.ADD);
        out[v + 1] = b0.reduceLanes(VectorOperators.ADD);
        if (T > 1) {
            out[V + v] = a1.reduceLanes(VectorOperators.ADD);
            out[V + v + 1] = b1.reduceLanes(VectorOperators.ADD);
        }
        if (T > 2) {
            out[2 * V + v] = a2.reduceLanes(VectorOperators.ADD);
            out[2 * V + v + 1] = b2.reduceLanes(VectorOperators.ADD);
        }
        if (T > 3) {
            out[3 * V + v] = a3.reduceLanes(VectorOperators.ADD);
            out[3 * V + v + 1] = b3.reduceLanes(VectorOperators.ADD);
        }
        if (T > 4) {
            out[4 * V + v] = a4.reduceLanes(VectorOperators.ADD);
            out[4 * V + v + 1] = b4.reduceLanes(VectorOperators.ADD);
        }
        if (T > 5) {
            out[5 * V + v] = a5.reduceLanes(VectorOperators.ADD);
            out[5 * V + v + 1] = b5.reduceLanes(VectorOperators.ADD);
        }
        if (T > 6) {
            out[6 * V + v] = a6.reduceLanes(VectorOperators.ADD);
            out[6 * V + v + 1] = b6.reduceLanes(VectorOperators.ADD);
        }
        if (T > 7) {
            out[7 * V + v] = a7.reduceLanes(VectorOperators.ADD);
            out[7 * V + v + 1] = b7.reduceLanes(VectorOperators.ADD);
        }
    }

    /** As {@link #q8Rows8} over Bf16 rows (C a multiple of 32), for T <= 4. */
    static void bf16Rows4(float[] out, float[] inp, MemorySegment w, int T, int C, int V, int v) {
        int r0 = 0, r1 = Math.min(1, T - 1) * C, r2 = Math.min(2, T - 1) * C, r3 = Math.min(3, T - 1) * C;
        FloatVector a0 = FloatVector.zero(Dequant.S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        long p = (long) v * C, q = p + C;
        for (int c = 0; c < C; c += 32) {
            FloatVector p0 = bf2f(w, p + c), p1 = bf2f(w, p + c + 16);
            FloatVector q0 = bf2f(w, q + c), q1 = bf2f(w, q + c + 16);
            FloatVector x = FloatVector.fromArray(Dequant.S, inp, r0 + c), y = FloatVector.fromArray(Dequant.S, inp, r0 + c + 16);
            a0 = p1.fma(y, p0.fma(x, a0));
            b0 = q1.fma(y, q0.fma(x, b0));
            x = FloatVector.fromArray(Dequant.S, inp, r1 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r1 + c + 16);
            a1 = p1.fma(y, p0.fma(x, a1));
            b1 = q1.fma(y, q0.fma(x, b1));
            x = FloatVector.fromArray(Dequant.S, inp, r2 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r2 + c + 16);
            a2 = p1.fma(y, p0.fma(x, a2));
            b2 = q1.fma(y, q0.fma(x, b2));
            x = FloatVector.fromArray(Dequant.S, inp, r3 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r3 + c + 16);
            a3 = p1.fma(y, p0.fma(x, a3));
            b3 = q1.fma(y, q0.fma(x, b3));
        }
        out[v] = a0.reduceLanes(VectorOperators.ADD);
        out[v + 1] = b0.reduceLanes(VectorOperators.ADD);
        if (T > 1) {
            out[V + v] = a1.reduceLanes(VectorOperators.ADD);
            out[V + v + 1] = b1.reduceLanes(VectorOperators.ADD);
        }
        if (T > 2) {
            out[2 * V + v] = a2.reduceLanes(VectorOperators.ADD);
            out[2 * V + v + 1] = b2.reduceLanes(VectorOperators.ADD);
        }
        if (T > 3) {
            out[3 * V + v] = a3.reduceLanes(VectorOperators.ADD);
            out[3 * V + v + 1] = b3.reduceLanes(VectorOperators.ADD);
        }
    }

    /** As {@link #q8Rows8} over Bf16 rows (C a multiple of 32), for T <= 2. */
    static void bf16Rows2(float[] out, float[] inp, MemorySegment w, int T, int C, int V, int v) {
        int r0 = 0, r1 = Math.min(1, T - 1) * C;
        FloatVector a0 = FloatVector.zero(Dequant.S), a1 = a0, b0 = a0, b1 = a0;
        long p = (long) v * C, q = p + C;
        for (int c = 0; c < C; c += 32) {
            FloatVector p0 = bf2f(w, p + c), p1 = bf2f(w, p + c + 16);
            FloatVector q0 = bf2f(w, q + c), q1 = bf2f(w, q + c + 16);
            FloatVector x = FloatVector.fromArray(Dequant.S, inp, r0 + c), y = FloatVector.fromArray(Dequant.S, inp, r0 + c + 16);
            a0 = p1.fma(y, p0.fma(x, a0));
            b0 = q1.fma(y, q0.fma(x, b0));
            x = FloatVector.fromArray(Dequant.S, inp, r1 + c);
            y = FloatVector.fromArray(Dequant.S, inp, r1 + c + 16);
            a1 = p1.fma(y, p0.fma(x, a1));
            b1 = q1.fma(y, q0.fma(x, b1));
        }
        out[v] = a0.reduceLanes(VectorOperators.ADD);
        out[v + 1] = b0.reduceLanes(VectorOperators.ADD);
        if (T > 1) {
            out[V + v] = a1.reduceLanes(VectorOperators.ADD);
            out[V + v + 1] = b1.reduceLanes(VectorOperators.ADD);
        }
    }

    static float dotQ8(float[] inp, MemorySegment w, long e, int C) {
        FloatVector a0 = FloatVector.zero(Dequant.S), a1 = a0;
        int nb = C / Dequant.QK, k = 0;
        long b = e / Dequant.QK * Dequant.QBYTES;
        for (; k + 1 < nb; k += 2, b += 2 * Dequant.QBYTES) {
            FloatVector t0 = blockDot(inp, k * Dequant.QK, w, b), t1 = blockDot(inp, (k + 1) * Dequant.QK, w, b + Dequant.QBYTES);
            a0 = t0.fma(FloatVector.broadcast(Dequant.S, Float.float16ToFloat(w.get(Dequant.I16, b))), a0);
            a1 = t1.fma(FloatVector.broadcast(Dequant.S, Float.float16ToFloat(w.get(Dequant.I16, b + Dequant.QBYTES))), a1);
        }
        if (k < nb) a0 = blockDot(inp, k * Dequant.QK, w, b).fma(FloatVector.broadcast(Dequant.S, Float.float16ToFloat(w.get(Dequant.I16, b))), a0);
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    /** inp[c0, c0 + QK) times the int8 quants of the Q8_0 block at byte b, lane-wise (unscaled). */
    private static FloatVector blockDot(float[] inp, int c0, MemorySegment w, long b) {
        FloatVector t = q8(w, b + 2).mul(FloatVector.fromArray(Dequant.S, inp, c0));
        for (int u = Dequant.L; u < Dequant.QK; u += Dequant.L) {
            t = q8(w, b + 2 + u).fma(FloatVector.fromArray(Dequant.S, inp, c0 + u), t);
        }
        return t;
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
