package io.gpt2j.train.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.kernels.Parallel;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Central finite differences of every backward kernel on tiny random shapes. The scalar objective is
 * {@code sum(out * R)} for a fixed random R (so dout = R), evaluated in double over the fp32 forward, with step
 * h = 1e-2 (values are O(1), the truncation error O(h^2 * f''') stays below fp32 rounding / h). Tolerance:
 * |numeric - analytic| <= 2e-3 * (1 + |analytic|), for every input element.
 */
class KernelGradCheckTest {
    static final Parallel POOL = new Parallel(2);
    static final double H = 1e-2;
    static final double TOL = 2e-3;

    @AfterAll
    static void close() {
        POOL.close();
    }

    static float[] rand(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    static double objective(float[] out, float[] R) {
        double s = 0;
        for (int i = 0; i < out.length; i++) s += (double) out[i] * R[i];
        return s;
    }

    /** Compares analytic {@code grad} of {@code x} with central differences of {@code forward}; returns max error. */
    static double check(String what, float[] x, float[] grad, float[] out, float[] R, Consumer<float[]> forward) {
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            float orig = x[i];
            x[i] = (float) (orig + H);
            forward.accept(out);
            double fp = objective(out, R);
            x[i] = (float) (orig - H);
            forward.accept(out);
            double fm = objective(out, R);
            x[i] = orig;
            double num = (fp - fm) / (((double) (float) (orig + H)) - ((double) (float) (orig - H)));
            double err = Math.abs(num - grad[i]);
            assertTrue(err <= TOL * (1 + Math.abs(grad[i])), what + "[" + i + "]: numeric " + num + " analytic " + grad[i]);
            worst = Math.max(worst, err);
        }
        forward.accept(out);
        System.out.printf("[fd] %-22s n=%4d max|numeric-analytic| %.2e%n", what, x.length, worst);
        return worst;
    }

    @Test
    void conv1d() {
        Random r = new Random(1);
        int N = 5, C = 7, OC = 11;
        float[] inp = rand(r, N * C, 1), w = rand(r, C * OC, 0.5), b = rand(r, OC, 0.5), R = rand(r, N * OC, 1);
        float[] out = new float[N * OC];
        Consumer<float[]> fwd = o -> MatMulTrain.conv1dForward(POOL, o, 0, inp, 0, w, 0, b, 0, N, C, OC);
        float[] dinp = new float[N * C], dw = new float[C * OC], db = new float[OC];
        fwd.accept(out);
        MatMulTrain.conv1dBackward(POOL, dinp, 0, dw, 0, db, 0, R, 0, inp, 0, w, 0, N, C, OC);
        check("conv1d dinp", inp, dinp, out, R, fwd);
        check("conv1d dw", w, dw, out, R, fwd);
        check("conv1d dbias", b, db, out, R, fwd);
    }

    @Test
    void linear() {
        Random r = new Random(2);
        int N = 4, C = 9, OC = 13;
        float[] inp = rand(r, N * C, 1), w = rand(r, OC * C, 0.5), b = rand(r, OC, 0.5), R = rand(r, N * OC, 1);
        float[] out = new float[N * OC];
        Consumer<float[]> fwd = o -> MatMulTrain.linearForward(POOL, o, 0, inp, 0, w, 0, b, 0, N, C, OC);
        float[] dinp = new float[N * C], dw = new float[OC * C], db = new float[OC];
        fwd.accept(out);
        MatMulTrain.linearBackward(POOL, dinp, 0, dw, 0, db, 0, R, 0, inp, 0, w, 0, N, C, OC);
        check("linear dinp", inp, dinp, out, R, fwd);
        check("linear dw", w, dw, out, R, fwd);
        check("linear dbias", b, db, out, R, fwd);
    }

    @Test
    void layerNorm() {
        Random r = new Random(3);
        int N = 4, C = 10;
        float[] inp = rand(r, N * C, 1.5), w = rand(r, C, 0.3), b = rand(r, C, 0.3), R = rand(r, N * C, 1);
        for (int i = 0; i < C; i++) w[i] += 1;
        float[] out = new float[N * C], mean = new float[N], rstd = new float[N];
        Consumer<float[]> fwd = o -> TrainKernels.layerNormForward(o, 0, mean, 0, rstd, 0, inp, 0, w, 0, b, 0, N, C, 1e-5f);
        float[] dinp = new float[N * C], dw = new float[C], db = new float[C];
        fwd.accept(out);
        TrainKernels.layerNormBackward(dinp, 0, dw, 0, db, 0, R, 0, inp, 0, w, 0, mean, 0, rstd, 0, N, C);
        check("layernorm dinp", inp, dinp, out, R, fwd);
        check("layernorm dw", w, dw, out, R, fwd);
        check("layernorm db", b, db, out, R, fwd);
    }

    @Test
    void gelu() {
        Random r = new Random(4);
        int n = 64;
        float[] inp = rand(r, n, 2), R = rand(r, n, 1), out = new float[n], dinp = new float[n];
        Consumer<float[]> fwd = o -> TrainKernels.geluForward(o, inp, n);
        fwd.accept(out);
        TrainKernels.geluBackward(dinp, inp, R, n);
        check("gelu_new dinp", inp, dinp, out, R, fwd);
    }

    @Test
    void attentionCausalWithPaddingMask() {
        Random r = new Random(5);
        int B = 2, T = 5, C = 8, NH = 2;
        float[] qkv = rand(r, B * T * 3 * C, 0.8), R = rand(r, B * T * C, 1);
        // row 0 right-padded, row 1 with a masked key in the middle. Not here: a query whose every visible key is
        // masked (left padding). transformers makes it uniform via s + FMIN == FMIN; autograd (and this backward)
        // still passes d/ds = 1 through that add, which fp32 finite differences cannot see (they measure 0).
        int[] mask = {1, 1, 1, 0, 0, 1, 0, 1, 1, 0};
        float[] out = new float[B * T * C], att = new float[B * NH * T * T];
        Consumer<float[]> fwd = o -> TrainKernels.attentionForward(POOL, o, att, qkv, mask, null, B, T, C, NH);
        float[] dqkv = new float[qkv.length], scratch = new float[B * NH * T];
        fwd.accept(out);
        TrainKernels.attentionBackward(POOL, dqkv, scratch, R, qkv, att, null, B, T, C, NH);
        check("attention dqkv (mask)", qkv, dqkv, out, R, fwd);
        Consumer<float[]> fwdNoMask = o -> TrainKernels.attentionForward(POOL, o, att, qkv, null, null, B, T, C, NH);
        java.util.Arrays.fill(dqkv, 0f);
        fwdNoMask.accept(out);
        TrainKernels.attentionBackward(POOL, dqkv, scratch, R, qkv, att, null, B, T, C, NH);
        check("attention dqkv", qkv, dqkv, out, R, fwdNoMask);
        // attention dropout with a fixed mask (0 or 1/(1-p), p = 0.3) on the probabilities
        float[] drop = new float[B * NH * T * T];
        TrainKernels.dropoutMask(drop, drop.length, 0.3f, new java.util.SplittableRandom(9));
        Consumer<float[]> fwdDrop = o -> TrainKernels.attentionForward(POOL, o, att, qkv, mask, drop, B, T, C, NH);
        java.util.Arrays.fill(dqkv, 0f);
        fwdDrop.accept(out);
        TrainKernels.attentionBackward(POOL, dqkv, scratch, R, qkv, att, drop, B, T, C, NH);
        check("attention dqkv (drop)", qkv, dqkv, out, R, fwdDrop);
    }

    @Test
    void embedding() {
        Random r = new Random(6);
        int B = 2, T = 3, C = 4, V = 5, maxT = 4;
        int[] ids = {1, 3, 1, 4, 0, 1};
        float[] wte = rand(r, V * C, 1), wpe = rand(r, maxT * C, 1), R = rand(r, B * T * C, 1), out = new float[B * T * C];
        Consumer<float[]> fwd = o -> TrainKernels.embeddingForward(o, ids, wte, 0, wpe, 0, B, T, C);
        float[] dwte = new float[V * C], dwpe = new float[maxT * C];
        fwd.accept(out);
        TrainKernels.embeddingBackward(dwte, 0, dwpe, 0, R, ids, B, T, C);
        check("embedding dwte", wte, dwte, out, R, fwd);
        check("embedding dwpe", wpe, dwpe, out, R, fwd);
    }

    @Test
    void vectorAndScalarTwinsAgree() {
        Random r = new Random(7);
        for (int n : new int[]{0, 1, 3, 7, 8, 15, 16, 17, 33, 100, 257}) {
            int aOff = r.nextInt(5), bOff = r.nextInt(5);
            float[] a = rand(r, n + aOff, 1), b = rand(r, n + bOff, 1);
            float ds = Vec.dotScalar(a, aOff, b, bOff, n), dv = Vec.dotVector(a, aOff, b, bOff, n);
            assertTrue(Math.abs(ds - dv) <= 1e-5f * (1 + n), "dot n=" + n + ": " + ds + " vs " + dv);
            float[] y1 = rand(r, n + aOff, 1), y2 = y1.clone();
            Vec.axpyScalar(y1, aOff, b, bOff, 0.37f, n);
            Vec.axpyVector(y2, aOff, b, bOff, 0.37f, n);
            for (int i = 0; i < y1.length; i++) assertTrue(Math.abs(y1[i] - y2[i]) <= 1e-6f, "axpy n=" + n + " i=" + i);
        }
    }
}
