package io.gpt2j.train.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.kernels.Parallel;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The tiled attention against its loop twin on odd shapes (head sizes below, at and past one vector, T not a multiple
 * of the tile), with a padding mask and attention dropout. Only the order of the q.k and dO.v dot products differs
 * (one fma chain vs lane partial sums), so outputs and gradients agree to fp32 rounding: 1e-5 relative to max(1, |x|).
 */
class AttentionTilesTest {
    static final Parallel POOL = new Parallel(2);

    @AfterAll
    static void close() {
        POOL.close();
    }

    @ParameterizedTest
    @CsvSource({"2, 13, 15, 3, false", "1, 37, 40, 2, true", "3, 9, 64, 2, true", "2, 21, 96, 3, false"})
    void tiledAttentionMatchesTheLoops(int B, int T, int C, int NH, boolean dropout) {
        org.junit.jupiter.api.Assumptions.assumeFalse(Vec.SCALAR, "the scalar engine runs the loops only");
        Random r = new Random(B * 100 + T * 10 + C);
        float[] qkv = new float[B * T * 3 * C], dout = new float[B * T * C];
        for (int i = 0; i < qkv.length; i++) qkv[i] = (float) r.nextGaussian();
        for (int i = 0; i < dout.length; i++) dout[i] = (float) r.nextGaussian();
        int[] mask = new int[B * T];
        for (int i = 0; i < mask.length; i++) mask[i] = i % T < 2 && i / T == 0 ? 0 : 1; // left padding in row 0
        float[] drop = null;
        if (dropout) {
            drop = new float[B * NH * T * T];
            for (int i = 0; i < drop.length; i++) drop[i] = r.nextFloat() < 0.3f ? 0f : 1f / 0.7f;
        }
        float[] out1 = new float[B * T * C], out2 = out1.clone(), att1 = new float[B * NH * T * T], att2 = att1.clone();
        TrainKernels.attentionForwardLoops(POOL, out1, att1, qkv, mask, drop, B, T, C, NH);
        TrainKernels.attentionForward(POOL, out2, att2, qkv, mask, drop, B, T, C, NH);
        float[] d1 = new float[qkv.length], d2 = new float[qkv.length];
        TrainKernels.attentionBackwardLoops(POOL, d1, new float[B * NH * T], dout, qkv, att1, drop, B, T, C, NH);
        TrainKernels.attentionBackward(POOL, d2, new float[B * NH * T], dout, qkv, att2, drop, B, T, C, NH);
        close(out1, out2, "out");
        close(att1, att2, "probabilities");
        close(d1, d2, "dqkv");
    }

    static void close(float[] want, float[] got, String what) {
        double worst = 0;
        for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]) / Math.max(1, Math.abs(want[i])));
        System.out.printf("[AttentionTiles] %s max|diff|/max(1,|x|) %.2e%n", what, worst);
        assertTrue(worst <= 1e-5, what + ": " + worst);
    }
}
