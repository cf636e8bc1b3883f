package io.gpt2j.train.kernels;

import io.gpt2j.core.kernels.Parallel;

/**
 * Causal self-attention forward and backward for training as per-head matrix products on {@link MatTiles}' register
 * tiles (Q K^T, P V, dP = dO V^T, dV = P^T dO, dQ = dS K, dK = dS^T Q), with the same softmax, masking and dropout
 * arithmetic as {@link TrainKernels}' loop versions (the scalar twins). One (batch, head) per task: every output is
 * written by one task in a fixed order, so results do not depend on the thread count. Scratch is per task.
 */
final class AttentionTiles {
    private AttentionTiles() {
    }

    // out (B,T,C), att (B,NH,T,T) saved probabilities; qkv (B,T,3C); mask (B,T) or null; drop (B,NH,T,T) or null
    static void forward(Parallel pool, float[] out, float[] att, float[] qkv, int[] mask, float[] drop,
                        int B, int T, int C, int NH) {
        int hs = C / NH, C3 = 3 * C;
        float sqrtD = (float) Math.sqrt(hs);
        pool.forRange(B * NH, 1, (from, to) -> {
            float[] kt = new float[hs * T];
            float[] pd = drop == null ? null : new float[T * T];
            for (int bh = from; bh < to; bh++) {
                int b = bh / NH, h = bh % NH, a = bh * T * T;
                int q = b * T * C3 + h * hs, k = q + C, v = q + 2 * C;
                transposeRows(kt, qkv, k, C3, T, hs);
                java.util.Arrays.fill(att, a, a + T * T, 0f);
                MatTiles.axpyRows(att, a, T, qkv, q, C3, 1, kt, 0, T, 0, T, hs, T);
                for (int t = 0; t < T; t++) softmaxRow(att, a + t * T, t, mask, b * T, T, sqrtD);
                float[] p = att;
                int pOff = a;
                if (drop != null) {
                    for (int i = 0; i < T * T; i++) pd[i] = att[a + i] * drop[a + i];
                    p = pd;
                    pOff = 0;
                }
                int o = b * T * C + h * hs;
                for (int t = 0; t < T; t++) java.util.Arrays.fill(out, o + t * C, o + t * C + hs, 0f);
                MatTiles.axpyRows(out, o, C, p, pOff, T, 1, qkv, v, C3, 0, T, T, hs);
            }
        });
    }

    /** Scores row t (raw q.k) to probabilities: scaled, causal positions FMIN, then the padding mask, softmax in double. */
    private static void softmaxRow(float[] att, int a, int t, int[] mask, int mOff, int T, float sqrtD) {
        float max = Float.NEGATIVE_INFINITY;
        for (int t2 = 0; t2 < T; t2++) {
            float s = t2 > t ? TrainKernels.FMIN : att[a + t2] / sqrtD;
            if (mask != null) s = s + (1 - mask[mOff + t2]) * TrainKernels.FMIN;
            att[a + t2] = s;
            if (s > max) max = s;
        }
        double sum = 0;
        for (int t2 = 0; t2 < T; t2++) {
            float e = (float) Math.exp(att[a + t2] - max);
            att[a + t2] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int t2 = 0; t2 < T; t2++) att[a + t2] = att[a + t2] * inv;
    }

    // dst (hs,T) = rows [src + t*stride, +hs) for t in [0,T), transposed
    private static void transposeRows(float[] dst, float[] src, int off, int stride, int T, int hs) {
        for (int t = 0; t < T; t++) {
            for (int d = 0; d < hs; d++) dst[d * T + t] = src[off + t * stride + d];
        }
    }

    // dqkv (B,T,3C) +=; dout (B,T,C), qkv, att and drop as in the forward
    static void backward(Parallel pool, float[] dqkv, float[] dout, float[] qkv, float[] att, float[] drop,
                         int B, int T, int C, int NH) {
        int hs = C / NH, C3 = 3 * C;
        float sqrtD = (float) Math.sqrt(hs);
        pool.forRange(B * NH, 1, (from, to) -> {
            float[] vt = new float[hs * T], dp = new float[T * T], pd = drop == null ? null : new float[T * T];
            for (int bh = from; bh < to; bh++) {
                int b = bh / NH, h = bh % NH, a = bh * T * T;
                int q = b * T * C3 + h * hs, k = q + C, v = q + 2 * C, d = b * T * C + h * hs;
                // dP = dO V^T (times the dropout multipliers)
                transposeRows(vt, qkv, v, C3, T, hs);
                java.util.Arrays.fill(dp, 0f);
                MatTiles.axpyRows(dp, 0, T, dout, d, C, 1, vt, 0, T, 0, T, hs, T);
                float[] p = att;
                int pOff = a;
                if (drop != null) {
                    for (int i = 0; i < T * T; i++) {
                        dp[i] *= drop[a + i];
                        pd[i] = att[a + i] * drop[a + i];
                    }
                    p = pd;
                    pOff = 0;
                }
                // dV = P^T dO (rows t2 of V, sum over t in order)
                MatTiles.axpyRows(dqkv, v, C3, p, pOff, 1, T, dout, d, C, 0, T, T, hs);
                // dS = P * (dP - sum(P dP)) / sqrt(hs) on t2 <= t (torch.where drops the causally replaced scores)
                for (int t = 0; t < T; t++) {
                    int r = t * T;
                    double pdp = 0;
                    for (int t2 = 0; t2 < T; t2++) pdp += (double) att[a + r + t2] * dp[r + t2];
                    for (int t2 = 0; t2 <= t; t2++) dp[r + t2] = (float) (att[a + r + t2] * (dp[r + t2] - pdp)) / sqrtD;
                    for (int t2 = t + 1; t2 < T; t2++) dp[r + t2] = 0f;
                }
                MatTiles.axpyRows(dqkv, q, C3, dp, 0, T, 1, qkv, k, C3, 0, T, T, hs);
                MatTiles.axpyRows(dqkv, k, C3, dp, 0, 1, T, qkv, q, C3, 0, T, T, hs);
            }
        });
    }
}
