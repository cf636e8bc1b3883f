package io.gpt2j.train.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.kernels.Parallel;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The register-tiled Conv1D and Linear (LM head) products against plain loops that compute every output as one
 * Math.fma chain in the kernels' k order: bit-identical on odd, unaligned shapes that exercise every tile, k-block
 * and thread-split edge. The scalar twins (-Dgpt2j.scalar=true, plain multiply-add loops) agree to fp32 rounding of
 * the sums. Under the scalar engine MatMulTrain runs the twins, which the scalar-engine golden run checks.
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
    @CsvSource({"9, 37, 70", "7, 33, 53", "130, 19, 5", "5, 64, 96", "1, 3, 17", "70, 131, 300"})
    void tiledConv1dIsOneFmaChainPerOutput(int N, int C, int OC) {
        org.junit.jupiter.api.Assumptions.assumeFalse(Vec.SCALAR, "the scalar engine does not use the tiles");
        Random r = new Random(N * 1000 + C * 10 + OC);
        int off = 3; // unaligned offsets into every array
        float[] inp = rand(r, off + N * C), w = rand(r, off + C * OC), bias = rand(r, off + OC), dout = rand(r, off + N * OC);
        float[] out = new float[off + N * OC], want = new float[off + N * OC];
        MatMulTrain.conv1dForward(POOL, out, off, inp, off, w, off, bias, off, N, C, OC);
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                float acc = bias[off + o];
                for (int c = 0; c < C; c++) acc = Math.fma(inp[off + n * C + c], w[off + c * OC + o], acc);
                want[off + n * OC + o] = acc;
            }
        }
        assertArrayEquals(want, out, "forward");

        float[] dinp = rand(r, off + N * C), dw = rand(r, off + C * OC), db = rand(r, off + OC);
        float[] wantDinp = dinp.clone(), wantDw = dw.clone(), wantDb = db.clone();
        float[] twinDinp = dinp.clone(), twinDw = dw.clone();
        MatMulTrain.conv1dBackward(POOL, dinp, off, dw, off, db, off, dout, off, inp, off, w, off, N, C, OC);
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < C; c++) {
                float acc = wantDinp[off + n * C + c];
                for (int o = 0; o < OC; o++) acc = Math.fma(dout[off + n * OC + o], w[off + c * OC + o], acc);
                wantDinp[off + n * C + c] = acc;
                twinDinp[off + n * C + c] += Vec.dotScalar(dout, off + n * OC, w, off + c * OC, OC);
            }
        }
        for (int c = 0; c < C; c++) {
            for (int o = 0; o < OC; o++) {
                float acc = wantDw[off + c * OC + o];
                for (int n = 0; n < N; n++) acc = Math.fma(inp[off + n * C + c], dout[off + n * OC + o], acc);
                wantDw[off + c * OC + o] = acc;
            }
            for (int n = 0; n < N; n++) Vec.axpyScalar(twinDw, off + c * OC, dout, off + n * OC, inp[off + n * C + c], OC);
        }
        for (int n = 0; n < N; n++) Vec.axpyScalar(wantDb, off, dout, off + n * OC, 1f, OC);
        assertArrayEquals(wantDinp, dinp, "input gradient");
        assertArrayEquals(wantDw, dw, "weight gradient");
        assertArrayEquals(wantDb, db, "bias gradient");
        assertClose(twinDinp, dinp, OC, "input gradient vs the scalar twin");
        assertClose(twinDw, dw, N, "weight gradient vs the scalar twin");
    }

    @ParameterizedTest
    @CsvSource({"9, 37, 70", "7, 33, 300", "130, 19, 5", "1, 3, 17", "36, 64, 1000", "70, 131, 600"})
    void tiledLinearIsOneFmaChainPerOutput(int N, int C, int OC) {
        org.junit.jupiter.api.Assumptions.assumeFalse(Vec.SCALAR, "the scalar engine does not use the tiles");
        Random r = new Random(N * 1000 + C * 10 + OC + 7);
        int off = 5;
        float[] inp = rand(r, off + N * C), w = rand(r, off + OC * C), bias = rand(r, off + OC), dout = rand(r, off + N * OC);
        for (int i = 0; i < N * OC; i += 3) dout[off + i] = 0f; // ignored positions give zero rows/entries
        float[] out = new float[off + N * OC], want = new float[off + N * OC], twin = new float[off + N * OC];
        MatMulTrain.linearForward(POOL, out, off, inp, off, w, off, bias, off, N, C, OC);
        MatMulTrain.linearForwardScalar(POOL, twin, off, inp, off, w, off, bias, off, N, C, OC);
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                float acc = 0f;
                for (int c = 0; c < C; c++) acc = Math.fma(w[off + o * C + c], inp[off + n * C + c], acc);
                want[off + n * OC + o] = bias[off + o] + acc;
            }
        }
        assertArrayEquals(want, out, "forward");
        assertClose(twin, out, C, "forward vs the twin");

        float[] dinp = rand(r, off + N * C), dw = rand(r, off + OC * C), db = rand(r, off + OC);
        float[] wantDinp = dinp.clone(), wantDw = dw.clone(), wantDb = db.clone();
        float[] twinDinp = dinp.clone(), twinDw = dw.clone(), twinDb = db.clone();
        MatMulTrain.linearBackward(POOL, dinp, off, dw, off, db, off, dout, off, inp, off, w, off, N, C, OC);
        MatMulTrain.linearBackwardScalar(POOL, twinDinp, off, twinDw, off, twinDb, off, dout, off, inp, off, w, off, N, C, OC);
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < C; c++) {
                float sum = wantDinp[off + n * C + c];
                for (int o0 = 0; o0 < OC; o0 += MatMulTrain.BLOCK) { // blocks of the LM head summed apart, then added
                    float acc = 0f;
                    for (int o = o0; o < Math.min(OC, o0 + MatMulTrain.BLOCK); o++) acc = Math.fma(dout[off + n * OC + o], w[off + o * C + c], acc);
                    sum += acc;
                }
                wantDinp[off + n * C + c] = sum;
            }
        }
        for (int o = 0; o < OC; o++) {
            float s = 0f;
            for (int c = 0; c < C; c++) {
                float acc = wantDw[off + o * C + c];
                for (int n = 0; n < N; n++) acc = Math.fma(dout[off + n * OC + o], inp[off + n * C + c], acc);
                wantDw[off + o * C + c] = acc;
            }
            for (int n = 0; n < N; n++) s += dout[off + n * OC + o];
            wantDb[off + o] += s;
        }
        assertArrayEquals(wantDinp, dinp, "input gradient");
        assertArrayEquals(wantDw, dw, "weight gradient");
        assertArrayEquals(wantDb, db, "bias gradient");
        assertArrayEquals(twinDb, db, "bias gradient vs the twin");
        assertClose(twinDinp, dinp, OC, "input gradient vs the twin");
        assertClose(twinDw, dw, N, "weight gradient vs the twin");
    }

    /**
     * Two orders of a length-K fp32 sum of unit-normal products differ by about sqrt(K) * 2^-24 * sqrt(K) (the sum's
     * size); 8 K 2^-24 of max(1, |value|) leaves room for the worst element of every case here.
     */
    static void assertClose(float[] want, float[] got, int K, String what) {
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(want[i] - got[i]) / Math.max(1, Math.abs(want[i])));
        }
        System.out.printf("[MatTiles] %s: max|diff|/max(1,|x|) %.2e (K=%d)%n", what, worst, K);
        assertTrue(worst <= 8 * K * 0x1p-24, what + ": " + worst);
    }
}
