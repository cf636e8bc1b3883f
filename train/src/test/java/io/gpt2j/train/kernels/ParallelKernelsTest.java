package io.gpt2j.train.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.gpt2j.core.kernels.Parallel;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The row/column-split layer norm and gelu kernels give the single-threaded results bit for bit on 2 threads (odd
 * shapes, unaligned offsets), so training stays independent of the thread count.
 */
class ParallelKernelsTest {
    static float[] rand(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @Test
    void layerNormAndGeluAreThreadCountIndependent() {
        Random r = new Random(3);
        int N = 103, C = 37, off = 3;
        float[] inp = rand(r, off + N * C), w = rand(r, off + C), b = rand(r, off + C), dout = rand(r, off + N * C);
        float[] o1 = new float[off + N * C], o2 = o1.clone(), m1 = new float[off + N], m2 = m1.clone(), r1 = m1.clone(), r2 = m1.clone();
        float[] di1 = rand(r, off + N * C), di2 = di1.clone(), dw1 = rand(r, off + C), dw2 = dw1.clone(), db1 = rand(r, off + C), db2 = db1.clone();
        try (Parallel pool = new Parallel(2)) {
            TrainKernels.layerNormForward(o1, off, m1, off, r1, off, inp, off, w, off, b, off, N, C, 1e-5f);
            TrainKernels.layerNormForward(pool, o2, off, m2, off, r2, off, inp, off, w, off, b, off, N, C, 1e-5f);
            TrainKernels.layerNormBackward(di1, off, dw1, off, db1, off, dout, off, inp, off, w, off, m1, off, r1, off, N, C);
            TrainKernels.layerNormBackward(pool, di2, off, dw2, off, db2, off, dout, off, inp, off, w, off, m2, off, r2, off, N, C);
            int n = N * C + 11;
            float[] x = rand(r, n), d = rand(r, n), g1 = new float[n], g2 = new float[n], dx1 = rand(r, n), dx2 = dx1.clone();
            TrainKernels.geluForward(g1, x, n);
            TrainKernels.geluForward(pool, g2, x, n);
            TrainKernels.geluBackward(dx1, x, d, n);
            TrainKernels.geluBackward(pool, dx2, x, d, n);
            assertArrayEquals(g1, g2, "gelu");
            assertArrayEquals(dx1, dx2, "gelu backward");
        }
        assertArrayEquals(o1, o2, "layer norm");
        assertArrayEquals(m1, m2, "mean");
        assertArrayEquals(r1, r2, "rstd");
        assertArrayEquals(di1, di2, "layer norm dinp");
        assertArrayEquals(dw1, dw2, "layer norm dw");
        assertArrayEquals(db1, db2, "layer norm db");
    }

    @Test
    void dropoutMasksDependOnTheSeedOnly() {
        int n = 3 * (1 << 14) + 77;
        float[] a = new float[n], b = new float[n];
        TrainKernels.dropoutMask(a, n, 0.25f, new java.util.SplittableRandom(42));
        try (Parallel pool = new Parallel(2)) {
            TrainKernels.dropoutMask(pool, b, n, 0.25f, new java.util.SplittableRandom(42));
        }
        assertArrayEquals(a, b, "1 vs 2 threads");
        int zeros = 0;
        for (float m : a) {
            if (m == 0f) zeros++;
            else org.junit.jupiter.api.Assertions.assertEquals(1f / 0.75f, m);
        }
        // binomial(n, 0.25): 5 standard deviations is ~0.011 of n here
        org.junit.jupiter.api.Assertions.assertEquals(0.25, zeros / (double) n, 0.011);
    }
}
