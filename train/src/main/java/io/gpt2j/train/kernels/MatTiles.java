package io.gpt2j.train.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled Vector API micro-kernel behind every product of {@link MatMulTrain}: each output element is one
 * fma chain over k in order (vector lanes and scalar tail columns alike), so a tile split, a thread split or a k
 * block never changes a result; only the memory traffic does (one load of b feeds 6 rows, one broadcast of a feeds
 * 4 vectors, a 128-deep k block keeps the b strip in L1). Allocation-free; the scalar engine keeps the plain loops.
 */
final class MatTiles {
    private MatTiles() {
    }

    private static final VectorSpecies<Float> S = Vec.S;
    private static final int LEN = S.length();

    /** k per pass: a 128 x 64-float strip of b (32 KiB) stays in L1 while every row group of the pass reads it. */
    static final int KB = 128;
    /** Columns per pass: the rows x 256 block of y stays in L2 across the k blocks, so b is read once per row block. */
    static final int NC = 256;

    /**
     * Rows r in [r0, r1), columns [0, W): {@code y[yOff + r*ys + o] += sum_k a[aOff + r*ars + k*aks] * b[bOff + k*bs + o]},
     * k in [0, K) in order, as K successive axpys into each row would compute it. y (rows, ys), b (K, bs). The columns
     * are walked in blocks of {@link #NC}, k in blocks of {@link #KB}; each k block continues every output's fma chain where the last left it.
     */
    static void axpyRows(float[] y, int yOff, int ys, float[] a, int aOff, int ars, int aks, float[] b, int bOff, int bs,
                         int r0, int r1, int K, int W) {
        for (int o0 = 0; o0 < W; o0 += NC) {
            int o1 = Math.min(W, o0 + NC);
            for (int k0 = 0; k0 < K; k0 += KB) axpyBlock(y, yOff, ys, a, aOff, ars, aks, b, bOff, bs, r0, r1, k0, Math.min(K, k0 + KB), o0, o1);
        }
    }

    private static void axpyBlock(float[] y, int yOff, int ys, float[] a, int aOff, int ars, int aks, float[] b, int bOff,
                                  int bs, int r0, int r1, int k0, int k1, int o0, int o1) {
        int upper = o0 + S.loopBound(o1 - o0);
        int o = o0;
        for (; o + 4 * LEN <= upper; o += 4 * LEN) {
            int r = r0;
            for (; r + 6 <= r1; r += 6) tile6x4(y, yOff, ys, a, aOff, ars, aks, b, bOff, bs, r, o, k0, k1);
            for (; r + 4 <= r1; r += 4) tile4x4(y, yOff, ys, a, aOff, ars, aks, b, bOff, bs, r, o, k0, k1);
            for (; r < r1; r++) tile1x4(y, yOff, ys, a, aOff, ars, aks, b, bOff, bs, r, o, k0, k1);
        }
        for (; o < upper; o += LEN) {
            for (int r = r0; r < r1; r++) row(y, yOff, ys, a, aOff, ars, aks, b, bOff, bs, r, o, k0, k1);
        }
        for (; o < o1; o++) {
            for (int r = r0; r < r1; r++) {
                float acc = y[yOff + r * ys + o];
                for (int k = k0; k < k1; k++) acc = Math.fma(a[aOff + r * ars + k * aks], b[bOff + k * bs + o], acc);
                y[yOff + r * ys + o] = acc;
            }
        }
    }

    private static void tile1x4(float[] y, int yOff, int ys, float[] a, int aOff, int ars, int aks, float[] b, int bOff,
                                int bs, int r, int o, int k0, int k1) {
        int y0 = yOff + r * ys + o;
        FloatVector c0 = FloatVector.fromArray(S, y, y0), c1 = FloatVector.fromArray(S, y, y0 + LEN);
        FloatVector c2 = FloatVector.fromArray(S, y, y0 + 2 * LEN), c3 = FloatVector.fromArray(S, y, y0 + 3 * LEN);
        int a0 = aOff + r * ars;
        for (int k = k0; k < k1; k++) {
            int bo = bOff + k * bs + o;
            FloatVector x = FloatVector.broadcast(S, a[a0 + k * aks]);
            c0 = FloatVector.fromArray(S, b, bo).fma(x, c0);
            c1 = FloatVector.fromArray(S, b, bo + LEN).fma(x, c1);
            c2 = FloatVector.fromArray(S, b, bo + 2 * LEN).fma(x, c2);
            c3 = FloatVector.fromArray(S, b, bo + 3 * LEN).fma(x, c3);
        }
        c0.intoArray(y, y0);
        c1.intoArray(y, y0 + LEN);
        c2.intoArray(y, y0 + 2 * LEN);
        c3.intoArray(y, y0 + 3 * LEN);
    }

