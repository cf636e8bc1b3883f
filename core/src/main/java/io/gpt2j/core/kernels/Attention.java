package io.gpt2j.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal self-attention of one query against a head's cached keys/values (layout [pos][HS], head-major per
 * row), with a padding mask. Vector and scalar twins. Masked keys are skipped, never multiplied by zero,
 * so garbage in padded slots cannot leak into real rows.
 */
public final class Attention {
    private Attention() {
    }

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    /**
     * out[o..o+HS) = softmax(scale * q·k[p], p < n, mask[p] = 1) · v[p].
     * q at q[qo..qo+HS); keys/values of position p at kv[base + p*HS]; scores is scratch of at least n floats.
     * A query that sees no unmasked key (a pad row) ignores the mask and attends to [0, n): its output is never
     * used, it only has to stay finite.
     */
    public static void attend(float[] out, int o, float[] q, int qo, float[] keys, float[] values, int base,
                              byte[] mask, int n, int HS, float scale, float[] scores) {
        attend(out, o, q, qo, keys, values, base, mask, n, HS, scale, scores, 0);
    }

    /** As above, with the scores scratch at scores[so, so + n). */
    public static void attend(float[] out, int o, float[] q, int qo, float[] keys, float[] values, int base,
                              byte[] mask, int n, int HS, float scale, float[] scores, int so) {
        if (registerPath(HS)) attend4(out, o, q, qo, keys, values, base, mask, n, scale, scores, so);
        else attendGeneric(out, o, q, qo, keys, values, base, mask, n, HS, scale, scores, so);
    }

    /** Whether {@link #attend} takes {@link #attend4} for this head size. */
    public static boolean registerPath(int HS) {
        return !Kernels.SCALAR && HS == 4 * L;
    }

