package io.gpt2j.core.model;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.Dequant;
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
 */
public final class WeightConversion {
    private WeightConversion() {
    }

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The same weights with every matmul weight stored as {@code target}; tensors already in it are kept. */
    public static Gpt2Weights convert(Gpt2Weights w, DType target) {
        switch (target) {
            case F32, F16, BF16, Q8_0 -> {
            }
            default -> throw new IllegalArgumentException("cannot run matmuls on " + target + "; use f32, f16, bf16 or q8_0");
        }
        Arena arena = Arena.ofAuto();
        List<Gpt2Weights.Layer> layers = new ArrayList<>();
        for (Gpt2Weights.Layer l : w.h()) {
            layers.add(new Gpt2Weights.Layer(copy(l.ln1Weight(), arena), copy(l.ln1Bias(), arena), to(l.cAttnWeight(), target, arena),
                    copy(l.cAttnBias(), arena), to(l.attnCProjWeight(), target, arena), copy(l.attnCProjBias(), arena),
                    copy(l.ln2Weight(), arena), copy(l.ln2Bias(), arena), to(l.cFcWeight(), target, arena), copy(l.cFcBias(), arena),
                    to(l.mlpCProjWeight(), target, arena), copy(l.mlpCProjBias(), arena)));
        }
        Tensor wte = to(w.wte(), target, arena);
        Tensor head = w.tied() ? wte : to(w.lmHead(), target, arena);
        return new Gpt2Weights(wte, copy(w.wpe(), arena), layers, copy(w.lnFWeight(), arena), copy(w.lnFBias(), arena), head);
    }

    private static Tensor copy(Tensor t, Arena arena) {
        MemorySegment m = arena.allocate(t.data().byteSize(), 64);
        m.copyFrom(t.data());
        return new Tensor(t.name(), t.dtype(), t.shape(), m);
    }

    /** One tensor converted to {@code target} (rounding to nearest even for F16/BF16; llama.cpp's Q8_0). */
    public static Tensor to(Tensor t, DType target, Arena arena) {
        if (t.dtype() == target) return copy(t, arena);
        long n = t.numel();
        MemorySegment src = t.data(), dst = arena.allocate(target.byteSize(n), 64);
        DType from = t.dtype();
        switch (target) {
            case F32 -> {
                for (long i = 0; i < n; i++) dst.setAtIndex(F32, i, t.getFloat(i));
            }
            case F16 -> {
                for (long i = 0; i < n; i++) dst.setAtIndex(I16, i, Float.floatToFloat16(t.getFloat(i)));
            }
            case BF16 -> {
                for (long i = 0; i < n; i++) dst.setAtIndex(I16, i, bf16(t.getFloat(i)));
            }
            case Q8_0 -> {
                if (from != DType.F32 && from != DType.F16 && from != DType.BF16) {
                    throw new IllegalArgumentException("tensor " + t.name() + ": cannot quantize " + from + " to Q8_0");
                }
                Dequant.quantizeQ8(dst, src, from, n);
            }
            default -> throw new IllegalArgumentException("cannot convert to " + target);
        }
        return new Tensor(t.name(), target, t.shape(), dst);
    }

    /** F32 to BF16, rounding to nearest even (NaN stays NaN). */
    static short bf16(float f) {
        int b = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((b >>> 16) | 0x40);
        return (short) ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
    }
}
