package io.gpt2j.core.io;

/**
 * Element types a tensor can be stored in, with safetensors' names. Q8_0 is llama.cpp's block format
 * (32 int8 values sharing one fp16 scale: 34 bytes per block); it is gpt2j-specific in safetensors files.
 */
public enum DType {
    F32(4), F16(2), BF16(2), F64(8), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1), Q8_0(-1);

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
        if (this == Q8_0) {
            if (n % 32 != 0) throw new IllegalArgumentException("Q8_0 needs a multiple of 32 elements, got " + n);
            return n / 32 * 34;
        }
        return n * bytes;
    }

    /** Parses a safetensors dtype name; null when unknown. */
    public static DType fromName(String name) {
        for (DType d : values()) if (d.name().equals(name)) return d;
        return null;
    }
}