    private static void row(float[] y, int yOff, int ys, float[] a, int aOff, int ars, int aks, float[] b, int bOff,
                            int bs, int r, int o, int k0, int k1) {
        int yo = yOff + r * ys + o;
        FloatVector c0 = FloatVector.fromArray(S, y, yo);
        for (int k = k0; k < k1; k++) {
            c0 = FloatVector.fromArray(S, b, bOff + k * bs + o).fma(FloatVector.broadcast(S, a[aOff + r * ars + k * aks]), c0);
        }
        c0.intoArray(y, yo);
    }

    private static void tile4x4(float[] y, int yOff, int ys, float[] a, int aOff, int ars, int aks, float[] b, int bOff,
                                int bs, int r, int o, int k0, int k1) {
        int y0 = yOff + r * ys + o, y1 = y0 + ys, y2 = y1 + ys, y3 = y2 + ys;
        FloatVector c00 = FloatVector.fromArray(S, y, y0), c01 = FloatVector.fromArray(S, y, y0 + LEN);
        FloatVector c02 = FloatVector.fromArray(S, y, y0 + 2 * LEN), c03 = FloatVector.fromArray(S, y, y0 + 3 * LEN);
        FloatVector c10 = FloatVector.fromArray(S, y, y1), c11 = FloatVector.fromArray(S, y, y1 + LEN);
        FloatVector c12 = FloatVector.fromArray(S, y, y1 + 2 * LEN), c13 = FloatVector.fromArray(S, y, y1 + 3 * LEN);
        FloatVector c20 = FloatVector.fromArray(S, y, y2), c21 = FloatVector.fromArray(S, y, y2 + LEN);
        FloatVector c22 = FloatVector.fromArray(S, y, y2 + 2 * LEN), c23 = FloatVector.fromArray(S, y, y2 + 3 * LEN);
        FloatVector c30 = FloatVector.fromArray(S, y, y3), c31 = FloatVector.fromArray(S, y, y3 + LEN);
        FloatVector c32 = FloatVector.fromArray(S, y, y3 + 2 * LEN), c33 = FloatVector.fromArray(S, y, y3 + 3 * LEN);
        int a0 = aOff + r * ars;
        for (int k = k0; k < k1; k++) {
            int bo = bOff + k * bs + o, ak = a0 + k * aks;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + LEN);
            FloatVector b2 = FloatVector.fromArray(S, b, bo + 2 * LEN), b3 = FloatVector.fromArray(S, b, bo + 3 * LEN);
            FloatVector x = FloatVector.broadcast(S, a[ak]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            c02 = b2.fma(x, c02);
            c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(S, a[ak + ars]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            c12 = b2.fma(x, c12);
            c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(S, a[ak + 2 * ars]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            c22 = b2.fma(x, c22);
            c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(S, a[ak + 3 * ars]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            c32 = b2.fma(x, c32);
            c33 = b3.fma(x, c33);
        }
        c00.intoArray(y, y0);
        c01.intoArray(y, y0 + LEN);
        c02.intoArray(y, y0 + 2 * LEN);
        c03.intoArray(y, y0 + 3 * LEN);
        c10.intoArray(y, y1);
        c11.intoArray(y, y1 + LEN);
        c12.intoArray(y, y1 + 2 * LEN);
        c13.intoArray(y, y1 + 3 * LEN);
        c20.intoArray(y, y2);
        c21.intoArray(y, y2 + LEN);
        c22.intoArray(y, y2 + 2 * LEN);
        c23.intoArray(y, y2 + 3 * LEN);
        c30.intoArray(y, y3);
        c31.intoArray(y, y3 + LEN);
        c32.intoArray(y, y3 + 2 * LEN);
        c33.intoArray(y, y3 + 3 * LEN);
    }

    private static void tile6x4(float[] y, int yOff, int ys, float[] a, int aOff, int ars, int aks, float[] b, int bOff,
                                int bs, int r, int o, int k0, int k1) {
        int y0 = yOff + r * ys + o;
        FloatVector c00 = FloatVector.fromArray(S, y, y0 + 0 * ys + 0 * LEN);
        FloatVector c01 = FloatVector.fromArray(S, y, y0 + 0 * ys + 1 * LEN);
        FloatVector c02 = FloatVector.fromArray(S, y, y0 + 0 * ys + 2 * LEN);
        FloatVector c03 = FloatVector.fromArray(S, y, y0 + 0 * ys + 3 * LEN);
        FloatVector c10 = FloatVector.fromArray(S, y, y0 + 1 * ys + 0 * LEN);
        FloatVector c11 = FloatVector.fromArray(S, y, y0 + 1 * ys + 1 * LEN);
        FloatVector c12 = FloatVector.fromArray(S, y, y0 + 1 * ys + 2 * LEN);
        FloatVector c13 = FloatVector.fromArray(S, y, y0 + 1 * ys + 3 * LEN);
        FloatVector c20 = FloatVector.fromArray(S, y, y0 + 2 * ys + 0 * LEN);
        FloatVector c21 = FloatVector.fromArray(S, y, y0 + 2 * ys + 1 * LEN);
        FloatVector c22 = FloatVector.fromArray(S, y, y0 + 2 * ys + 2 * LEN);
        FloatVector c23 = FloatVector.fromArray(S, y, y0 + 2 * ys + 3 * LEN);
        FloatVector c30 = FloatVector.fromArray(S, y, y0 + 3 * ys + 0 * LEN);
        FloatVector c31 = FloatVector.fromArray(S, y, y0 + 3 * ys + 1 * LEN);
        FloatVector c32 = FloatVector.fromArray(S, y, y0 + 3 * ys + 2 * LEN);
        FloatVector c33 = FloatVector.fromArray(S, y, y0 + 3 * ys + 3 * LEN);
        FloatVector c40 = FloatVector.fromArray(S, y, y0 + 4 * ys + 0 * LEN);
        FloatVector c41 = FloatVector.fromArray(S, y, y0 + 4 * ys + 1 * LEN);
        FloatVector c42 = FloatVector.fromArray(S, y, y0 + 4 * ys + 2 * LEN);
        FloatVector c43 = FloatVector.fromArray(S, y, y0 + 4 * ys + 3 * LEN);
        FloatVector c50 = FloatVector.fromArray(S, y, y0 + 5 * ys + 0 * LEN);
        FloatVector c51 = FloatVector.fromArray(S, y, y0 + 5 * ys + 1 * LEN);
        FloatVector c52 = FloatVector.fromArray(S, y, y0 + 5 * ys + 2 * LEN);
        FloatVector c53 = FloatVector.fromArray(S, y, y0 + 5 * ys + 3 * LEN);
        int a0 = aOff + r * ars;
        for (int k = k0; k < k1; k++) {
            int bo = bOff + k * bs + o, ak = a0 + k * aks;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + LEN);
            FloatVector b2 = FloatVector.fromArray(S, b, bo + 2 * LEN), b3 = FloatVector.fromArray(S, b, bo + 3 * LEN);
            FloatVector x;
            x = FloatVector.broadcast(S, a[ak + 0 * ars]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            c02 = b2.fma(x, c02);
            c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(S, a[ak + 1 * ars]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            c12 = b2.fma(x, c12);
            c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(S, a[ak + 2 * ars]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            c22 = b2.fma(x, c22);
            c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(S, a[ak + 3 * ars]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            c32 = b2.fma(x, c32);
            c33 = b3.fma(x, c33);
            x = FloatVector.broadcast(S, a[ak + 4 * ars]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            c42 = b2.fma(x, c42);
            c43 = b3.fma(x, c43);
            x = FloatVector.broadcast(S, a[ak + 5 * ars]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
            c52 = b2.fma(x, c52);
            c53 = b3.fma(x, c53);
        }
        c00.intoArray(y, y0 + 0 * ys + 0 * LEN);
        c01.intoArray(y, y0 + 0 * ys + 1 * LEN);
        c02.intoArray(y, y0 + 0 * ys + 2 * LEN);
        c03.intoArray(y, y0 + 0 * ys + 3 * LEN);
        c10.intoArray(y, y0 + 1 * ys + 0 * LEN);
        c11.intoArray(y, y0 + 1 * ys + 1 * LEN);
        c12.intoArray(y, y0 + 1 * ys + 2 * LEN);
        c13.intoArray(y, y0 + 1 * ys + 3 * LEN);
        c20.intoArray(y, y0 + 2 * ys + 0 * LEN);
        c21.intoArray(y, y0 + 2 * ys + 1 * LEN);
        c22.intoArray(y, y0 + 2 * ys + 2 * LEN);
        c23.intoArray(y, y0 + 2 * ys + 3 * LEN);
        c30.intoArray(y, y0 + 3 * ys + 0 * LEN);
        c31.intoArray(y, y0 + 3 * ys + 1 * LEN);
        c32.intoArray(y, y0 + 3 * ys + 2 * LEN);
        c33.intoArray(y, y0 + 3 * ys + 3 * LEN);
        c40.intoArray(y, y0 + 4 * ys + 0 * LEN);
        c41.intoArray(y, y0 + 4 * ys + 1 * LEN);
        c42.intoArray(y, y0 + 4 * ys + 2 * LEN);
        c43.intoArray(y, y0 + 4 * ys + 3 * LEN);
        c50.intoArray(y, y0 + 5 * ys + 0 * LEN);
        c51.intoArray(y, y0 + 5 * ys + 1 * LEN);
        c52.intoArray(y, y0 + 5 * ys + 2 * LEN);
        c53.intoArray(y, y0 + 5 * ys + 3 * LEN);
    }
}
