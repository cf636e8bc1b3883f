package io.gpt2j.core.io;

/**
 * Element types a tensor can be stored in, with safetensors' names. Q8_0 is llama.cpp's block format
 * (32 int8 values sharing one fp16 scale: 34 bytes per block) laid along the tensor's flat element order; it is
 * gpt2j-specific in safetensors files. Q8_0_T is the same blocks over the transpose of a 2-D Conv1D weight: a
 * {@code [in, out]} tensor is stored as {@code out} rows of {@code in} values, blocks running along {@code in}, which
 * is how llama.cpp lays out a linear layer. Decode then reads each output's row as one sequential stream.
 * F16_T and BF16_T are the same transposed arrangement of F16/BF16 values, made by load-time conversion and by
 * {@code gpt2j quantize --layout decode} (gpt2j-only files; by default files keep F16/BF16 in the standard layout
 * that transformers reads).
 */
public enum DType {
    F32(4), F16(2), BF16(2), F64(8), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1), Q8_0(-1), Q8_0_T(-1), F16_T(2), BF16_T(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element, or -1 for block formats (use {@link #byteSize(long)}). */
    public int bytes() {
        return bytes;
    }

    /** Bytes needed for {@code n} elements. */
    public long byteSize(long n) {
        if (isQ8()) {
            if (n % 32 != 0) throw new IllegalArgumentException(this + " needs a multiple of 32 elements, got " + n);
            return n / 32 * 34;
        }
        return n * bytes;
    }

    /** Stored as the transpose of the logical 2-D [in, out] weight (out rows of in values). */
    public boolean transposed() {
        return this == Q8_0_T || this == F16_T || this == BF16_T;
    }

    /** The element encoding of a transposed dtype (Q8_0, F16, BF16); any other dtype is its own. */
    public DType base() {
        return switch (this) {
            case Q8_0_T -> Q8_0;
            case F16_T -> F16;
            case BF16_T -> BF16;
            default -> this;
        };
    }

    /** Q8_0 blocks, in either arrangement. */
    public boolean isQ8() {
        return this == Q8_0 || this == Q8_0_T;
    }

    /** Parses a safetensors dtype name; null when unknown. */
    public static DType fromName(String name) {
        for (DType d : values()) if (d.name().equals(name)) return d;
        return null;
    }
}
