package io.gpt2j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gpt2j.core.kernels.Parallel;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The vectorized, multi-threaded AdamW step and gradient clipping against a plain scalar transcription of torch's
 * single-tensor update: bit-identical parameters and moments on 1 and 2 threads, on parameters of odd sizes that
 * straddle the fixed work chunks, with a frozen prefix (LoRA) and decay exclusions.
 */
class AdamWParallelTest {
    static ParamLayout layout() {
        ParamLayout l = new ParamLayout();
        l.add("frozen.weight", 7, 3);
        l.add("transformer.h.0.ln_1.weight", 70_001);
        l.add("transformer.h.0.attn.c_attn.weight", 3, AdamW.CHUNK + 17);
        l.add("transformer.h.0.attn.c_attn.bias", 5);
        l.add("score.weight", 1, 1);
        l.add("empty.weight", 0);
        l.add("transformer.h.0.mlp.c_fc.weight", 33, 29);
        return l;
    }

    @Test
    void parallelVectorStepEqualsTheScalarLoopBitForBit() {
        ParamLayout l = layout();
        int from = l.get("transformer.h.0.ln_1.weight").offset();
        Random r = new Random(5);
        float[] p0 = new float[l.total()], g = new float[l.total() - from];
        for (int i = 0; i < p0.length; i++) p0[i] = (float) r.nextGaussian();
        for (int i = 0; i < g.length; i++) g[i] = (float) (r.nextGaussian() * 1e-3);
        float[] want = p0.clone(), wm = new float[g.length], wv = new float[g.length];
        float[] p1 = p0.clone(), p2 = p0.clone();
        AdamW one = new AdamW(l, from, 0.9f, 0.999f, 1e-8f, 0.01f, true), two = new AdamW(l, from, 0.9f, 0.999f, 1e-8f, 0.01f, true);
        try (Parallel pool = new Parallel(2)) {
            for (int step = 1; step <= 3; step++) {
                double lr = 1e-3 * step;
                reference(l, from, want, g, wm, wv, step, lr);
                one.step(p1, g, lr);
                two.step(pool, p2, g, lr);
                assertArrayEquals(want, p1, "single-threaded step " + step);
                assertArrayEquals(want, p2, "2-thread step " + step);
                assertArrayEquals(wm, two.expAvg(), "exp_avg step " + step);
                assertArrayEquals(wv, two.expAvgSq(), "exp_avg_sq step " + step);
            }
        }
    }

    /** torch's update, one element at a time, as AdamW did before it was split and vectorized. */
    static void reference(ParamLayout l, int from, float[] p, float[] g, float[] m, float[] v, int step, double lr) {
        double bc1 = 1 - Math.pow(0.9f, step), bc2 = 1 - Math.pow(0.999f, step);
        float stepSize = (float) (lr / bc1), bc2Sqrt = (float) Math.sqrt(bc2);
        float b1 = 0.9f, b2 = 0.999f, ob1 = (float) (1 - (double) b1), ob2 = (float) (1 - (double) b2);
        for (ParamLayout.Spec s : l.specs()) {
            float shrink = (float) (1 - lr * (AdamW.decaysInHfTrainer(s.name()) ? 0.01f : 0));
            if (s.offset() < from) continue;
            for (int i = s.offset(); i < s.offset() + s.size(); i++) {
                int j = i - from;
                p[i] *= shrink;
                m[j] = m[j] * b1 + ob1 * g[j];
                v[j] = v[j] * b2 + ob2 * g[j] * g[j];
                float denom = (float) Math.sqrt(v[j]) / bc2Sqrt + 1e-8f;
                p[i] += -stepSize * m[j] / denom;
            }
        }
    }

    @Test
    void clippingIsTheSameOnAnyThreadCountAndMatchesTheExactNorm() {
        Random r = new Random(9);
        float[] g = new float[3 * AdamW.CHUNK + 123];
        double exact = 0;
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) r.nextGaussian();
            exact += (double) g[i] * g[i];
        }
        float[] a = g.clone(), b = g.clone();
        float na, nb;
        try (Parallel pool = new Parallel(2)) {
            na = AdamW.clipGradNorm(a, 1.0);
            nb = AdamW.clipGradNorm(pool, b, 1.0);
        }
        assertEquals(na, nb);
        assertArrayEquals(a, b);
        // the norm is summed in double, so it equals the exact norm to fp32 rounding
        assertEquals(Math.sqrt(exact), na, Math.sqrt(exact) * 1e-7);
        assertEquals(g[7] * (1f / (na + 1e-6f)), a[7], Math.abs(a[7]) * 1e-6);
    }
}
