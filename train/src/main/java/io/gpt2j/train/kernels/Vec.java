package io.gpt2j.train.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two inner loops every training matmul is built from (dot and axpy) over float[] slices, Vector API with a
 * scalar twin each. {@code -Dgpt2j.scalar=true} runs the training kernels scalar. Allocation-free.
 */
public final class Vec {
    private Vec() {
    }

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** The engine-wide debugging switch (DESIGN.md): every training kernel runs scalar when set. */
    public static final boolean SCALAR = io.gpt2j.core.kernels.Kernels.SCALAR;

    /** sum_i a[aOff+i] * b[bOff+i], i in [0,n). */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return SCALAR ? dotScalar(a, aOff, b, bOff, n) : dotVector(a, aOff, b, bOff, n);
    }

    /** y[yOff+i] += alpha * x[xOff+i], i in [0,n). */
    public static void axpy(float[] y, int yOff, float[] x, int xOff, float alpha, int n) {
        if (SCALAR) axpyScalar(y, yOff, x, xOff, alpha, n);
        else axpyVector(y, yOff, x, xOff, alpha, n);
    }

    public static float dotScalar(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    public static float dotVector(float[] a, int aOff, float[] b, int bOff, int n) {
        int len = S.length();
        int upper = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < upper; i += len) {
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        }
        // reduceLanes(ADD) may sum in a different order interpreted and JIT-compiled, which made training runs
        // differ in the last bits from run to run; a fixed lane order keeps every run bit-identical.
        float s = 0f;
        for (int l = 0; l < len; l++) s += acc.lane(l);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    public static void axpyScalar(float[] y, int yOff, float[] x, int xOff, float alpha, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    public static void axpyVector(float[] y, int yOff, float[] x, int xOff, float alpha, int n) {
        int len = S.length();
        int upper = S.loopBound(n);
        FloatVector va = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (; i < upper; i += len) {
            FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }
}