    /** {@link #attend} for any head size: vector dot products and value sums when HS % L == 0, else the scalar twin. */
    public static void attendGeneric(float[] out, int o, float[] q, int qo, float[] keys, float[] values, int base,
                                     byte[] mask, int n, int HS, float scale, float[] scores, int so) {
        boolean any = anyUnmasked(mask, n);
        if (Kernels.SCALAR || HS % L != 0) {
            attendScalar(out, o, q, qo, keys, values, base, mask, n, HS, scale, scores, so, any);
            return;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            float s = dot(q, qo, keys, base + p * HS, HS) * scale;
            scores[so + p] = s;
            if (s > max) max = s;
        }
        float inv = 1f / expInPlace(scores, so, n, mask, any, max);
        for (int d = 0; d < HS; d++) out[o + d] = 0f;
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            FloatVector wv = FloatVector.broadcast(S, scores[so + p] * inv);
            int vo = base + p * HS;
            for (int d = 0; d < HS; d += L) {
                FloatVector.fromArray(S, values, vo + d).fma(wv, FloatVector.fromArray(S, out, o + d)).intoArray(out, o + d);
            }
        }
    }

    /**
     * {@link #attend} for HS = 4 vectors (64 floats with AVX-512: every GPT-2 size), the vector engine's decode and
     * prefill path: the query in four registers and two FMA chains per key, a scalar softmax (see
     * softmaxUnnormalised), and the weighted value sum in registers instead of a load/store of the output per
     * position. gpt2 layer-row at 550 cache-resident positions, one thread: 113-137 -> 53-56 us.
     * Callers that run it on the pool give it a task of its own (see LayerTasks): compiled together with the
     * generic path into one method it is too big for C2 to keep every Vector API call intrinsic.
     */
    public static void attend4(float[] out, int o, float[] q, int qo, float[] keys, float[] values, int base,
                               byte[] mask, int n, float scale, float[] scores, int so) {
        boolean any = anyUnmasked(mask, n);
        scores4(scores, so, q, qo, keys, base, mask, n, scale, any);
        float inv = 1f / softmaxUnnormalised(scores, so, n);
        weighted4(out, o, values, base, mask, n, scores, so, any, inv);
    }

    static boolean anyUnmasked(byte[] mask, int n) {
        for (int p = 0; p < n; p++) if (mask[p] != 0) return true;
        return false;
    }

    /** scores[so + p] = scale * q·k[p] (HS = 4L), or -inf for a masked position when any position is unmasked. */
    private static void scores4(float[] scores, int so, float[] q, int qo, float[] keys, int base, byte[] mask, int n,
                                float scale, boolean any) {
        FloatVector q0 = FloatVector.fromArray(S, q, qo), q1 = FloatVector.fromArray(S, q, qo + L);
        FloatVector q2 = FloatVector.fromArray(S, q, qo + 2 * L), q3 = FloatVector.fromArray(S, q, qo + 3 * L);
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) {
                scores[so + p] = Float.NEGATIVE_INFINITY;
                continue;
            }
            int ko = base + p * 4 * L;
            FloatVector a = FloatVector.fromArray(S, keys, ko).mul(q0).add(FloatVector.fromArray(S, keys, ko + 2 * L).mul(q2));
            FloatVector b = FloatVector.fromArray(S, keys, ko + L).mul(q1).add(FloatVector.fromArray(S, keys, ko + 3 * L).mul(q3));
            scores[so + p] = a.add(b).reduceLanes(VectorOperators.ADD) * scale;
        }
    }

    /** scores[p] := exp(scores[p] - max) in place for the unmasked p of [so, so + n) (all when !any); returns their sum. */
    static float expInPlace(float[] scores, int so, int n, byte[] mask, boolean any, float max) {
        float sum = 0f;
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            float e = (float) Math.exp(scores[so + p] - max);
            scores[so + p] = e;
            sum += e;
        }
        return sum;
    }

    /** scores[so, so + n) := exp(score - max) in place (masked -inf become 0); returns their sum. */
    static float softmaxUnnormalised(float[] scores, int so, int n) {
        // Scalar on purpose. Inlined into attend4's pool task, the vector max/exp loops were left un-intrinsified by C2
        // at gpt2-large batch 8 (2.3 MB of vector boxes per decode step, found with a JFR allocation profile); this is
        // O(n) next to attend4's O(n * HS) products, and Math.exp is an intrinsic.
        float max = Float.NEGATIVE_INFINITY;
        for (int p = 0; p < n; p++) max = Math.max(max, scores[so + p]);
        float s = 0;
        for (int p = 0; p < n; p++) {
            float e = (float) Math.exp(scores[so + p] - max);
            scores[so + p] = e;
            s += e;
        }
        return s;
    }

    /**
     * out[o, o + 4L) = inv * sum of scores[so + p] * v[p] over unmasked p: two sets of four accumulators (even and
     * odd positions) stay in registers, so consecutive positions do not wait on each other's FMA.
     */
    private static void weighted4(float[] out, int o, float[] values, int base, byte[] mask, int n, float[] scores,
                                  int so, boolean any, float inv) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int p = 0;
        for (; p + 2 <= n; p += 2) {
            if (any && (mask[p] == 0 || mask[p + 1] == 0)) {
                // one of the pair is masked: its value slot may hold garbage, so add the other alone
                int u = mask[p] != 0 ? p : mask[p + 1] != 0 ? p + 1 : -1;
                if (u < 0) continue;
                FloatVector w = FloatVector.broadcast(S, scores[so + u]);
                int vo = base + u * 4 * L;
                a0 = FloatVector.fromArray(S, values, vo).fma(w, a0);
                a1 = FloatVector.fromArray(S, values, vo + L).fma(w, a1);
                a2 = FloatVector.fromArray(S, values, vo + 2 * L).fma(w, a2);
                a3 = FloatVector.fromArray(S, values, vo + 3 * L).fma(w, a3);
                continue;
            }
            FloatVector w = FloatVector.broadcast(S, scores[so + p]), x = FloatVector.broadcast(S, scores[so + p + 1]);
            int vo = base + p * 4 * L, vx = vo + 4 * L;
            a0 = FloatVector.fromArray(S, values, vo).fma(w, a0);
            a1 = FloatVector.fromArray(S, values, vo + L).fma(w, a1);
            a2 = FloatVector.fromArray(S, values, vo + 2 * L).fma(w, a2);
            a3 = FloatVector.fromArray(S, values, vo + 3 * L).fma(w, a3);
            b0 = FloatVector.fromArray(S, values, vx).fma(x, b0);
            b1 = FloatVector.fromArray(S, values, vx + L).fma(x, b1);
            b2 = FloatVector.fromArray(S, values, vx + 2 * L).fma(x, b2);
            b3 = FloatVector.fromArray(S, values, vx + 3 * L).fma(x, b3);
        }
        if (p < n && !(any && mask[p] == 0)) {
            FloatVector w = FloatVector.broadcast(S, scores[so + p]);
            int vo = base + p * 4 * L;
            a0 = FloatVector.fromArray(S, values, vo).fma(w, a0);
            a1 = FloatVector.fromArray(S, values, vo + L).fma(w, a1);
            a2 = FloatVector.fromArray(S, values, vo + 2 * L).fma(w, a2);
            a3 = FloatVector.fromArray(S, values, vo + 3 * L).fma(w, a3);
        }
        a0.add(b0).mul(inv).intoArray(out, o);
        a1.add(b1).mul(inv).intoArray(out, o + L);
        a2.add(b2).mul(inv).intoArray(out, o + 2 * L);
        a3.add(b3).mul(inv).intoArray(out, o + 3 * L);
    }

    /** Scalar twin of {@link #attend}: Math.exp per position, weights normalised before the sum. */
    static void attendScalar(float[] out, int o, float[] q, int qo, float[] keys, float[] values, int base,
                             byte[] mask, int n, int HS, float scale, float[] scores, int so, boolean any) {
        float max = Float.NEGATIVE_INFINITY;
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            float s = dotScalar(q, qo, keys, base + p * HS, HS) * scale;
            scores[so + p] = s;
            if (s > max) max = s;
        }
        float inv = 1f / expInPlace(scores, so, n, mask, any, max);
        for (int d = 0; d < HS; d++) out[o + d] = 0f;
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            float wgt = scores[so + p] * inv;
            int vo = base + p * HS;
            for (int d = 0; d < HS; d++) out[o + d] += wgt * values[vo + d];
        }
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < n; i += L) acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float dotScalar(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }
}
