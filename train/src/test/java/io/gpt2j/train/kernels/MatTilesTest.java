package io.gpt2j.train.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.gpt2j.core.kernels.Parallel;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The register-tiled Conv1D and Linear (LM head) kernels against the dot/axpy loops they replaced (Vec's vector twins, written out here),
 * on odd, unaligned shapes that exercise every tile edge: bit-identical, because each output is the same chain of
 * fmas in the same order. Under -Dgpt2j.scalar=true MatMulTrain runs its scalar loops, which the scalar-engine
 * golden run checks; this test needs the vector engine (the default surefire run).
 */
class MatTilesTest {
    static final Parallel POOL = new Parallel(2);

    @AfterAll
    static void close() {
        POOL.close();
    }

    static float[] rand(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @ParameterizedTest
    @CsvSource({"9, 37, 70", "7, 33, 53", "130, 19, 5", "5, 64, 96", "1, 3, 17"})
    void tiledConv1dIsBitIdenticalToTheDotAxpyLoops(int N, int C, int OC) {
        org.junit.jupiter.api.Assumptions.assumeFalse(Vec.SCALAR, "the scalar engine does not use the tiles");
        Random r = new Random(N * 1000 + C * 10 + OC);
        int off = 3; // unaligned offsets into every array
        float[] inp = rand(r, off + N * C), w = rand(r, off + C * OC), bias = rand(r, off + OC), dout = rand(r, off + N * OC);
        float[] out = new float[off + N * OC], want = new float[off + N * OC];
        MatMulTrain.conv1dForward(POOL, out, off, inp, off, w, off, bias, off, N, C, OC);
        for (int n = 0; n < N; n++) {
            System.arraycopy(bias, off, want, off + n * OC, OC);
            for (int c = 0; c < C; c++) Vec.axpyVector(want, off + n * OC, w, off + c * OC, inp[off + n * C + c], OC);
        }
        assertArrayEquals(want, out, "forward");

        float[] dinp = rand(r, off + N * C), dw = rand(r, off + C * OC);
        float[] wantDinp = dinp.clone(), wantDw = dw.clone();
        MatMulTrain.conv1dBackward(POOL, dinp, off, dw, off, null, 0, dout, off, inp, off, w, off, N, C, OC);
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < C; c++) wantDinp[off + n * C + c] += Vec.dotVector(dout, off + n * OC, w, off + c * OC, OC);
        }
        for (int c = 0; c < C; c++) {
            for (int n = 0; n < N; n++) Vec.axpyVector(wantDw, off + c * OC, dout, off + n * OC, inp[off + n * C + c], OC);
        }
        assertArrayEquals(wantDinp, dinp, "input gradient");
        assertArrayEquals(wantDw, dw, "weight gradient");
    }

    @ParameterizedTest
    @CsvSource({"9, 37, 70", "7, 33, 300", "130, 19, 5", "1, 3, 17", "36, 64, 1000"})
    void tiledLinearMatchesTheDotAxpyLoops(int N, int C, int OC) {
        org.junit.jupiter.api.Assumptions.assumeFalse(Vec.SCALAR, "the scalar engine does not use the tiles");
        Random r = new Random(N * 1000 + C * 10 + OC + 7);
        int off = 5;
        float[] inp = rand(r, off + N * C), w = rand(r, off + OC * C), bias = rand(r, off + OC), dout = rand(r, off + N * OC);
        for (int i = 0; i < N * OC; i += 3) dout[off + i] = 0f; // ignored positions give zero rows/entries
        float[] out = new float[off + N * OC], want = new float[off + N * OC];
        MatMulTrain.linearForward(POOL, out, off, inp, off, w, off, bias, off, N, C, OC);
        // the tiled forward sums over c in one fma chain, the loops in 16 lane partial sums: equal up to fp32
        // rounding of a length-C sum, bounded by C * 2^-23 * sum|terms| (the same bound as torch's own reordering)
        MatMulTrain.linearForwardScalar(POOL, want, off, inp, off, w, off, bias, off, N, C, OC);
        double worst = 0;
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double mag = Math.abs(bias[off + o]);
                for (int c = 0; c < C; c++) mag += Math.abs(inp[off + n * C + c] * w[off + o * C + c]);
                double err = Math.abs(out[off + n * OC + o] - want[off + n * OC + o]) / mag;
                worst = Math.max(worst, err);
            }
        }
        System.out.printf("[linear %dx%dx%d] forward max|diff|/sum|terms| %.2e%n", N, C, OC, worst);
        org.junit.jupiter.api.Assertions.assertTrue(worst < C * 0x1p-23, "forward relative error " + worst);

        // the backward products keep each output's order of operations: bit-identical
        float[] dinp = rand(r, off + N * C), dw = rand(r, off + OC * C), db = rand(r, off + OC);
        float[] wantDinp = dinp.clone(), wantDw = dw.clone(), wantDb = db.clone();
        MatMulTrain.linearBackward(POOL, dinp, off, dw, off, db, off, dout, off, inp, off, w, off, N, C, OC);
        MatMulTrain.linearBackwardScalar(POOL, wantDinp, off, wantDw, off, wantDb, off, dout, off, inp, off, w, off, N, C, OC);
        assertArrayEquals(wantDinp, dinp, "input gradient");
        assertArrayEquals(wantDw, dw, "weight gradient");
        assertArrayEquals(wantDb, db, "bias gradient");
    }
}
