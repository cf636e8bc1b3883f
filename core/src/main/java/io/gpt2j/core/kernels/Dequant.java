package io.gpt2j.core.kernels;

import io.gpt2j.core.io.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Widens stored weights (F16, BF16, Q8_0) to F32 a cache-sized panel at a time, inside the matmul kernels, so
 * reduced-precision weights stay reduced in memory. Vector conversion with a scalar twin ({@link #scalarAt}).
 * Q8_0 is llama.cpp's block: an fp16 scale d then 32 int8 q, value = d * q, blocks following the tensor's
 * flat (row-major) element order. F16 inputs are assumed finite (inf/NaN are not reproduced by the vector path).
 */
public final class Dequant {
    private Dequant() {
    }

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, S.vectorShape());
    static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat F32 = MatMul.F32;
    /** Q8_0: values per block and bytes per block (fp16 scale + 32 int8). */
    public static final int QK = 32, QBYTES = 34;

    /** Element i of a weight stored as {@code dt} (scalar reference for every path). */
    public static float scalarAt(MemorySegment w, DType dt, long i) {
        return switch (dt) {
            case F32 -> w.getAtIndex(F32, i);
            case F16 -> Float.float16ToFloat(w.get(I16, 2 * i));
            case BF16 -> Float.intBitsToFloat((w.get(I16, 2 * i) & 0xffff) << 16);
            case Q8_0 -> {
                long b = i / QK * QBYTES;
                yield Float.float16ToFloat(w.get(I16, b)) * w.get(ValueLayout.JAVA_BYTE, b + 2 + i % QK);
            }
            default -> throw new IllegalArgumentException("no kernel for weights stored as " + dt);
        };
    }

    /** dst (native F32) [dstOff, dstOff + n) = elements [from, from + n) of w stored as dt. */
    public static void toF32(MemorySegment dst, long dstOff, MemorySegment w, DType dt, long from, int n) {
        if (Kernels.SCALAR) {
            for (int k = 0; k < n; k++) dst.setAtIndex(F32, dstOff + k, scalarAt(w, dt, from + k));
            return;
        }
        switch (dt) {
            case F32 -> MemorySegment.copy(w, 4 * from, dst, 4 * dstOff, 4L * n);
            case BF16 -> bf16(dst, dstOff, w, from, n);
            case F16 -> f16(dst, dstOff, w, from, n);
            case Q8_0 -> q8(dst, dstOff, w, from, n);
            default -> throw new IllegalArgumentException("no kernel for weights stored as " + dt);
        }
    }

    static void bf16(MemorySegment dst, long d, MemorySegment w, long from, int n) {
        int k = 0;
        for (; k + L <= n; k += L) {
            IntVector i = (IntVector) ShortVector.fromMemorySegment(SS, w, 2 * (from + k), LE).convertShape(VectorOperators.S2I, IS, 0);
            i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoMemorySegment(dst, 4 * (d + k), LE);
        }
        for (; k < n; k++) dst.setAtIndex(F32, d + k, scalarAt(w, DType.BF16, from + k));
    }

    // f16 -> f32 for finite values: move exponent+mantissa to f32's position (the sign-extended high bits give the
    // sign at bit 31), then scale by 2^(127-15) so the exponent bias is right; subnormals come out exact.
    static void f16(MemorySegment dst, long d, MemorySegment w, long from, int n) {
        int k = 0;
        for (; k + L <= n; k += L) {
            IntVector i = (IntVector) ShortVector.fromMemorySegment(SS, w, 2 * (from + k), LE).convertShape(VectorOperators.S2I, IS, 0);
            i.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f)
                    .intoMemorySegment(dst, 4 * (d + k), LE);
        }
        for (; k < n; k++) dst.setAtIndex(F32, d + k, scalarAt(w, DType.F16, from + k));
    }

    static void q8(MemorySegment dst, long d, MemorySegment w, long from, int n) {
        int k = 0;
        // unaligned head: element by element up to a block boundary
        while (k < n && (from + k) % QK != 0) {
            dst.setAtIndex(F32, d + k, scalarAt(w, DType.Q8_0, from + k));
            k++;
        }
        boolean vec = L <= QK && QK % L == 0 && L >= 8; // the byte load is at least 8 bytes wide
        for (; k + QK <= n; k += QK) {
            long b = (from + k) / QK * QBYTES;
            float scale = Float.float16ToFloat(w.get(I16, b));
            if (vec) {
                FloatVector sv = FloatVector.broadcast(S, scale);
                for (int u = 0; u < QK; u += L) {
                    FloatVector q = (FloatVector) ByteVector.fromMemorySegment(BS, w, b + 2 + u, LE).convertShape(VectorOperators.B2F, S, 0);
                    q.mul(sv).intoMemorySegment(dst, 4 * (d + k + u), LE);
                }
            } else {
                for (int u = 0; u < QK; u++) dst.setAtIndex(F32, d + k + u, scale * w.get(ValueLayout.JAVA_BYTE, b + 2 + u));
            }
        }
        for (; k < n; k++) dst.setAtIndex(F32, d + k, scalarAt(w, DType.Q8_0, from + k));
    }

    /** C's roundf: halves away from zero. */
    static int roundHalfAway(float v) {
        return (int) (v < 0 ? -Math.floor(-v + 0.5f) : Math.floor(v + 0.5f));
    }

    /**
     * Quantizes n F32 values (n a multiple of 32) to Q8_0 as llama.cpp does: d = max|x| / 127 stored as fp16,
     * q = round(x / d). Any stored dtype can be the source. The scalar reference for {@link #quantizeQ8Blocks}.
     */
    public static void quantizeQ8(MemorySegment dst, MemorySegment src, DType srcType, long n) {
        if (n % QK != 0) throw new IllegalArgumentException("Q8_0 needs a multiple of 32 elements, got " + n);
        quantizeQ8Scalar(dst, src, srcType, 0, n / QK);
    }

    static void quantizeQ8Scalar(MemorySegment dst, MemorySegment src, DType srcType, long fromBlock, long toBlock) {
        float[] x = new float[QK];
        for (long blk = fromBlock; blk < toBlock; blk++) {
            float amax = 0f;
            for (int u = 0; u < QK; u++) {
                x[u] = scalarAt(src, srcType, blk * QK + u);
                amax = Math.max(amax, Math.abs(x[u]));
            }
            float dq = amax / 127f;
            float id = dq != 0f ? 1f / dq : 0f;
            long b = blk * QBYTES;
            dst.set(I16, b, Float.floatToFloat16(dq));
            for (int u = 0; u < QK; u++) dst.set(ValueLayout.JAVA_BYTE, b + 2 + u, (byte) roundHalfAway(x[u] * id));
        }
    }

    /** Blocks {@link #quantizeQ8Blocks} widens at a time; its {@code scratch} holds this many blocks of F32. */
    public static final int QUANT_SCRATCH_BLOCKS = 256;

    /**
     * Blocks [fromBlock, toBlock) of {@link #quantizeQ8}, vectorised, with byte-identical output: the same float
     * operations per value (max of |x|, x * (1/d), round half away from zero as truncation of |v| + 0.5f), and the
     * scalar code for the rare block whose 1/d overflows or holds a NaN. F16/BF16 sources are widened exactly into
     * {@code scratch} (native, {@link #QUANT_SCRATCH_BLOCKS} * 128 bytes) first. Ranges may run on different threads.
     */
    public static void quantizeQ8Blocks(MemorySegment dst, MemorySegment src, DType srcType, long fromBlock, long toBlock,
                                        MemorySegment scratch) {
        boolean vec = L <= QK && QK % L == 0 && L >= 8;
        if (Kernels.SCALAR || !vec || (srcType != DType.F32 && srcType != DType.F16 && srcType != DType.BF16)) {
            quantizeQ8Scalar(dst, src, srcType, fromBlock, toBlock);
            return;
        }
        for (long b0 = fromBlock; b0 < toBlock; b0 += QUANT_SCRATCH_BLOCKS) {
            int nb = (int) Math.min(QUANT_SCRATCH_BLOCKS, toBlock - b0);
            MemorySegment x = scratch;
            long base = 0;
            switch (srcType) {
                case F32 -> {
                    x = src;
                    base = 4 * b0 * QK;
                }
                case BF16 -> bf16(scratch, 0, src, b0 * QK, nb * QK); // a shift: exact for every input
                default -> { // F16: the JDK conversion handles inf/NaN, which the vector widening does not
                    for (int k = 0; k < nb * QK; k++) scratch.setAtIndex(F32, k, Float.float16ToFloat(src.get(I16, 2 * (b0 * QK + k))));
                }
            }
            for (int k = 0; k < nb; k++) quantizeBlock(dst, (b0 + k) * QBYTES, x, base + 4L * k * QK, src, srcType, b0 + k);
        }
    }

    private static void quantizeBlock(MemorySegment dst, long b, MemorySegment x, long at, MemorySegment src, DType srcType, long blk) {
        FloatVector m = FloatVector.zero(S);
        for (int u = 0; u < QK; u += L) m = m.max(FloatVector.fromMemorySegment(S, x, at + 4L * u, LE).abs());
        float amax = m.reduceLanes(VectorOperators.MAX);
        float dq = amax / 127f;
        float id = dq != 0f ? 1f / dq : 0f;
        if (Float.isNaN(amax) || Float.isInfinite(id)) { // (int) of +-inf saturates asymmetrically: keep the scalar code
            quantizeQ8Scalar(dst, src, srcType, blk, blk + 1);
            return;
        }
        dst.set(I16, b, Float.floatToFloat16(dq));
        for (int u = 0; u < QK; u += L) {
            FloatVector v = FloatVector.fromMemorySegment(S, x, at + 4L * u, LE).mul(id);
            IntVector q = (IntVector) v.abs().add(0.5f).convert(VectorOperators.F2I, 0);
            q = q.lanewise(VectorOperators.NEG, v.lt(0f).cast(IS));
            q.convertShape(VectorOperators.I2B, BS, 0).intoMemorySegment(dst, b + 2 + u, LE);
        }
    }
}
