package io.gpt2j.train.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * gelu_new (transformers NewGELUActivation) forward and backward in fp32, written as x * sigmoid(2u) with
 * u = sqrt(2/pi) (x + 0.044715 x^3), which equals 0.5 x (1 + tanh u) without its cancellation for negative x. exp is
 * computed here from IEEE adds, multiplies and fmas only (range reduction by ln 2, degree-7 polynomial, exponent
 * bits), so the Vector API version and its scalar twin are bit-identical, interpreted or compiled. Allocation-free.
 */
final class Gelu {
    private Gelu() {
    }

    private static final VectorSpecies<Float> S = Vec.S;
    private static final float K = (float) Math.sqrt(2.0 / Math.PI), A = 0.044715f, A3 = 3 * 0.044715f;
    private static final float LOG2E = 1.44269504f, LN2_HI = 0.693145752f, LN2_LO = 1.42860677e-6f;
    /** 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits. */
    private static final float MAGIC = 12582912f;
    private static final int MAGIC_BITS = Float.floatToRawIntBits(MAGIC);
    /** exp's argument is clamped here: e^80 and e^-80 stay normal floats, and the sigmoid saturates long before. */
    private static final float ZMAX = 80f;
    private static final float C2 = 1f / 2, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120, C6 = 1f / 720, C7 = 1f / 5040;

    /** e^z for z in [-80, 80], within 2 ulp of the exact value. */
    static float exp(float z) {
        z = Math.min(ZMAX, Math.max(-ZMAX, z));
        float t = z * LOG2E + MAGIC;
        float n = t - MAGIC;
        float r = Math.fma(-n, LN2_HI, z);
        r = Math.fma(-n, LN2_LO, r);
        float p = Math.fma(r, C7, C6);
        p = Math.fma(r, p, C5);
        p = Math.fma(r, p, C4);
        p = Math.fma(r, p, C3);
        p = Math.fma(r, p, C2);
        p = Math.fma(r, p, 1f);
        p = Math.fma(r, p, 1f);
        int e = Float.floatToRawIntBits(t) - MAGIC_BITS;
        return Float.intBitsToFloat(Float.floatToRawIntBits(p) + (e << 23));
    }

    static FloatVector exp(FloatVector z) {
        z = z.min(ZMAX).max(-ZMAX);
        FloatVector t = z.mul(LOG2E).add(MAGIC);
        FloatVector n = t.sub(MAGIC);
        FloatVector nn = n.neg();
        FloatVector r = nn.fma(bc(LN2_HI), z);
        r = nn.fma(bc(LN2_LO), r);
        FloatVector p = r.fma(bc(C7), bc(C6));
        p = r.fma(p, bc(C5));
        p = r.fma(p, bc(C4));
        p = r.fma(p, bc(C3));
        p = r.fma(p, bc(C2));
        p = r.fma(p, bc(1f));
        p = r.fma(p, bc(1f));
        IntVector e = ((IntVector) t.reinterpretAsInts()).sub(MAGIC_BITS).lanewise(VectorOperators.LSHL, 23);
        return (FloatVector) ((IntVector) p.reinterpretAsInts()).add(e).reinterpretAsFloats();
    }

    private static FloatVector bc(float c) {
        return FloatVector.broadcast(S, c);
    }

    // sigmoid(2u) = 1 / (1 + e^-2u)
    private static float sig(float x) {
        float u = K * (x + A * x * x * x);
        return 1f / (1f + exp(-2f * u));
    }

    private static FloatVector sig(FloatVector x) {
        FloatVector u = x.mul(A).mul(x).mul(x).add(x).mul(K);
        return FloatVector.broadcast(S, 1f).div(exp(u.mul(-2f)).add(1f));
    }

    // out[i] = gelu(inp[i]) for i in [from, to)
    static void forwardScalar(float[] out, float[] inp, int from, int to) {
        for (int i = from; i < to; i++) out[i] = inp[i] * sig(inp[i]);
    }

    static void forwardVector(float[] out, float[] inp, int from, int to) {
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, inp, i);
            x.mul(sig(x)).intoArray(out, i);
        }
        forwardScalar(out, inp, i, to);
    }

    // dinp[i] += gelu'(inp[i]) * dout[i]; gelu' = s + 2 x s (1 - s) K (1 + 3A x^2), s = sigmoid(2u)
    static void backwardScalar(float[] dinp, float[] inp, float[] dout, int from, int to) {
        for (int i = from; i < to; i++) {
            float x = inp[i], s = sig(x);
            float grad = s + 2f * x * s * (1f - s) * K * (1f + A3 * x * x);
            dinp[i] += grad * dout[i];
        }
    }

    static void backwardVector(float[] dinp, float[] inp, float[] dout, int from, int to) {
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, inp, i), s = sig(x);
            FloatVector poly = x.mul(A3).mul(x).add(1f);
            FloatVector grad = x.mul(2f).mul(s).mul(s.neg().add(1f)).mul(K).mul(poly).add(s);
            FloatVector.fromArray(S, dinp, i).add(grad.mul(FloatVector.fromArray(S, dout, i))).intoArray(dinp, i);
        }
        backwardScalar(dinp, inp, dout, i, to);
    }
}
