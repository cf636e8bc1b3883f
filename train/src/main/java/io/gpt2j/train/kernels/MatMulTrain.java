package io.gpt2j.train.kernels;

import io.gpt2j.core.kernels.Parallel;

/**
 * Forward and backward of the two matmul shapes GPT-2 training needs, fp32 over float[] with offsets:
 * Conv1D ({@code y = x @ W + b}, W stored [in, out] as in transformers) and the tied LM head ({@code y = x @ W^T},
 * W [out, in]). Backward accumulates with +=. Work is split so every thread writes disjoint outputs, so results
 * do not depend on the thread count.
 */
public final class MatMulTrain {
    private MatMulTrain() {
    }

    private static final int BLOCK = 256;
    /** Rows of x per register-tiled pass over W in the forward: 32 rows of up to 5120 floats stay in L2 beside a W panel. */
    private static final int ROWS = 32;
    /** Rows of W per pass of the input-gradient dots: a 32 x OC block of W stays in L2 while every row of dout visits it. */
    private static final int WROWS = 32;

    private static int grain(int work) {
        return Math.max(1, 32768 / Math.max(1, work));
    }

    // out (N,OC), inp (N,C), w (C,OC), bias (OC) or null
    public static void conv1dForward(Parallel pool, float[] out, int outOff, float[] inp, int inpOff,
                                     float[] w, int wOff, float[] bias, int bOff, int N, int C, int OC) {
        pool.forRange(N, grain(C * OC), (from, to) -> {
            if (!Vec.SCALAR) {
                for (int n = from; n < to; n++) {
                    if (bias != null) System.arraycopy(bias, bOff, out, outOff + n * OC, OC);
                    else java.util.Arrays.fill(out, outOff + n * OC, outOff + (n + 1) * OC, 0f);
                }
                for (int r = from; r < to; r += ROWS) {
                    MatTiles.axpyRows(out, outOff, inp, inpOff, C, 1, w, wOff, r, Math.min(to, r + ROWS), C, OC);
                }
                return;
            }
            for (int n = from; n < to; n++) {
                int o = outOff + n * OC;
                if (bias != null) System.arraycopy(bias, bOff, out, o, OC);
                else java.util.Arrays.fill(out, o, o + OC, 0f);
                for (int c = 0; c < C; c++) {
                    float x = inp[inpOff + n * C + c];
                    if (x != 0f) Vec.axpy(out, o, w, wOff + c * OC, x, OC);
                }
            }
        });
    }

    // dinp (N,C) +=, dw (C,OC) +=, dbias (OC) += (each null to skip: frozen weights, no input gradient needed);
    // dout (N,OC), inp (N,C), w (C,OC)
    public static void conv1dBackward(Parallel pool, float[] dinp, int dinpOff, float[] dw, int dwOff,
                                      float[] dbias, int dbOff, float[] dout, int doutOff,
                                      float[] inp, int inpOff, float[] w, int wOff, int N, int C, int OC) {
        if (dinp != null) {
            pool.forRange(N, grain(C * OC), (from, to) -> {
                if (!Vec.SCALAR) {
                    for (int c = 0; c < C; c += WROWS) {
                        MatTiles.dotRows(dinp, dinpOff, C, dout, doutOff, w, wOff, from, to, c, Math.min(C, c + WROWS), OC);
                    }
                    return;
                }
                for (int n = from; n < to; n++) {
                    for (int c = 0; c < C; c++) {
                        dinp[dinpOff + n * C + c] += Vec.dot(dout, doutOff + n * OC, w, wOff + c * OC, OC);
                    }
                }
            });
        }
        if (dw != null) pool.forRange(C, grain(N * OC), (from, to) -> {
            if (!Vec.SCALAR) {
                MatTiles.axpyRows(dw, dwOff, inp, inpOff, 1, C, dout, doutOff, from, to, N, OC);
                return;
            }
            for (int c = from; c < to; c++) {
                for (int n = 0; n < N; n++) {
                    float x = inp[inpOff + n * C + c];
                    if (x != 0f) Vec.axpy(dw, dwOff + c * OC, dout, doutOff + n * OC, x, OC);
                }
            }
        });
        if (dbias != null) {
            for (int n = 0; n < N; n++) Vec.axpy(dbias, dbOff, dout, doutOff + n * OC, 1f, OC);
        }
    }

    // out (N,OC), inp (N,C), w (OC,C), bias (OC) or null
    public static void linearForward(Parallel pool, float[] out, int outOff, float[] inp, int inpOff,
                                     float[] w, int wOff, float[] bias, int bOff, int N, int C, int OC) {
        pool.forRange(OC, grain(N * C), (from, to) -> {
            for (int o = from; o < to; o++) {
                float b = bias != null ? bias[bOff + o] : 0f;
                for (int n = 0; n < N; n++) {
                    out[outOff + n * OC + o] = b + Vec.dot(inp, inpOff + n * C, w, wOff + o * C, C);
                }
            }
        });
    }

    // dinp (N,C) +=, dw (OC,C) +=, dbias (OC) += (dw and dbias null to skip); dout (N,OC), inp (N,C), w (OC,C)
    public static void linearBackward(Parallel pool, float[] dinp, int dinpOff, float[] dw, int dwOff,
                                      float[] dbias, int dbOff, float[] dout, int doutOff,
                                      float[] inp, int inpOff, float[] w, int wOff, int N, int C, int OC) {
        pool.forRange(N, grain(C * OC), (from, to) -> {
            // blocks of BLOCK outputs are summed apart and then added: with OC = 50257 (the LM head) one running
            // fp32 sum per element lost ~1e-5 of max|g|; blocking brings it to the level of torch's own noise
            float[] block = new float[C];
            for (int n = from; n < to; n++) {
                for (int o0 = 0; o0 < OC; o0 += BLOCK) {
                    java.util.Arrays.fill(block, 0f);
                    for (int o = o0, oEnd = Math.min(OC, o0 + BLOCK); o < oEnd; o++) {
                        float d = dout[doutOff + n * OC + o];
                        if (d != 0f) Vec.axpy(block, 0, w, wOff + o * C, d, C);
                    }
                    Vec.axpy(dinp, dinpOff + n * C, block, 0, 1f, C);
                }
            }
        });
        if (dw != null) pool.forRange(OC, grain(N * C), (from, to) -> {
            for (int o = from; o < to; o++) {
                float db = 0f;
                for (int n = 0; n < N; n++) {
                    float d = dout[doutOff + n * OC + o];
                    db += d;
                    if (d != 0f) Vec.axpy(dw, dwOff + o * C, inp, inpOff + n * C, d, C);
                }
                if (dbias != null) dbias[dbOff + o] += db;
            }
        });
    }
}
