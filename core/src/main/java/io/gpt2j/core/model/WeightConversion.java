package io.gpt2j.core.model;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.Dequant;
import io.gpt2j.core.kernels.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts the matmul weights of a model (the four Conv1D weights of every block, wte and an untied lm_head) to
 * another storage dtype (F32, F16, BF16 or Q8_0) in fresh off-heap memory, once, at load. Small tensors (biases,
 * layer norms, wpe) are copied as they are, so the result never points into the source: the caller may close the
 * checkpoint (unmapping the file) once this returns. The copy lives as long as the returned weights are reachable.
 * Each tensor is split over a thread pool; the bytes do not depend on the thread count (Q8_0 output equals
 * {@link Dequant#quantizeQ8}, F16/BF16 round to nearest even). Q8_0 sources are dequantized (d * q) first.
 */
public final class WeightConversion {
    private WeightConversion() {
    }

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Elements (or Q8_0 blocks) per work item handed to the pool. */
    private static final int UNIT = 4096;

    /** {@link #convert(Gpt2Weights, DType, Parallel)} on a temporary pool of all available processors. */
    public static Gpt2Weights convert(Gpt2Weights w, DType target) {
        try (Parallel pool = new Parallel(Parallel.defaultThreads())) {
            return convert(w, target, pool);
        }
    }

    /** The same weights with every matmul weight stored as {@code target}, each tensor converted on {@code pool}. */
    public static Gpt2Weights convert(Gpt2Weights w, DType target, Parallel pool) {
        switch (target) {
            case F32, F16, BF16, Q8_0 -> {
            }
            default -> throw new IllegalArgumentException("cannot run matmuls on " + target + "; use f32, f16, bf16 or q8_0");
        }
        Arena arena = Arena.ofAuto();
        List<Gpt2Weights.Layer> layers = new ArrayList<>();
        for (Gpt2Weights.Layer l : w.h()) {
            layers.add(new Gpt2Weights.Layer(copy(l.ln1Weight(), arena), copy(l.ln1Bias(), arena), toConv1d(l.cAttnWeight(), target, arena, pool),
                    copy(l.cAttnBias(), arena), toConv1d(l.attnCProjWeight(), target, arena, pool), copy(l.attnCProjBias(), arena),
                    copy(l.ln2Weight(), arena), copy(l.ln2Bias(), arena), toConv1d(l.cFcWeight(), target, arena, pool), copy(l.cFcBias(), arena),
                    toConv1d(l.mlpCProjWeight(), target, arena, pool), copy(l.mlpCProjBias(), arena)));
        }
        Tensor wte = to(w.wte(), target, arena, pool);
        Tensor head = w.tied() ? wte : to(w.lmHead(), target, arena, pool);
        return new Gpt2Weights(wte, copy(w.wpe(), arena), layers, copy(w.lnFWeight(), arena), copy(w.lnFBias(), arena), head);
    }

    /**
     * A {@code --dtype} flag value (f32, f16, bf16 or q8_0, any case) as the dtype to convert the matmul weights to;
     * null stays null (keep them as stored). The error names the flag and the value.
     */
    public static DType parseTarget(String value, String flag) {
        if (value == null) return null;
        DType dt = DType.fromName(value.toUpperCase(java.util.Locale.ROOT));
        if (dt != DType.F32 && dt != DType.F16 && dt != DType.BF16 && dt != DType.Q8_0) {
            throw new IllegalArgumentException(flag + " must be f32, f16, bf16 or q8_0, got '" + value + "'");
        }
        return dt;
    }

    /**
     * The weights to run with {@code --dtype target}: as they are when target is null or they are stored so already
     * (a mapped checkpoint stays mapped), else converted on {@code pool}.
     */
    public static Gpt2Weights forTarget(Gpt2Weights w, DType target, Parallel pool) {
        return target == null || storedAs(w, target) ? w : convert(w, target, pool);
    }

    /** True when every matmul weight of {@code w} is already stored as {@code target} (converting would only copy). */
    public static boolean storedAs(Gpt2Weights w, DType target) {
        // a Conv1D weight counts in either arrangement: a mapped F16 file is used as it is
        boolean all = w.wte().dtype() == target && w.lmHead().dtype() == target;
        for (Gpt2Weights.Layer l : w.h()) {
            all &= l.cAttnWeight().dtype().base() == target && l.attnCProjWeight().dtype().base() == target
                    && l.cFcWeight().dtype().base() == target && l.mlpCProjWeight().dtype().base() == target;
        }
        return all;
    }

    /**
     * The dtype a Conv1D weight ({@code [in, out]}) takes when the model is converted to {@code target} at load:
     * Q8_0, F16 and BF16 become Q8_0_T, F16_T and BF16_T, stored transposed ({@code out} rows of {@code in} values;
     * for Q8_0 the blocks run along {@code in}, llama.cpp's arrangement), so single-row decode is a dot product per
     * output over one sequential stream: one core reads 11.8 -> 17.5 GB/s of Q8_0 (gpt2-large c_fc from DRAM), F16
     * 16.2 -> 21.0, BF16 15.1 -> 21.3. Q8_0 needs {@code in} to be a multiple of 32 (every GPT-2 size) and keeps its
     * old arrangement otherwise; F32 stays as it is (it streams at 22.6 GB/s per core already, and is mapped).
     */
    public static DType conv1dStorage(Tensor t, DType target) {
        if (t.shape().length != 2) return target;
        return switch (target) {
            case Q8_0 -> t.shape()[0] % Dequant.QK == 0 ? DType.Q8_0_T : target;
            case F16 -> DType.F16_T;
            case BF16 -> DType.BF16_T;
            default -> target;
        };
    }

    /**
     * The dtype a Conv1D weight takes in a file written for {@code target} (gpt2j quantize): Q8_0_T for Q8_0 (a
     * gpt2j-only format either way); F16/BF16/F32 stay in the standard layout that transformers reads unless
     * {@code decodeLayout} asks for F16_T/BF16_T, the transposed layout the load-time conversion uses (gpt2j-only).
     */
    public static DType conv1dFileStorage(Tensor t, DType target, boolean decodeLayout) {
        if (target == DType.Q8_0) return conv1dStorage(t, target);
        return decodeLayout && (target == DType.F16 || target == DType.BF16) ? conv1dStorage(t, target) : target;
    }

    /** {@link #to(Tensor, DType, Arena, Parallel)} for a Conv1D weight: to {@link #conv1dStorage} of the target. */
    public static Tensor toConv1d(Tensor t, DType target, Arena arena, Parallel pool) {
        return to(t, conv1dStorage(t, target), arena, pool);
    }

    private static Tensor copy(Tensor t, Arena arena) {
        MemorySegment m = arena.allocate(t.data().byteSize(), 64);
        m.copyFrom(t.data());
        return new Tensor(t.name(), t.dtype(), t.shape(), m);
    }

    /** One tensor converted to {@code target} on the calling thread (rounding to nearest even for F16/BF16; llama.cpp's Q8_0). */
    public static Tensor to(Tensor t, DType target, Arena arena) {
        return to(t, target, arena, null);
    }

    /**
     * One tensor converted to {@code target}, split over {@code pool} (null: the calling thread). The result is
     * allocated in {@code arena}, which must be usable from the pool's threads (auto, shared or global).
     */
    public static Tensor to(Tensor t, DType target, Arena arena, Parallel pool) {
        DType from = t.dtype();
        if (from != DType.F32 && from != DType.F16 && from != DType.BF16 && !from.isQ8()) {
            throw new IllegalArgumentException("tensor " + t.name() + ": cannot convert " + from + " weights; expected F32, F16, BF16 or Q8_0");
        }
        if (from == target) return copy(t, arena);
        if (target.transposed()) return transposed(t, target, arena, pool);
        if (from.transposed()) { // back to the logical [in, out] order first
            Tensor f = new Tensor(t.name(), DType.F32, t.shape(), arena.allocate(4 * t.numel(), 64));
            split(pool, t.numel(), (a, b) -> {
                for (long i = a; i < b; i++) f.data().setAtIndex(F32, i, t.getFloat(i));
            });
            return target == DType.F32 ? f : to(f, target, arena, pool);
        }
        long n = t.numel();
        if (target == DType.Q8_0 && n % Dequant.QK != 0) {
            throw new IllegalArgumentException("tensor " + t.name() + ": shape " + t.shapeString() + " has " + n
                    + " elements, not a multiple of " + Dequant.QK + ": it cannot be stored as Q8_0");
        }
        MemorySegment src = t.data(), dst = arena.allocate(target.byteSize(n), 64);
        switch (target) {
            case F32 -> split(pool, n, (a, b) -> {
                for (long i = a; i < b; i++) dst.setAtIndex(F32, i, Dequant.scalarAt(src, from, i));
            });
            case F16 -> split(pool, n, from == DType.F32 ? (a, b) -> {
                for (long i = a; i < b; i++) dst.setAtIndex(I16, i, Float.floatToFloat16(src.getAtIndex(F32, i)));
            } : (a, b) -> {
                for (long i = a; i < b; i++) dst.setAtIndex(I16, i, Float.floatToFloat16(Dequant.scalarAt(src, from, i)));
            });
            case BF16 -> split(pool, n, from == DType.F32 ? (a, b) -> {
                for (long i = a; i < b; i++) dst.setAtIndex(I16, i, bf16(src.getAtIndex(F32, i)));
            } : (a, b) -> {
                for (long i = a; i < b; i++) dst.setAtIndex(I16, i, bf16(Dequant.scalarAt(src, from, i)));
            });
            case Q8_0 -> split(pool, n / Dequant.QK, (a, b) -> {
                try (Arena scratch = Arena.ofConfined()) {
                    MemorySegment buf = scratch.allocate(4L * Dequant.QK * Dequant.QUANT_SCRATCH_BLOCKS, 64);
                    Dequant.quantizeQ8Blocks(dst, src, from, a, b, buf);
                }
            });
            default -> throw new IllegalArgumentException("cannot convert to " + target);
        }
        return new Tensor(t.name(), target, t.shape(), dst);
    }

    /**
     * A 2-D {@code [in, out]} weight stored transposed as {@code target} (Q8_0_T, F16_T, BF16_T): transposed into F32
     * {@code [out, in]} scratch (64 output columns at a time, so each source row is read in runs of 64), then
     * converted to the base encoding (Q8_0: blocks of 32 along {@code in}).
     */
    private static Tensor transposed(Tensor t, DType target, Arena arena, Parallel pool) {
        long[] sh = t.shape();
        if (sh.length != 2 || (target == DType.Q8_0_T && sh[0] % Dequant.QK != 0)) {
            throw new IllegalArgumentException("tensor " + t.name() + ": shape " + t.shapeString() + " cannot be stored as " + target
                    + " (needs [in, out]" + (target == DType.Q8_0_T ? " with in a multiple of 32)" : ")"));
        }
        int in = Math.toIntExact(sh[0]), out = Math.toIntExact(sh[1]);
        try (Arena tmp = Arena.ofShared()) {
            MemorySegment tr = tmp.allocate(4L * in * out, 64);
            int tile = 64;
            MemorySegment src = t.data();
            DType from = t.dtype();
            Parallel.RangeTask transpose = (j0, j1) -> {
                for (int jb = j0 * tile; jb < Math.min(out, j1 * tile); jb += tile) {
                    int je = Math.min(out, jb + tile);
                    for (int c = 0; c < in; c++) {
                        for (int j = jb; j < je; j++) {
                            long i = (long) c * out + j; // a transposed source is read through its logical order
                            tr.setAtIndex(F32, (long) j * in + c, from.transposed() ? t.getFloat(i) : Dequant.scalarAt(src, from, i));
                        }
                    }
                }
            };
            int tiles = (out + tile - 1) / tile;
            if (pool == null) transpose.run(0, tiles); else pool.forRange(tiles, 1, transpose);
            Tensor rows = to(new Tensor(t.name(), DType.F32, new long[] {out, in}, tr), target.base(), arena, pool);
            return new Tensor(t.name(), target, t.shape(), rows.data());
        }
    }

    private interface LongRange {
        void run(long from, long to);
    }

    /** Runs {@code task} over [0, count) in units of {@link #UNIT}, on the pool when there is one. */
    private static void split(Parallel pool, long count, LongRange task) {
        long units = (count + UNIT - 1) / UNIT;
        if (pool == null || units < 2) {
            task.run(0, count);
            return;
        }
        pool.forRange(Math.toIntExact(units), 1, (a, b) -> task.run((long) a * UNIT, Math.min(count, (long) b * UNIT)));
    }

    /** F32 to BF16, rounding to nearest even (NaN stays NaN). */
    static short bf16(float f) {
        int b = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((b >>> 16) | 0x40);
        return (short) ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
    }
}
