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
        boolean any = false;
        for (int p = 0; p < n; p++) {
            if (mask[p] != 0) {
                any = true;
                break;
            }
        }
        float max = Float.NEGATIVE_INFINITY;
        boolean vec = !Kernels.SCALAR && HS % L == 0;
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            float s = vec ? dot(q, qo, keys, base + p * HS, HS) : dotScalar(q, qo, keys, base + p * HS, HS);
            s *= scale;
            scores[so + p] = s;
            if (s > max) max = s;
        }
        float sum = 0f;
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            float e = (float) Math.exp(scores[so + p] - max);
            scores[so + p] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int d = 0; d < HS; d++) out[o + d] = 0f;
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            float wgt = scores[so + p] * inv;
            int vo = base + p * HS;
            if (vec) {
                FloatVector wv = FloatVector.broadcast(S, wgt);
                for (int d = 0; d < HS; d += L) {
                    FloatVector.fromArray(S, values, vo + d).fma(wv, FloatVector.fromArray(S, out, o + d)).intoArray(out, o + d);
                }
            } else {
                for (int d = 0; d < HS; d++) out[o + d] += wgt * values[vo + d];
            }
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
