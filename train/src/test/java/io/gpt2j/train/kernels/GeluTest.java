package io.gpt2j.train.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * gelu_new's vector kernels equal their scalar twins bit for bit (odd lengths, unaligned starts), and both follow the
 * double-precision tanh formula transformers uses over [-12, 12]: values within 2e-6 of max(|gelu|, 1e-3) and the
 * derivative within 4e-6 of max(1, |gelu'|). The fp32 argument u = K (x + 0.044715 x^3) alone carries ~|u| 2^-24 of
 * error, which exp(-2u) turns into ~2 |u| 2^-24 relative (~3e-6 at |u| = 25); the previous formula, 0.5 x (1 +
 * (float) tanh(u)), is printed beside: its cancellation for negative x costs it ~1e-4. Plus saturation far out.
 */
class GeluTest {
    static final double K = Math.sqrt(2.0 / Math.PI);

    static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(K * (x + 0.044715 * x * x * x)));
    }

    static double grad(double x) {
        double th = Math.tanh(K * (x + 0.044715 * x * x * x));
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * K * (1 + 3 * 0.044715 * x * x);
    }

    @Test
    void vectorEqualsScalarAndFollowsTheTanhFormula() {
        Random r = new Random(11);
        int n = 10_007, off = 3;
        float[] x = new float[off + n], d = new float[off + n];
        for (int i = 0; i < n; i++) {
            x[off + i] = (float) (r.nextDouble() * 24 - 12);
            d[off + i] = (float) r.nextGaussian();
        }
        x[off] = 0f;
        x[off + 1] = 200f;
        x[off + 2] = -200f;
        float[] v = new float[off + n], s = new float[off + n], dv = new float[off + n], ds = new float[off + n];
        Gelu.forwardVector(v, x, off, off + n);
        Gelu.forwardScalar(s, x, off, off + n);
        Gelu.backwardVector(dv, x, d, off, off + n);
        Gelu.backwardScalar(ds, x, d, off, off + n);
        assertArrayEquals(s, v, "forward vector vs scalar");
        assertArrayEquals(ds, dv, "backward vector vs scalar");
        double worstF = 0, worstB = 0, worstOld = 0;
        for (int i = 0; i < n; i++) {
            double xi = x[off + i], want = gelu(xi), wantG = grad(xi) * d[off + i];
            float xf = x[off + i], kf = (float) K;
            float old = 0.5f * xf * (1f + (float) Math.tanh(kf * (xf + 0.044715f * xf * xf * xf)));
            worstOld = Math.max(worstOld, Math.abs(old - want) / Math.max(Math.abs(want), 1e-3));
            worstF = Math.max(worstF, Math.abs(v[off + i] - want) / Math.max(Math.abs(want), 1e-3));
            worstB = Math.max(worstB, Math.abs(dv[off + i] - wantG) / Math.max(1, Math.abs(wantG)));
        }
        System.out.printf("[gelu] forward max rel %.2e (tanh formula in fp32: %.2e), backward max rel %.2e%n", worstF, worstOld, worstB);
        assertTrue(worstF <= 2e-6, "forward " + worstF);
        assertTrue(worstB <= 4e-6, "backward " + worstB);
        assertTrue(v[off] == 0f && v[off + 1] == 200f && Math.abs(v[off + 2]) < 1e-30, "saturation");
    }

    @Test
    void expIsAccurateOverItsRange() {
        double worst = 0;
        for (float z = -80f; z <= 80f; z += 0.0137f) {
            worst = Math.max(worst, Math.abs(Gelu.exp(z) - Math.exp(z)) / Math.exp(z));
        }
        System.out.printf("[gelu] exp max rel %.2e%n", worst);
        assertTrue(worst <= 3e-7, "exp " + worst);
    }
}
