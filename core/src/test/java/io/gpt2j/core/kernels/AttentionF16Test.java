package io.gpt2j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The F16-cache attention kernels (vector register path, generic vector path, scalar twin) against a double-precision
 * reference computed on the widened cache, as KernelTwinTest does for F32. Tolerance 1e-5 as there: the kernels see the
 * same (exactly widened) numbers as the reference, so only float summation order differs (<= 40 terms of O(1)).
 */
class AttentionF16Test {
    final SplittableRandom rnd = new SplittableRandom(7);

    float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        return a;
    }

    /** Random halves; every 7th one tiny (a subnormal half: widened exactly only if the bit trick is right). */
    short[] halves(int n) {
        short[] h = new short[n];
        for (int i = 0; i < n; i++) {
            double x = rnd.nextDouble() * 2 - 1;
            h[i] = Float.floatToFloat16((float) (i % 7 == 3 ? x * 3e-6 : x));
        }
        return h;
    }

    @Test
    void attentionMatchesScalarAndReference() {
        // HS = 2L: generic vector path; 4L: register path; L + 3: the scalar twin (HS % L != 0); odd n leaves a
        // position after the pairs; masks hit single positions, whole pairs, and everything (a pad row)
        for (int HS : new int[] {2 * AttentionF16.L, 4 * AttentionF16.L, AttentionF16.L + 3}) {
            for (int n : new int[] {1, 2, 13, 40}) {
                for (int pattern = 0; pattern < 4; pattern++) {
                    for (float qScale : new float[] {1f, 0x1p15f, 0x1p80f}) { // 2^15: the 2^48 query factor; 2^80: scalar fallback
                        check(HS, n, pattern, qScale);
                    }
                }
            }
        }
        System.out.printf("F16 attention vs double reference: max-abs %.2e (kernel), %.2e (scalar twin), bound 1e-5%n", worstVector, worstScalar);
    }

    private void check(int HS, int n, int pattern, float qScale) {
        float[] q = rand(HS + 3);
        for (int i = 0; i < q.length; i++) q[i] *= qScale;
        // a tiny scale keeps the softmax away from one-hot when q is large
        float scale = 0.125f / qScale;
        short[] k = halves(n * HS + 5), val = halves(n * HS + 5);
        byte[] mask = KernelTwinTest.maskPattern(n, pattern);
        boolean any = false;
        for (byte m : mask) any |= m != 0;
        // garbage (half NaN and infinity) in masked slots must not leak into the output
        for (int i = 0; i < n && any; i++) {
            if (mask[i] == 0) {
                for (int d = 0; d < HS; d++) {
                    val[5 + i * HS + d] = (short) 0x7E00;
                    k[5 + i * HS + d] = (short) 0x7C00;
                }
            }
        }
        float[] v = new float[HS], twin = new float[HS], scores = new float[n + 7];
        AttentionF16.attend(v, 0, q, 3, k, val, 5, mask, n, HS, scale, scores, 0);
        AttentionF16.attendScalar(twin, 0, q, 3, k, val, 5, mask, n, HS, scale, scores, 0, any);
        float[] ref = reference(q, k, val, mask, n, HS, scale);
        String what = "F16 attention HS=" + HS + " n=" + n + " mask pattern " + pattern + " |q| scale " + qScale;
        worstVector = Math.max(worstVector, close(v, ref, what));
        worstScalar = Math.max(worstScalar, close(twin, ref, what + " (scalar twin)"));
    }

    double worstVector, worstScalar;

    private static double close(float[] a, float[] ref, String what) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - ref[i]));
        assertTrue(m <= 1e-5, what + " differs from the reference by " + m);
        return m;
    }

    private static float[] reference(float[] q, short[] k, short[] val, byte[] mask, int n, int HS, float scale) {
        boolean any = false;
        for (byte m : mask) any |= m != 0;
        double max = Double.NEGATIVE_INFINITY;
        double[] sc = new double[n];
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            double d = 0;
            for (int i = 0; i < HS; i++) d += (double) q[3 + i] * Float.float16ToFloat(k[5 + p * HS + i]);
            sc[p] = d * scale;
            max = Math.max(max, sc[p]);
        }
        double sum = 0;
        for (int p = 0; p < n; p++) if (!any || mask[p] != 0) sum += Math.exp(sc[p] - max);
        double[] acc = new double[HS];
        for (int p = 0; p < n; p++) {
            if (any && mask[p] == 0) continue;
            double w = Math.exp(sc[p] - max) / sum;
            for (int i = 0; i < HS; i++) acc[i] += w * Float.float16ToFloat(val[5 + p * HS + i]);
        }
        float[] out = new float[HS];
        for (int i = 0; i < HS; i++) out[i] = (float) acc[i];
        return out;
    }

    @Test
    void storeRoundsToNearestEvenAndSaturates() {
        float[] src = {1f, 1f + 0x1p-11f, 1f + 3 * 0x1p-11f, -2.5e-7f, 65504f, 65519f, 70000f, -1e30f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 0f, -0f};
        short[] dst = new short[src.length + 2];
        AttentionF16.store(dst, 1, src, 0, src.length);
        assertEquals(1f, Float.float16ToFloat(dst[1])); // a tie rounds to the even mantissa (1.0)
        assertEquals(1f + 4 * 0x1p-11f, Float.float16ToFloat(dst[3])); // the other tie rounds up to the even one
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(-2.5e-7f)), Float.float16ToFloat(dst[4])); // subnormal
        for (int i = 5; i <= 7; i++) assertEquals(65504f, Float.float16ToFloat(dst[i]), "saturates: " + src[i - 1]);
        assertEquals(-65504f, Float.float16ToFloat(dst[8]));
        assertEquals(65504f, Float.float16ToFloat(dst[9]));
        assertEquals(-65504f, Float.float16ToFloat(dst[10]));
        assertTrue(Float.isNaN(Float.float16ToFloat(dst[11])));
        assertEquals(0, dst[0]);
        assertEquals(0, dst[dst.length - 1]); // nothing written outside [d, d + n)
        assertEquals((short) 0x8000, dst[13]);
    }
}
