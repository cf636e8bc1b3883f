package io.gpt2j.train.kernels;

import io.gpt2j.core.kernels.Parallel;

/**
 * Forward/backward pairs of the non-matmul GPT-2 ops for training, llm.c style: outputs first, saved activations
 * as arguments, backward accumulates with +=. fp32 storage; row statistics are accumulated in double.
 */
public final class TrainKernels {
    private TrainKernels() {
    }

    /** torch.finfo(float32).min: what transformers 4.38 writes into masked attention scores. */
    public static final float FMIN = -Float.MAX_VALUE;

    // out (B,T,C) = wte[ids[b,t]] + wpe[t]; ids (B,T), wte (V,C), wpe (maxT,C)
    public static void embeddingForward(float[] out, int[] ids, float[] wte, int wteOff, float[] wpe, int wpeOff,
                                        int B, int T, int C) {
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                int o = (b * T + t) * C, iw = wteOff + ids[b * T + t] * C, ip = wpeOff + t * C;
                for (int i = 0; i < C; i++) out[o + i] = wte[iw + i] + wpe[ip + i];
            }
        }
    }

    // dwte (V,C) +=, dwpe (maxT,C) +=; dout (B,T,C)
    public static void embeddingBackward(float[] dwte, int dwteOff, float[] dwpe, int dwpeOff, float[] dout,
                                         int[] ids, int B, int T, int C) {
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                int o = (b * T + t) * C;
                Vec.axpy(dwte, dwteOff + ids[b * T + t] * C, dout, o, 1f, C);
                Vec.axpy(dwpe, dwpeOff + t * C, dout, o, 1f, C);
            }
        }
    }

    /** Rows per task of the row-parallel element-wise kernels, and elements per task of the flat ones. */
    private static final int ROW_GRAIN = 16, FLAT_GRAIN = 1 << 14;

    private static void run(Parallel pool, int n, int grain, Parallel.RangeTask task) {
        if (pool == null) task.run(0, n);
        else pool.forRange(n, grain, task);
    }

    // out (N,C), mean (N), rstd (N); inp (N,C), w (C), b (C); rows in parallel on pool (null: this thread)
    public static void layerNormForward(Parallel pool, float[] out, int outOff, float[] mean, int mOff, float[] rstd, int rOff,
                                        float[] inp, int inpOff, float[] w, int wOff, float[] b, int bOff,
                                        int N, int C, float eps) {
        run(pool, N, ROW_GRAIN, (from, to) -> layerNormRows(out, outOff, mean, mOff, rstd, rOff, inp, inpOff, w, wOff, b, bOff, from, to, C, eps));
    }

    public static void layerNormForward(float[] out, int outOff, float[] mean, int mOff, float[] rstd, int rOff,
                                        float[] inp, int inpOff, float[] w, int wOff, float[] b, int bOff,
                                        int N, int C, float eps) {
        layerNormForward(null, out, outOff, mean, mOff, rstd, rOff, inp, inpOff, w, wOff, b, bOff, N, C, eps);
    }

    private static void layerNormRows(float[] out, int outOff, float[] mean, int mOff, float[] rstd, int rOff,
                                      float[] inp, int inpOff, float[] w, int wOff, float[] b, int bOff,
                                      int n0, int n1, int C, float eps) {
        for (int n = n0; n < n1; n++) {
            int x = inpOff + n * C;
            double s = 0;
            for (int i = 0; i < C; i++) s += inp[x + i];
            float m = (float) (s / C);
            double v = 0;
            for (int i = 0; i < C; i++) {
                double d = inp[x + i] - m;
                v += d * d;
            }
            float r = (float) (1.0 / Math.sqrt(v / C + eps));
            int o = outOff + n * C;
            for (int i = 0; i < C; i++) out[o + i] = (inp[x + i] - m) * r * w[wOff + i] + b[bOff + i];
            mean[mOff + n] = m;
            rstd[rOff + n] = r;
        }
    }

    // dinp (N,C) +=, dw (C) +=, db (C) += (dw, db null: frozen); dout (N,C), inp (N,C), w (C), mean/rstd (N) saved by the
    // forward. dinp in parallel over rows, dw/db over columns, each summed over rows in order (thread-count independent)
    public static void layerNormBackward(Parallel pool, float[] dinp, int dinpOff, float[] dw, int dwOff, float[] db, int dbOff,
                                         float[] dout, int doutOff, float[] inp, int inpOff, float[] w, int wOff,
                                         float[] mean, int mOff, float[] rstd, int rOff, int N, int C) {
        run(pool, N, ROW_GRAIN, (from, to) -> {
            for (int n = from; n < to; n++) {
                int x = inpOff + n * C, d = doutOff + n * C, di = dinpOff + n * C;
                float m = mean[mOff + n], r = rstd[rOff + n];
                double dnormMean = 0, dnormNormMean = 0;
                for (int i = 0; i < C; i++) {
                    float norm = (inp[x + i] - m) * r;
                    float dnorm = w[wOff + i] * dout[d + i];
                    dnormMean += dnorm;
                    dnormNormMean += (double) dnorm * norm;
                }
                float a = (float) (dnormMean / C), bb = (float) (dnormNormMean / C);
                for (int i = 0; i < C; i++) {
                    float norm = (inp[x + i] - m) * r;
                    float dnorm = w[wOff + i] * dout[d + i];
                    dinp[di + i] += (dnorm - a - norm * bb) * r;
                }
            }
        });
        if (dw == null && db == null) return;
        run(pool, C, Math.max(1, FLAT_GRAIN / Math.max(1, N)), (from, to) -> {
            for (int n = 0; n < N; n++) {
                int x = inpOff + n * C, d = doutOff + n * C;
                float m = mean[mOff + n], r = rstd[rOff + n];
                for (int i = from; i < to; i++) {
                    if (db != null) db[dbOff + i] += dout[d + i];
                    if (dw != null) dw[dwOff + i] += (inp[x + i] - m) * r * dout[d + i];
                }
            }
        });
    }

    public static void layerNormBackward(float[] dinp, int dinpOff, float[] dw, int dwOff, float[] db, int dbOff,
                                         float[] dout, int doutOff, float[] inp, int inpOff, float[] w, int wOff,
                                         float[] mean, int mOff, float[] rstd, int rOff, int N, int C) {
        layerNormBackward(null, dinp, dinpOff, dw, dwOff, db, dbOff, dout, doutOff, inp, inpOff, w, wOff, mean, mOff, rstd, rOff, N, C);
    }

    // out (N) = gelu_new(inp) (transformers NewGELUActivation, tanh approximation, see Gelu); in parallel on pool (null: this thread)
    public static void geluForward(Parallel pool, float[] out, float[] inp, int n) {
        run(pool, n, FLAT_GRAIN, (from, to) -> {
            if (Vec.SCALAR) Gelu.forwardScalar(out, inp, from, to);
            else Gelu.forwardVector(out, inp, from, to);
        });
    }

    public static void geluForward(float[] out, float[] inp, int n) {
        geluForward(null, out, inp, n);
    }

    // dinp (N) += gelu_new'(inp) * dout
    public static void geluBackward(Parallel pool, float[] dinp, float[] inp, float[] dout, int n) {
        run(pool, n, FLAT_GRAIN, (from, to) -> {
            if (Vec.SCALAR) Gelu.backwardScalar(dinp, inp, dout, from, to);
            else Gelu.backwardVector(dinp, inp, dout, from, to);
        });
    }

    public static void geluBackward(float[] dinp, float[] inp, float[] dout, int n) {
        geluBackward(null, dinp, inp, dout, n);
    }

    /**
     * Causal self-attention with an optional key padding mask, reproducing transformers 4.38 eager arithmetic:
     * causally hidden scores are replaced by FMIN, then {@code (1 - mask) * FMIN} is added (FMIN + FMIN = -inf).
     * Rows whose every visible key is masked therefore attend uniformly, exactly as transformers does.
     */
    // out (B,T,C), att (B,NH,T,T) saved probabilities (before dropout); qkv (B,T,3C) = [q | k | v],
    // mask (B,T) of 0/1 or null; drop (B,NH,T,T) dropout multipliers (0 or 1/(1-p)) on the probabilities, or null
    public static void attentionForward(Parallel pool, float[] out, float[] att, float[] qkv, int[] mask, float[] drop,
                                        int B, int T, int C, int NH) {
        if (Vec.SCALAR) attentionForwardLoops(pool, out, att, qkv, mask, drop, B, T, C, NH);
        else AttentionTiles.forward(pool, out, att, qkv, mask, drop, B, T, C, NH);
    }

    /** The loop version of {@link #attentionForward} (the scalar twin of {@link AttentionTiles}). */
    static void attentionForwardLoops(Parallel pool, float[] out, float[] att, float[] qkv, int[] mask, float[] drop,
                                      int B, int T, int C, int NH) {
        int hs = C / NH, C3 = 3 * C;
        float sqrtD = (float) Math.sqrt(hs);
        pool.forRange(B * NH, 1, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                int b = bh / NH, h = bh % NH;
                for (int t = 0; t < T; t++) {
                    int q = (b * T + t) * C3 + h * hs;
                    int a = ((b * NH + h) * T + t) * T;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int t2 = 0; t2 < T; t2++) {
                        float s = t2 > t ? FMIN : Vec.dot(qkv, q, qkv, (b * T + t2) * C3 + C + h * hs, hs) / sqrtD;
                        if (mask != null) s = s + (1 - mask[b * T + t2]) * FMIN;
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
                    int o = (b * T + t) * C + h * hs;
                    java.util.Arrays.fill(out, o, o + hs, 0f);
                    for (int t2 = 0; t2 < T; t2++) {
                        float p = att[a + t2] * inv;
                        att[a + t2] = p;
                        float pd = drop == null ? p : p * drop[a + t2];
                        if (pd != 0f) Vec.axpy(out, o, qkv, (b * T + t2) * C3 + 2 * C + h * hs, pd, hs);
                    }
                }
            }
        });
    }

    // dqkv (B,T,3C) +=; dout (B,T,C), qkv (B,T,3C), att (B,NH,T,T) and drop (or null) as in the forward;
    // datt scratch (B*NH*T) for the loop version
    public static void attentionBackward(Parallel pool, float[] dqkv, float[] datt, float[] dout, float[] qkv,
                                         float[] att, float[] drop, int B, int T, int C, int NH) {
        if (Vec.SCALAR) attentionBackwardLoops(pool, dqkv, datt, dout, qkv, att, drop, B, T, C, NH);
        else AttentionTiles.backward(pool, dqkv, dout, qkv, att, drop, B, T, C, NH);
    }

    /** The loop version of {@link #attentionBackward} (the scalar twin of {@link AttentionTiles}). */
    static void attentionBackwardLoops(Parallel pool, float[] dqkv, float[] datt, float[] dout, float[] qkv,
                                       float[] att, float[] drop, int B, int T, int C, int NH) {
        int hs = C / NH, C3 = 3 * C;
        float sqrtD = (float) Math.sqrt(hs);
        pool.forRange(B * NH, 1, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                int b = bh / NH, h = bh % NH;
                int scratch = bh * T;
                for (int t = 0; t < T; t++) {
                    int a = ((b * NH + h) * T + t) * T;
                    int d = (b * T + t) * C + h * hs;
                    double pdp = 0;
                    for (int t2 = 0; t2 < T; t2++) {
                        float p = att[a + t2];
                        float m = drop == null ? 1f : drop[a + t2];
                        int v = (b * T + t2) * C3 + 2 * C + h * hs;
                        float dp = m == 0f ? 0f : Vec.dot(dout, d, qkv, v, hs) * m;
                        datt[scratch + t2] = dp;
                        pdp += (double) p * dp;
                        if (p * m != 0f) Vec.axpy(dqkv, v, dout, d, p * m, hs);
                    }
                    int q = (b * T + t) * C3 + h * hs;
                    // torch.where discards the gradient of causally replaced scores (t2 > t)
                    for (int t2 = 0; t2 <= t; t2++) {
                        float p = att[a + t2];
                        float ds = (float) (p * (datt[scratch + t2] - pdp)) / sqrtD;
                        if (ds == 0f) continue;
                        int k = (b * T + t2) * C3 + C + h * hs;
                        Vec.axpy(dqkv, q, qkv, k, ds, hs);
                        Vec.axpy(dqkv, k, qkv, q, ds, hs);
                    }
                }
            }
        });
    }

    /** Inverted dropout multipliers: 0 with probability p, else 1/(1-p) (torch's scaling). */
    public static void dropoutMask(float[] mask, int n, float p, java.util.SplittableRandom rng) {
        dropoutMask(null, mask, n, p, rng);
    }

    /**
     * As above, in parallel on pool (null: this thread): every chunk of {@link #FLAT_GRAIN} elements draws from its own
     * generator seeded by {@code rng} in chunk order, so the mask depends on the seed only, not on the thread count.
     */
    public static void dropoutMask(Parallel pool, float[] mask, int n, float p, java.util.SplittableRandom rng) {
        float keep = 1f / (1f - p);
        int chunks = (n + FLAT_GRAIN - 1) / FLAT_GRAIN;
        long[] seeds = new long[chunks];
        for (int c = 0; c < chunks; c++) seeds[c] = rng.nextLong();
        run(pool, chunks, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                java.util.SplittableRandom r = new java.util.SplittableRandom(seeds[c]);
                for (int i = c * FLAT_GRAIN, end = Math.min(n, (c + 1) * FLAT_GRAIN); i < end; i++) mask[i] = r.nextFloat() < p ? 0f : keep;
            }
        });
    }

    // x (N) *= mask (N): the dropout forward in place, and its backward on the gradient
    public static void applyMask(float[] x, int xOff, float[] mask, int n) {
        for (int i = 0; i < n; i++) x[xOff + i] *= mask[i];
    }
}
