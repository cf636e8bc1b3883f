package io.gpt2j.train.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-tiled Vector API inner kernels for the Conv1D products of {@link MatMulTrain}. Each output element is
 * computed with exactly the operations, in the same order, as the dot/axpy loops they replace ({@link Vec}: fma
 * chains over k, lanes summed in a fixed order, unfused scalar tails), so results are bit-identical; only the memory
 * traffic changes (one load of a weight vector feeds 4 rows). Allocation-free; the scalar engine keeps the plain loops.
 */
final class MatTiles {
    private MatTiles() {
    }

    private static final VectorSpecies<Float> S = Vec.S;
    private static final int LEN = S.length();

    /**
     * Rows r in [r0, r1), columns [0, OC): {@code y[yOff + r*OC + o] += sum_k a[aOff + r*ars + k*aks] * b[bOff + k*OC + o]},
     * k in [0, K) in order, as K successive axpys into each row would compute it. y (rows, OC), b (K, OC).
     */
    static void axpyRows(float[] y, int yOff, float[] a, int aOff, int ars, int aks, float[] b, int bOff,
                         int r0, int r1, int K, int OC) {
        int upper = S.loopBound(OC);
        int o = 0;
        for (; o + 2 * LEN <= upper; o += 2 * LEN) {
            int r = r0;
            for (; r + 4 <= r1; r += 4) tile4x2(y, yOff, a, aOff, ars, aks, b, bOff, r, o, K, OC);
            for (; r < r1; r++) {
                int yo = yOff + r * OC + o;
                FloatVector c0 = FloatVector.fromArray(S, y, yo), c1 = FloatVector.fromArray(S, y, yo + LEN);
                for (int k = 0; k < K; k++) {
                    FloatVector x = FloatVector.broadcast(S, a[aOff + r * ars + k * aks]);
                    int bo = bOff + k * OC + o;
                    c0 = FloatVector.fromArray(S, b, bo).fma(x, c0);
                    c1 = FloatVector.fromArray(S, b, bo + LEN).fma(x, c1);
                }
                c0.intoArray(y, yo);
                c1.intoArray(y, yo + LEN);
            }
        }
        for (; o < upper; o += LEN) {
            for (int r = r0; r < r1; r++) {
                int yo = yOff + r * OC + o;
                FloatVector c0 = FloatVector.fromArray(S, y, yo);
                for (int k = 0; k < K; k++) {
                    c0 = FloatVector.fromArray(S, b, bOff + k * OC + o).fma(FloatVector.broadcast(S, a[aOff + r * ars + k * aks]), c0);
                }
                c0.intoArray(y, yo);
            }
        }
        for (; o < OC; o++) {
            for (int r = r0; r < r1; r++) {
                float acc = y[yOff + r * OC + o];
                for (int k = 0; k < K; k++) acc += a[aOff + r * ars + k * aks] * b[bOff + k * OC + o];
                y[yOff + r * OC + o] = acc;
            }
        }
    }

