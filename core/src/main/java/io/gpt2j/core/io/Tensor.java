package io.gpt2j.core.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A named, shaped view of bytes (usually a slice of a memory-mapped file). Immutable; it never copies.
 * Readers here are convenience accessors for tests and small tensors, not for hot loops.
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    public long numel() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public int dim(int i) {
        return Math.toIntExact(shape[i]);
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    /** Element i as float, converting F16/BF16/F64/integers, and Q8_0 (its block's fp16 scale times the int8). */
    public float getFloat(long i) {
        if (dtype.transposed()) { // logical [in, out] element i = (c, j) is stored at j * in + c
            long out = shape[shape.length - 1], in = numel() / out;
            return at(dtype.base(), i % out * in + i / out);
        }
        return at(dtype, i);
    }

    private float at(DType dt, long i) {
        return switch (dt) {
            case F32 -> data.get(F32_LE, i * 4);
            case F16 -> Float.float16ToFloat(data.get(I16_LE, i * 2));
            case BF16 -> Float.intBitsToFloat((data.get(I16_LE, i * 2) & 0xffff) << 16);
            case F64 -> (float) Double.longBitsToDouble(data.get(I64_LE, i * 8));
            case I64 -> data.get(I64_LE, i * 8);
            case Q8_0 -> {
                long block = i / 32 * 34;
                yield Float.float16ToFloat(data.get(I16_LE, block)) * data.get(ValueLayout.JAVA_BYTE, block + 2 + i % 32);
            }
            default -> throw new UnsupportedOperationException("getFloat on " + dtype + " tensor " + name);
        };
    }

    public long getLong(long i) {
        return switch (dtype) {
            case I64 -> data.get(I64_LE, i * 8);
            case I32 -> data.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), i * 4);
            default -> throw new UnsupportedOperationException("getLong on " + dtype + " tensor " + name);
        };
    }

    /** Copies the whole tensor to a new float array (tests, small tensors). */
    public float[] toFloatArray() {
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32_LE, 0, out, 0, n);
        } else {
            for (int i = 0; i < n; i++) out[i] = getFloat(i);
        }
        return out;
    }

    public long[] toLongArray() {
        int n = Math.toIntExact(numel());
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = getLong(i);
        return out;
    }

    public int[] toIntArray() {
        long[] l = toLongArray();
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) out[i] = Math.toIntExact(l[i]);
        return out;
    }
}
