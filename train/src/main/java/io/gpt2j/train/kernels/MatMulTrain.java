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

    static final int BLOCK = 256;
    /**
     * Rows of x per register-tiled pass over W in the forward (40 tiles of 6): W is streamed from memory once per
     * pass, so a thread's whole share of rows goes through in one pass where it can (gpt2-large c_fc: +10-15 %).
     */
    private static final int ROWS = 240;
    /** Rows of dout per task of the LM head's input gradient (its row scratch is LROWS x C). */
    private static final int LROWS = 64;
    /** Rows of W per block of the input gradient: its transpose (OC x 64) stays in L2 while rows of dout visit it. */
    private static final int WROWS = 64;
    /** Rows of dout per pass over a transposed block of W (fewer passes: the block is re-read from L2/L3 per pass). */
    private static final int NROWS = 240;

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
                    MatTiles.axpyRows(out, outOff, OC, inp, inpOff, C, 1, w, wOff, OC, r, Math.min(to, r + ROWS), C, OC);
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
            if (!Vec.SCALAR) {
                // dinp[:, block] += dout @ W[block, :]^T: each task transposes its block of W's rows once and runs
                // every row of dout through the register tiles (one fma chain over OC per output)
                pool.forRange((C + WROWS - 1) / WROWS, 1, (from, to) -> {
                    float[] wt = new float[OC * WROWS];
                    for (int blk = from; blk < to; blk++) {
                        int c0 = blk * WROWS, cw = Math.min(WROWS, C - c0);
                        for (int c = 0; c < cw; c++) {
                            for (int o = 0; o < OC; o++) wt[o * cw + c] = w[wOff + (c0 + c) * OC + o];
                        }
                        for (int n = 0; n < N; n += NROWS) {
                            MatTiles.axpyRows(dinp, dinpOff + c0, C, dout, doutOff, OC, 1, wt, 0, cw, n, Math.min(N, n + NROWS), OC, cw);
                        }
                    }
                });
            } else {
                pool.forRange(N, grain(C * OC), (from, to) -> {
                    for (int n = from; n < to; n++) {
                        for (int c = 0; c < C; c++) {
                            dinp[dinpOff + n * C + c] += Vec.dot(dout, doutOff + n * OC, w, wOff + c * OC, OC);
                        }
                    }
                });
            }
        }
        if (dw != null) pool.forRange(C, grain(N * OC), (from, to) -> {
            if (!Vec.SCALAR) {
                MatTiles.axpyRows(dw, dwOff, OC, inp, inpOff, 1, C, dout, doutOff, OC, from, to, N, OC);
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

    /** Rows of W (outputs) per task-local tile of the Linear products: a 64 x N transposed output block stays in L2. */
    private static final int OROWS = 64;

    // out (N,OC), inp (N,C), w (OC,C), bias (OC) or null
    public static void linearForward(Parallel pool, float[] out, int outOff, float[] inp, int inpOff,
                                     float[] w, int wOff, float[] bias, int bOff, int N, int C, int OC) {
        if (Vec.SCALAR) {
            linearForwardScalar(pool, out, outOff, inp, inpOff, w, wOff, bias, bOff, N, C, OC);
            return;
        }
        // out^T (OC,N) = W (OC,C) @ inp^T (C,N), register-tiled along n, then written back transposed: every output is
        // one fma chain over c in order, whatever the split
        float[] inpT = new float[C * N];
        pool.forRange(C, grain(N), (from, to) -> {
            for (int c = from; c < to; c++) {
                for (int n = 0; n < N; n++) inpT[c * N + n] = inp[inpOff + n * C + c];
            }
        });
        pool.forRange((OC + OROWS - 1) / OROWS, 1, (from, to) -> {
            float[] tile = new float[OROWS * N];
            for (int blk = from; blk < to; blk++) {
                int o0 = blk * OROWS, rows = Math.min(OROWS, OC - o0);
                java.util.Arrays.fill(tile, 0f);
                MatTiles.axpyRows(tile, -o0 * N, N, w, wOff, C, 1, inpT, 0, N, o0, o0 + rows, C, N);
                for (int n = 0; n < N; n++) {
                    int dst = outOff + n * OC + o0;
                    for (int r = 0; r < rows; r++) out[dst + r] = (bias != null ? bias[bOff + o0 + r] : 0f) + tile[r * N + n];
                }
            }
        });
    }

    static void linearForwardScalar(Parallel pool, float[] out, int outOff, float[] inp, int inpOff,
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
        if (Vec.SCALAR) {
            linearBackwardScalar(pool, dinp, dinpOff, dw, dwOff, dbias, dbOff, dout, doutOff, inp, inpOff, w, wOff, N, C, OC);
            return;
        }
        // dinp: rows of dout times blocks of BLOCK rows of W, each block summed apart and then added (as the scalar loops)
        pool.forRange((N + LROWS - 1) / LROWS, 1, (from, to) -> {
            float[] block = new float[LROWS * C];
            for (int blk = from; blk < to; blk++) {
                int n0 = blk * LROWS, rows = Math.min(LROWS, N - n0);
                for (int o0 = 0; o0 < OC; o0 += BLOCK) {
                    int k = Math.min(BLOCK, OC - o0);
                    java.util.Arrays.fill(block, 0, rows * C, 0f);
                    MatTiles.axpyRows(block, -n0 * C, C, dout, doutOff + o0, OC, 1, w, wOff + o0 * C, C, n0, n0 + rows, k, C);
                    for (int r = 0; r < rows; r++) Vec.axpyVector(dinp, dinpOff + (n0 + r) * C, block, r * C, 1f, C);
                }
            }
        });
        if (dw == null) return;
        // dw rows o: dout's column o (copied to a contiguous row) times inp, one fma chain over n in order
        pool.forRange((OC + OROWS - 1) / OROWS, 1, (from, to) -> {
            float[] doutT = new float[OROWS * N];
            for (int blk = from; blk < to; blk++) {
                int o0 = blk * OROWS, rows = Math.min(OROWS, OC - o0);
                for (int n = 0; n < N; n++) {
                    int src = doutOff + n * OC + o0;
                    for (int r = 0; r < rows; r++) doutT[r * N + n] = dout[src + r];
                }
                MatTiles.axpyRows(dw, dwOff, C, doutT, -o0 * N, N, 1, inp, inpOff, C, o0, o0 + rows, N, C);
                if (dbias != null) {
                    for (int r = 0; r < rows; r++) {
                        float db = 0f;
                        for (int n = 0; n < N; n++) db += doutT[r * N + n];
                        dbias[dbOff + o0 + r] += db;
                    }
                }
            }
        });
    }

    static void linearBackwardScalar(Parallel pool, float[] dinp, int dinpOff, float[] dw, int dwOff,
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
