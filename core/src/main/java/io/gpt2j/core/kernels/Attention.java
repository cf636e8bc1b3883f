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

    /** Queries per block of {@link #prefill4}: one vector of lanes, one query per lane. */
    public static final int QB = L;

    /**
     * Causal attention of a block of {@code nq <= QB} consecutive queries of one sequence and head (HS = 4L), for
     * prefill: query i sits in cache slot s0 + i and attends to slots [0, s0 + i] with the padding rule of
     * {@link #attend} (a query that sees no unmasked slot attends to all of them). The per-query kernel spends most
     * of its time in a horizontal sum per key and a scalar exp per score; here the block's queries are the lanes:
     * <ol>
     * <li>qT[d*QB + i] = scale * q_i[d] (the queries transposed once per block);
     * <li>sT[p*QB + i] = qT · k[p] for 8 keys at a time (one query vector, 8 broadcast key elements, 8 FMAs per d);
     * <li>future and padded slots set to -inf lane by lane, then max, exp and sum per lane as vectors;
     * <li>out_i = sum_p sT[p*QB + i] v[p] / sum_i, 4 queries x 4 vectors of accumulators per value row.
     * </ol>
     * Padded value slots are skipped for every query that masks them (never multiplied by a zero weight).
     * query i at q[qo + i*qs], output i at out[oo + i*os]; keys/values of slot p at base + p*HS; qT holds HS*QB
     * floats, sT (s0 + nq) * QB.
     */
    public static void prefill4(float[] out, int oo, int os, float[] q, int qo, int qs, int nq, float[] keys,
                                float[] values, int base, byte[] mask, int s0, float scale, float[] qT, float[] sT) {
        final int HS = 4 * L, n = s0 + nq;
        for (int i = 0; i < QB; i++) {
            for (int d = 0; d < HS; d++) qT[d * QB + i] = i < nq ? q[qo + i * qs + d] * scale : 0f;
        }
        int p = 0;
        for (; p + 8 <= n; p += 8) scoreTile8(sT, p * QB, qT, keys, base + p * HS);
        for (; p < n; p++) scoreTile1(sT, p * QB, qT, keys, base + p * HS);
        // lane i masks slot p when p > s0 + i (the future), or when p is padded and query i sees an unmasked slot
        int first = 0;
        while (first < n && mask[first] == 0) first++;
        for (p = 0; p < n; p++) {
            boolean pad = mask[p] == 0;
            if (!pad && p < s0) continue;
            for (int i = 0; i < QB; i++) {
                if (p > s0 + i || (pad && first <= s0 + i)) sT[p * QB + i] = Float.NEGATIVE_INFINITY;
            }
        }
        FloatVector max = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (p = 0; p < n; p++) max = max.max(FloatVector.fromArray(S, sT, p * QB));
        FloatVector sum = FloatVector.zero(S);
        for (p = 0; p < n; p++) {
            FloatVector e = FloatVector.fromArray(S, sT, p * QB).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(sT, p * QB);
            sum = sum.add(e);
        }
        FloatVector.broadcast(S, 1f).div(sum).intoArray(qT, 0); // qT is free again: it holds 1 / sum per query
        for (int i0 = 0; i0 < nq; i0 += 4) {
            // slots past s0 + i0 + 3 are the future of all four queries; a padded slot is skipped outright when all
            // four see an unmasked slot (first <= s0 + i0), else lane by lane
            int m = Math.min(4, nq - i0), pe = Math.min(n, s0 + i0 + 4);
            weighted4x4(out, oo + i0 * os, os, m, values, base, mask, pe, sT, i0, qT, first <= s0 + i0, first - s0 - i0);
        }
    }

    private static void scoreTile8(float[] sT, int so, float[] qT, float[] keys, int kb) {
        final int HS = 4 * L;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int d = 0; d < HS; d++) {
            FloatVector qv = FloatVector.fromArray(S, qT, d * QB);
            a0 = qv.fma(FloatVector.broadcast(S, keys[kb + d]), a0);
            a1 = qv.fma(FloatVector.broadcast(S, keys[kb + HS + d]), a1);
            a2 = qv.fma(FloatVector.broadcast(S, keys[kb + 2 * HS + d]), a2);
            a3 = qv.fma(FloatVector.broadcast(S, keys[kb + 3 * HS + d]), a3);
            a4 = qv.fma(FloatVector.broadcast(S, keys[kb + 4 * HS + d]), a4);
            a5 = qv.fma(FloatVector.broadcast(S, keys[kb + 5 * HS + d]), a5);
            a6 = qv.fma(FloatVector.broadcast(S, keys[kb + 6 * HS + d]), a6);
            a7 = qv.fma(FloatVector.broadcast(S, keys[kb + 7 * HS + d]), a7);
        }
        a0.intoArray(sT, so);
        a1.intoArray(sT, so + QB);
        a2.intoArray(sT, so + 2 * QB);
        a3.intoArray(sT, so + 3 * QB);
        a4.intoArray(sT, so + 4 * QB);
        a5.intoArray(sT, so + 5 * QB);
        a6.intoArray(sT, so + 6 * QB);
        a7.intoArray(sT, so + 7 * QB);
    }

    private static void scoreTile1(float[] sT, int so, float[] qT, float[] keys, int kb) {
        FloatVector a0 = FloatVector.zero(S);
        for (int d = 0; d < 4 * L; d++) a0 = FloatVector.fromArray(S, qT, d * QB).fma(FloatVector.broadcast(S, keys[kb + d]), a0);
        a0.intoArray(sT, so);
    }

    /**
     * Outputs of queries i0 + j (j < m <= 4) from the weights sT[p*QB + i0 + j] over slots [0, n); inv[i0 + j] is
     * 1 / sum. {@code allSee}: every one of the four sees an unmasked slot, so padded slots are skipped; else query
     * j sees one iff j >= firstSeeing. The stores are written out: a helper taking the accumulators as arguments was
     * not inlined, and C2 boxed them (96 MB per gpt2 layer, 6x slower).
     */
    private static void weighted4x4(float[] out, int o, int os, int m, float[] values, int base, byte[] mask, int n,
                                    float[] sT, int i0, float[] inv, boolean allSee, int firstSeeing) {
        final int HS = 4 * L;
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int p = 0; p < n; p++) {
            int vo = base + p * HS, so = p * QB + i0;
            FloatVector v0 = FloatVector.fromArray(S, values, vo), v1 = FloatVector.fromArray(S, values, vo + L);
            FloatVector v2 = FloatVector.fromArray(S, values, vo + 2 * L), v3 = FloatVector.fromArray(S, values, vo + 3 * L);
            // a padded slot: skipped by every query that sees an unmasked slot (j >= firstSeeing), so whatever it
            // holds never reaches them; the others (pad queries, which attend to everything) still add it
            boolean pad = mask[p] == 0;
            if (pad && allSee) continue;
            if (!pad || firstSeeing > 0) {
                FloatVector w = FloatVector.broadcast(S, sT[so]);
                a00 = v0.fma(w, a00);
                a01 = v1.fma(w, a01);
                a02 = v2.fma(w, a02);
                a03 = v3.fma(w, a03);
            }
            if (!pad || firstSeeing > 1) {
                FloatVector w = FloatVector.broadcast(S, sT[so + 1]);
                a10 = v0.fma(w, a10);
                a11 = v1.fma(w, a11);
                a12 = v2.fma(w, a12);
                a13 = v3.fma(w, a13);
            }
            if (!pad || firstSeeing > 2) {
                FloatVector w = FloatVector.broadcast(S, sT[so + 2]);
                a20 = v0.fma(w, a20);
                a21 = v1.fma(w, a21);
                a22 = v2.fma(w, a22);
                a23 = v3.fma(w, a23);
            }
            if (!pad || firstSeeing > 3) {
                FloatVector w = FloatVector.broadcast(S, sT[so + 3]);
                a30 = v0.fma(w, a30);
                a31 = v1.fma(w, a31);
                a32 = v2.fma(w, a32);
                a33 = v3.fma(w, a33);
            }
        }
        {
            float iv = inv[i0];
            a00.mul(iv).intoArray(out, o);
            a01.mul(iv).intoArray(out, o + L);
            a02.mul(iv).intoArray(out, o + 2 * L);
            a03.mul(iv).intoArray(out, o + 3 * L);
        }
        if (m > 1) {
            float iv = inv[i0 + 1];
            a10.mul(iv).intoArray(out, o + os);
            a11.mul(iv).intoArray(out, o + os + L);
            a12.mul(iv).intoArray(out, o + os + 2 * L);
            a13.mul(iv).intoArray(out, o + os + 3 * L);
        }
        if (m > 2) {
            float iv = inv[i0 + 2];
            a20.mul(iv).intoArray(out, o + 2 * os);
            a21.mul(iv).intoArray(out, o + 2 * os + L);
            a22.mul(iv).intoArray(out, o + 2 * os + 2 * L);
            a23.mul(iv).intoArray(out, o + 2 * os + 3 * L);
        }
        if (m > 3) {
            float iv = inv[i0 + 3];
            a30.mul(iv).intoArray(out, o + 3 * os);
            a31.mul(iv).intoArray(out, o + 3 * os + L);
            a32.mul(iv).intoArray(out, o + 3 * os + 2 * L);
            a33.mul(iv).intoArray(out, o + 3 * os + 3 * L);
        }
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
