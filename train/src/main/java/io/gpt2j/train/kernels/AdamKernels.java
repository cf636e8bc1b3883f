package io.gpt2j.train.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise inner loops of AdamW and gradient clipping, Vector API with a scalar twin each. The vector update
 * does exactly the scalar's IEEE operations per lane (separate mul and add, correctly rounded sqrt and division), so
 * both give bit-identical parameters. Allocation-free.
 */
public final class AdamKernels {
    private AdamKernels() {
    }

    private static final VectorSpecies<Float> S = Vec.S;

    /**
     * torch's single-tensor AdamW on params[i0, i1) (moments and gradients at index i - gOff): p *= shrink;
     * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g g; p -= stepSize m / (sqrt(v) / bc2Sqrt + eps).
     */
    public static void update(float[] p, float[] g, float[] m, float[] v, int i0, int i1, int gOff, float shrink,
                              float beta1, float beta2, float stepSize, float bc2Sqrt, float eps) {
        if (Vec.SCALAR) updateScalar(p, g, m, v, i0, i1, gOff, shrink, beta1, beta2, stepSize, bc2Sqrt, eps);
        else updateVector(p, g, m, v, i0, i1, gOff, shrink, beta1, beta2, stepSize, bc2Sqrt, eps);
    }

    public static void updateScalar(float[] p, float[] g, float[] m, float[] v, int i0, int i1, int gOff, float shrink,
                                    float beta1, float beta2, float stepSize, float bc2Sqrt, float eps) {
        float ob1 = (float) (1 - (double) beta1), ob2 = (float) (1 - (double) beta2), ns = -stepSize;
        for (int i = i0; i < i1; i++) {
            int j = i - gOff;
            float gj = g[j];
            p[i] *= shrink;
            m[j] = m[j] * beta1 + ob1 * gj;
            v[j] = v[j] * beta2 + ob2 * gj * gj;
            float denom = (float) Math.sqrt(v[j]) / bc2Sqrt + eps;
            p[i] += ns * m[j] / denom;
        }
    }

    public static void updateVector(float[] p, float[] g, float[] m, float[] v, int i0, int i1, int gOff, float shrink,
                                    float beta1, float beta2, float stepSize, float bc2Sqrt, float eps) {
        float ob1 = (float) (1 - (double) beta1), ob2 = (float) (1 - (double) beta2), ns = -stepSize;
        int len = S.length(), i = i0;
        for (int upper = i0 + S.loopBound(i1 - i0); i < upper; i += len) {
            int j = i - gOff;
            FloatVector gj = FloatVector.fromArray(S, g, j);
            FloatVector mj = FloatVector.fromArray(S, m, j).mul(beta1).add(gj.mul(ob1));
            FloatVector vj = FloatVector.fromArray(S, v, j).mul(beta2).add(gj.mul(ob2).mul(gj));
            mj.intoArray(m, j);
            vj.intoArray(v, j);
            FloatVector denom = vj.sqrt().div(bc2Sqrt).add(eps);
            FloatVector.fromArray(S, p, i).mul(shrink).add(mj.mul(ns).div(denom)).intoArray(p, i);
        }
        updateScalar(p, g, m, v, i, i1, gOff, shrink, beta1, beta2, stepSize, bc2Sqrt, eps);
    }

    /** sum of g[i]^2 over [i0, i1), accumulated in double in index order. */
    public static double sumSquares(float[] g, int i0, int i1) {
        double ss = 0;
        for (int i = i0; i < i1; i++) ss += (double) g[i] * g[i];
        return ss;
    }
}
