package io.gpt2j.train.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The vector cross-entropy row equals its scalar twin bit for bit (odd lengths, unaligned offsets), and both match a
 * double-precision softmax: loss within 1e-6 absolute (fp32 exp at 2 ulp inside a double sum), gradient within
 * 1e-6 * scale of each probability (a few fp32 roundings of values <= 1).
 */
class CrossEntropyTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 33, 1000, 50257})
    void vectorEqualsScalarAndMatchesDoubleSoftmax(int n) {
        Random r = new Random(n);
        int off = 3, label = n / 3;
        float scale = 0.25f;
        float[] logits = new float[off + n];
        for (int i = 0; i < n; i++) logits[off + i] = (float) (r.nextGaussian() * 4);
        float[] dv = new float[off + n], ds = new float[off + n];
        double lv = CrossEntropy.rowVector(logits, dv, off, n, label, scale);
        double ls = CrossEntropy.rowScalar(logits, ds, off, n, label, scale);
        assertEquals(ls, lv, 0.0, "loss vector vs scalar");
        assertArrayEquals(ds, dv, "gradient vector vs scalar");
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[off + i]);
        for (int i = 0; i < n; i++) sum += Math.exp(logits[off + i] - max);
        double lse = max + Math.log(sum), worst = 0;
        for (int i = 0; i < n; i++) {
            double want = Math.exp(logits[off + i] - lse) * scale - (i == label ? scale : 0);
            worst = Math.max(worst, Math.abs(dv[off + i] - want));
        }
        System.out.printf("[cross-entropy n=%d] loss |diff| %.2e, gradient max|diff| %.2e%n", n, Math.abs(lv - (lse - logits[off + label])), worst);
        assertEquals(lse - logits[off + label], lv, 1e-6, "loss");
        assertEquals(0, worst, 1e-6 * scale, "gradient");
    }
}
