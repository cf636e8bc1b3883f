package io.gpt2j.train.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax cross-entropy of one row of logits and its gradient, Vector API with a bit-identical scalar twin: the max
 * is exact in any order, e^(x - max) comes from {@link Gelu#exp} (IEEE operations only, 2 ulp), the sum of the
 * exponentials is taken in double in index order. Allocation-free.
 */
public final class CrossEntropy {
    private CrossEntropy() {
    }

    private static final VectorSpecies<Float> S = Vec.S;

    /** Writes softmax(row) * scale into d (minus scale at label) and returns -log softmax(row)[label]. */
    public static double row(float[] logits, float[] d, int off, int n, int label, float scale) {
        return Vec.SCALAR ? rowScalar(logits, d, off, n, label, scale) : rowVector(logits, d, off, n, label, scale);
    }

    public static double rowScalar(float[] logits, float[] d, int off, int n, int label, float scale) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[off + i]);
        for (int i = 0; i < n; i++) d[off + i] = Gelu.exp(logits[off + i] - max);
        return finish(logits, d, off, 0, n, label, scale, max);
    }

    public static double rowVector(float[] logits, float[] d, int off, int n, int label, float scale) {
        int len = S.length(), upper = S.loopBound(n), i = 0;
        FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (; i < upper; i += len) vmax = vmax.max(FloatVector.fromArray(S, logits, off + i));
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, logits[off + i]);
        FloatVector m = FloatVector.broadcast(S, max);
        for (i = 0; i < upper; i += len) Gelu.exp(FloatVector.fromArray(S, logits, off + i).sub(m)).intoArray(d, off + i);
        for (; i < n; i++) d[off + i] = Gelu.exp(logits[off + i] - max);
        return finish(logits, d, off, upper, n, label, scale, max);
    }

    // d holds e^(x - max): sum it, scale it to softmax * scale, subtract scale at the label; the vector part is [0, upper)
    private static double finish(float[] logits, float[] d, int off, int upper, int n, int label, float scale, float max) {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += d[off + i];
        float f = (float) (scale / sum);
        int len = S.length(), i = 0;
        FloatVector vf = FloatVector.broadcast(S, f);
        for (; i < upper; i += len) FloatVector.fromArray(S, d, off + i).mul(vf).intoArray(d, off + i);
        for (; i < n; i++) d[off + i] *= f;
        d[off + label] -= scale;
        return max + Math.log(sum) - logits[off + label];
    }
}
