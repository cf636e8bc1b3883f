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
            layers.add(new Gpt2Weights.Layer(copy(l.ln1Weight(), arena), copy(l.ln1Bias(), arena), to(l.cAttnWeight(), target, arena, pool),
                    copy(l.cAttnBias(), arena), to(l.attnCProjWeight(), target, arena, pool), copy(l.attnCProjBias(), arena),
                    copy(l.ln2Weight(), arena), copy(l.ln2Bias(), arena), to(l.cFcWeight(), target, arena, pool), copy(l.cFcBias(), arena),
                    to(l.mlpCProjWeight(), target, arena, pool), copy(l.mlpCProjBias(), arena)));
        }
        Tensor wte = to(w.wte(), target, arena, pool);
        Tensor head = w.tied() ? wte : to(w.lmHead(), target, arena, pool);
        return new Gpt2Weights(wte, copy(w.wpe(), arena), layers, copy(w.lnFWeight(), arena), copy(w.lnFBias(), arena), head);
    }

    /** True when every matmul weight of {@code w} is already stored as {@code target} (converting would only copy). */
    public static boolean storedAs(Gpt2Weights w, DType target) {
        boolean all = w.wte().dtype() == target && w.lmHead().dtype() == target;
        for (Gpt2Weights.Layer l : w.h()) {
            all &= l.cAttnWeight().dtype() == target && l.attnCProjWeight().dtype() == target
                    && l.cFcWeight().dtype() == target && l.mlpCProjWeight().dtype() == target;
        }
        return all;
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
        if (from != DType.F32 && from != DType.F16 && from != DType.BF16 && from != DType.Q8_0) {
            throw new IllegalArgumentException("tensor " + t.name() + ": cannot convert " + from + " weights; expected F32, F16, BF16 or Q8_0");
        }
        if (from == target) return copy(t, arena);
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
