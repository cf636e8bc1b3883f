package io.gpt2j.core.model;

import java.util.Locale;

/**
 * Storage type of the KV cache. F32 (the default) keeps exactly what the forward pass computed; F16 (llama.cpp's
 * default) halves the bytes that attention reads per position: keys and values are rounded to nearest even when
 * written (values beyond F16's range saturate at ±65504) and widened in registers when read.
 */
public enum KvDtype {
    F32(4), F16(2);

    private final int bytes;

    KvDtype(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per cached element. */
    public int bytes() {
        return bytes;
    }

    /**
     * Parses f32/float32/fp32 or f16/float16/fp16 (any case).
     *
     * @param what names the setting in the error, e.g. "--kv-dtype"
     */
    public static KvDtype parse(String name, String what) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "f32", "float32", "fp32" -> F32;
            case "f16", "float16", "fp16" -> F16;
            default -> throw new IllegalArgumentException(what + " must be f32 or f16, got '" + name + "'");
        };
    }
}
