package io.gpt2j.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Attention} over an F16 KV cache (keys/values as IEEE half bits in short[], same layout [pos][HS]): the same
 * three kernels (register path for HS = 4L, generic vector path, scalar twin) and the F32 -> F16 store. Masked
 * positions are skipped as in Attention. Keys and values are widened in registers with llama.cpp's bit trick
 * (see Dequant.f16): {@code (S2I << 13) & 0x8FFFE000} is the value times 2^-112, exact for every finite half,
 * subnormals included; the 2^112 is folded into the query (keys) and into the softmax weights (values), so the vector
 * kernels compute what the F32 kernels compute on the widened cache.
 */
public final class AttentionF16 {
    private AttentionF16() {
    }

    static final VectorSpecies<Float> S = Attention.S;
    static final int L = Attention.L;
    /** Largest finite half: stores saturate here, so the cache never holds an infinity (the vector widening would
     *  turn it into 65536). */
    static final float MAX = 65504f;

    /** dst[d, d + n) = src[s, s + n) as F16 bits, rounded to nearest even, saturated at ±65504 (NaN stays NaN). */
    public static void store(short[] dst, int d, float[] src, int s, int n) {
        for (int i = 0; i < n; i++) dst[d + i] = Float.floatToFloat16(Math.max(-MAX, Math.min(MAX, src[s + i])));
    }

    /**
     * dst[d, d + n) = src[s, s + n) widened to F32 (n a multiple of L), for the blocked prefill kernel. Exact for every
     * finite half; the cache holds no infinities (see MAX), and a NaN half comes out as a finite value >= 65536.
     */
    public static void widen(float[] dst, int d, short[] src, int s, int n) {
        for (int i = 0; i < n; i += L) h2f(src, s + i).mul(0x1p112f).intoArray(dst, d + i);
    }

    /** As {@link Attention#attend(float[], int, float[], int, float[], float[], int, byte[], int, int, float, float[], int)}, over F16 keys/values. */
    public static void attend(float[] out, int o, float[] q, int qo, short[] keys, short[] values, int base,
                              byte[] mask, int n, int HS, float scale, float[] scores, int so) {
        if (Attention.registerPath(HS)) attend4(out, o, q, qo, keys, values, base, mask, n, scale, scores, so);
        else attendGeneric(out, o, q, qo, keys, values, base, mask, n, HS, scale, scores, so);
    }

    /**
     * The power of two the vector kernels multiply the query by (2^112 undoes the widening's 2^-112), or 0 when the
     * query is too large for a scaled copy to stay finite (or not finite): then the scalar twin runs. A query of
     * |q| >= 2^14 gets 2^48 (the remaining 2^64 goes into the score's scale), so q * factor stays below 2^126.
     */
    static float queryFactor(float[] q, int qo, int HS) {
        float m = 0f;
        for (int i = 0; i < HS; i++) m = Math.max(m, Math.abs(q[qo + i]));
        if (m < 0x1p14f) return 0x1p112f;
        if (m < 0x1p78f) return 0x1p48f;
        return 0f; // |q| >= 2^78, inf or NaN
    }