    private static void tile4x2(float[] y, int yOff, float[] a, int aOff, int ars, int aks, float[] b, int bOff,
                                int r, int o, int K, int OC) {
        int y0 = yOff + r * OC + o, y1 = y0 + OC, y2 = y1 + OC, y3 = y2 + OC;
        FloatVector c00 = FloatVector.fromArray(S, y, y0), c01 = FloatVector.fromArray(S, y, y0 + LEN);
        FloatVector c10 = FloatVector.fromArray(S, y, y1), c11 = FloatVector.fromArray(S, y, y1 + LEN);
        FloatVector c20 = FloatVector.fromArray(S, y, y2), c21 = FloatVector.fromArray(S, y, y2 + LEN);
        FloatVector c30 = FloatVector.fromArray(S, y, y3), c31 = FloatVector.fromArray(S, y, y3 + LEN);
        int a0 = aOff + r * ars;
        for (int k = 0; k < K; k++) {
            int bo = bOff + k * OC + o, ak = a0 + k * aks;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + LEN);
            FloatVector x0 = FloatVector.broadcast(S, a[ak]);
            FloatVector x1 = FloatVector.broadcast(S, a[ak + ars]);
            FloatVector x2 = FloatVector.broadcast(S, a[ak + 2 * ars]);
            FloatVector x3 = FloatVector.broadcast(S, a[ak + 3 * ars]);
            c00 = b0.fma(x0, c00);
            c01 = b1.fma(x0, c01);
            c10 = b0.fma(x1, c10);
            c11 = b1.fma(x1, c11);
            c20 = b0.fma(x2, c20);
            c21 = b1.fma(x2, c21);
            c30 = b0.fma(x3, c30);
            c31 = b1.fma(x3, c31);
        }
        c00.intoArray(y, y0);
        c01.intoArray(y, y0 + LEN);
        c10.intoArray(y, y1);
        c11.intoArray(y, y1 + LEN);
        c20.intoArray(y, y2);
        c21.intoArray(y, y2 + LEN);
        c30.intoArray(y, y3);
        c31.intoArray(y, y3 + LEN);
    }

    /**
     * {@code d[dOff + n*C + c] += dot(p row n, q row c)} for n in [n0, n1), c in [c0, c1), rows of length K (p stride
     * K, q stride K), each dot exactly as {@link Vec#dotVector}; 2 x 4 dots share their loads.
     */
    static void dotRows(float[] d, int dOff, int C, float[] p, int pOff, float[] q, int qOff, int n0, int n1,
                        int c0, int c1, int K) {
        int n = n0;
        for (; n + 2 <= n1; n += 2) {
            int c = c0;
            for (; c + 4 <= c1; c += 4) dot2x4(d, dOff, C, p, pOff, q, qOff, n, c, K);
            for (; c < c1; c++) {
                d[dOff + n * C + c] += Vec.dotVector(p, pOff + n * K, q, qOff + c * K, K);
                d[dOff + (n + 1) * C + c] += Vec.dotVector(p, pOff + (n + 1) * K, q, qOff + c * K, K);
            }
        }
        for (; n < n1; n++) {
            for (int c = c0; c < c1; c++) d[dOff + n * C + c] += Vec.dotVector(p, pOff + n * K, q, qOff + c * K, K);
        }
    }

    private static void dot2x4(float[] d, int dOff, int C, float[] p, int pOff, float[] q, int qOff, int n, int c, int K) {
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        int p0 = pOff + n * K, p1 = p0 + K, q0 = qOff + c * K, q1 = q0 + K, q2 = q1 + K, q3 = q2 + K;
        int upper = S.loopBound(K), i = 0;
        for (; i < upper; i += LEN) {
            FloatVector a0 = FloatVector.fromArray(S, p, p0 + i), a1 = FloatVector.fromArray(S, p, p1 + i);
            FloatVector b0 = FloatVector.fromArray(S, q, q0 + i), b1 = FloatVector.fromArray(S, q, q1 + i);
            FloatVector b2 = FloatVector.fromArray(S, q, q2 + i), b3 = FloatVector.fromArray(S, q, q3 + i);
            s00 = a0.fma(b0, s00);
            s01 = a0.fma(b1, s01);
            s02 = a0.fma(b2, s02);
            s03 = a0.fma(b3, s03);
            s10 = a1.fma(b0, s10);
            s11 = a1.fma(b1, s11);
            s12 = a1.fma(b2, s12);
            s13 = a1.fma(b3, s13);
        }
        int r0 = dOff + n * C + c, r1 = r0 + C;
        d[r0] += finish(s00, p, p0, q, q0, i, K);
        d[r0 + 1] += finish(s01, p, p0, q, q1, i, K);
        d[r0 + 2] += finish(s02, p, p0, q, q2, i, K);
        d[r0 + 3] += finish(s03, p, p0, q, q3, i, K);
        d[r1] += finish(s10, p, p1, q, q0, i, K);
        d[r1 + 1] += finish(s11, p, p1, q, q1, i, K);
        d[r1 + 2] += finish(s12, p, p1, q, q2, i, K);
        d[r1 + 3] += finish(s13, p, p1, q, q3, i, K);
    }

    // lanes in a fixed order, then the scalar tail: the same as Vec.dotVector
    private static float finish(FloatVector acc, float[] a, int aOff, float[] b, int bOff, int i, int n) {
        float s = 0f;
        for (int l = 0; l < LEN; l++) s += acc.lane(l);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }
}