    /** {@link #attend} for any head size: vector products when HS % L == 0, else the scalar twin. */
    public static void attendGeneric(float[] out, int o, float[] q, int qo, short[] keys, short[] values, int base,
                                     byte[] mask, int n, int HS, float scale, float[] scores, int so) {
        boolean any = Attention.anyUnmasked(mask, n);
        float qf = Kernels.SCALAR || HS % L != 0 ? 0f : queryFactor(q, qo, HS);
        if (qf == 0f) {
            attendScalar(out, o, q, qo, keys, values, base, mask, n, HS, scale, scores, so, any);
            return;
        }
        float s2 = scale * (0x1p112f / qf);
        float max = Float.NEGATIVE_INFINITY;
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            float s = dot(q, qo, qf, keys, base + p * HS, HS) * s2;
            scores[so + p] = s;
            if (s > max) max = s;
        }
        float inv = 1f / Attention.expInPlace(scores, so, n, mask, any, max);
        for (int d = 0; d < HS; d++) out[o + d] = 0f;
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            // weight <= 1, so weight * 2^112 is finite
            FloatVector wv = FloatVector.broadcast(S, scores[so + p] * inv * 0x1p112f);
            int vo = base + p * HS;
            for (int d = 0; d < HS; d += L) {
                h2f(values, vo + d).fma(wv, FloatVector.fromArray(S, out, o + d)).intoArray(out, o + d);
            }
        }
    }

    /**
     * {@link #attend} for HS = 4 vectors (every GPT-2 size with AVX-512), as {@link Attention#attend4}: products four
     * vectors at a time, the scalar softmax, the value sum in four registers. Smaller than the F32 kernel on purpose:
     * each load here is five vector operations (load, widen, shift, mask, reinterpret), and with the query in four
     * registers and two sets of four value accumulators (the F32 kernel's form) C2 left part of the calls
     * un-intrinsified (48-288 B of vector boxes per position, seen with JFR). So the key products walk the four
     * vectors in a loop against the scaled query kept in {@code out} (free until the value sum; {@code out} must not
     * overlap {@code q}), and the value sum takes one position per iteration. Callers on the pool give it a task of its
     * own (see LayerTasks).
     */
    public static void attend4(float[] out, int o, float[] q, int qo, short[] keys, short[] values, int base,
                               byte[] mask, int n, float scale, float[] scores, int so) {
        boolean any = Attention.anyUnmasked(mask, n);
        float qf = queryFactor(q, qo, 4 * L);
        if (qf == 0f) {
            attendScalar(out, o, q, qo, keys, values, base, mask, n, 4 * L, scale, scores, so, any);
            return;
        }
        for (int d = 0; d < 4 * L; d++) out[o + d] = q[qo + d] * qf; // out is free until weighted4: the scaled query
        scores4(scores, so, out, o, keys, base, mask, n, scale * (0x1p112f / qf), any);
        float inv = 1f / Attention.softmaxUnnormalised(scores, so, n);
        weighted4(out, o, values, base, n, scores, so, inv);
    }

    /** scores[so + p] = scale * qs·k'[p] (qs: the scaled query, k': keys widened times 2^-112); -inf when masked. */
    private static void scores4(float[] scores, int so, float[] qs, int qso, short[] keys, int base, byte[] mask, int n,
                                float scale, boolean any) {
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) {
                scores[so + p] = Float.NEGATIVE_INFINITY;
                continue;
            }
            int ko = base + p * 4 * L;
            FloatVector acc = FloatVector.zero(S);
            for (int j = 0; j < 4 * L; j += L) acc = h2f(keys, ko + j).fma(FloatVector.fromArray(S, qs, qso + j), acc);
            scores[so + p] = acc.reduceLanes(VectorOperators.ADD) * scale;
        }
    }

    /**
     * out[o, o + 4L) = inv * sum of scores[so + p] * v[p], four accumulators in registers; the weights carry the 2^112
     * (they are <= 1). Masked positions need no branch here: their weight is exactly 0 (exp(-inf)) and the widening
     * never yields an infinity or NaN, so whatever a masked slot holds adds 0.
     */
    private static void weighted4(float[] out, int o, short[] values, int base, int n, float[] scores, int so, float inv) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int p = 0; p < n; p++) {
            FloatVector w = FloatVector.broadcast(S, scores[so + p] * 0x1p112f);
            int vo = base + p * 4 * L;
            a0 = h2f(values, vo).fma(w, a0);
            a1 = h2f(values, vo + L).fma(w, a1);
            a2 = h2f(values, vo + 2 * L).fma(w, a2);
            a3 = h2f(values, vo + 3 * L).fma(w, a3);
        }
        a0.mul(inv).intoArray(out, o);
        a1.mul(inv).intoArray(out, o + L);
        a2.mul(inv).intoArray(out, o + 2 * L);
        a3.mul(inv).intoArray(out, o + 3 * L);
    }

    /** L halves at a[i], widened to F32 times 2^-112 (finite inputs; the caller's other factor carries 2^112). */
    private static FloatVector h2f(short[] a, int i) {
        IntVector v = (IntVector) ShortVector.fromArray(Dequant.SS, a, i).convertShape(VectorOperators.S2I, Dequant.IS, 0);
        return v.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats();
    }

    /** sum of (qf * a[ao + i]) * k'[i], k' = widened keys times 2^-112. */
    private static float dot(float[] a, int ao, float qf, short[] k, int ko, int n) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < n; i += L) acc = FloatVector.fromArray(S, a, ao + i).mul(qf).fma(h2f(k, ko + i), acc);
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Scalar twin of {@link #attend}: {@link Attention#attendScalar} on keys/values widened one by one. */
    static void attendScalar(float[] out, int o, float[] q, int qo, short[] keys, short[] values, int base,
                             byte[] mask, int n, int HS, float scale, float[] scores, int so, boolean any) {
        float max = Float.NEGATIVE_INFINITY;
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            float s = 0f;
            int ko = base + p * HS;
            for (int i = 0; i < HS; i++) s += q[qo + i] * Float.float16ToFloat(keys[ko + i]);
            s *= scale;
            scores[so + p] = s;
            if (s > max) max = s;
        }
        float inv = 1f / Attention.expInPlace(scores, so, n, mask, any, max);
        for (int d = 0; d < HS; d++) out[o + d] = 0f;
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            float wgt = scores[so + p] * inv;
            int vo = base + p * HS;
            for (int d = 0; d < HS; d++) out[o + d] += wgt * Float.float16ToFloat(values[vo + d]);
        }
    }
}
