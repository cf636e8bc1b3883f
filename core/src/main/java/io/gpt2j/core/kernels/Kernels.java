package io.gpt2j.core.kernels;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row-wise ops of the forward pass (layer norm, activations, residual add, embeddings), each with a scalar twin.
 * Static and allocation-free. {@link #SCALAR} (system property {@code gpt2j.scalar=true}) runs the whole engine
 * on the scalar twins, for debugging.
 */
public final class Kernels {
    private Kernels() {
    }

    /** Read once at start-up; a debugging switch, not mutable state. */
    public static final boolean SCALAR = Boolean.getBoolean("gpt2j.scalar");

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);

    /** Activation functions of GPT2Config.activation_function. */
    public enum Activation {
        GELU_NEW, GELU, RELU, SILU, GELU_FAST, QUICK_GELU;

        public static Activation of(String name) {
            return switch (name) {
                case "gelu_new", "gelu_pytorch_tanh" -> GELU_NEW;
                case "gelu" -> GELU;
                case "relu" -> RELU;
                case "silu", "swish" -> SILU;
                case "gelu_fast" -> GELU_FAST;
                case "quick_gelu" -> QUICK_GELU;
                default -> throw new IllegalArgumentException("unsupported activation_function '" + name + "'");
            };
        }
    }

    /** out (T,C) = layernorm(inp (T,C)) * weight (C) + bias (C); biased variance, as torch. */
    public static void layerNorm(float[] out, float[] inp, MemorySegment weight, MemorySegment bias, int T, int C, float eps) {
        for (int t = 0; t < T; t++) {
            if (SCALAR) layerNormRowScalar(out, inp, weight, bias, t * C, C, eps);
            else layerNormRow(out, inp, weight, bias, t * C, C, eps);
        }
    }

    public static void layerNormRowScalar(float[] out, float[] inp, MemorySegment w, MemorySegment b, int o, int C, float eps) {
        float mean = 0f;
        for (int i = 0; i < C; i++) mean += inp[o + i];
        mean /= C;
        float var = 0f;
        for (int i = 0; i < C; i++) {
            float d = inp[o + i] - mean;
            var += d * d;
        }
        var /= C;
        float rstd = (float) (1.0 / Math.sqrt(var + eps));
        for (int i = 0; i < C; i++) {
            out[o + i] = (inp[o + i] - mean) * rstd * w.getAtIndex(MatMul.F32, i) + b.getAtIndex(MatMul.F32, i);
        }
    }

    static void layerNormRow(float[] out, float[] inp, MemorySegment w, MemorySegment b, int o, int C, float eps) {
        int cv = C - C % L;
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < cv; i += L) acc = acc.add(FloatVector.fromArray(S, inp, o + i));
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int i = cv; i < C; i++) sum += inp[o + i];
        float mean = sum / C;
        FloatVector m = FloatVector.broadcast(S, mean);
        FloatVector vacc = FloatVector.zero(S);
        for (int i = 0; i < cv; i += L) {
            FloatVector d = FloatVector.fromArray(S, inp, o + i).sub(m);
            vacc = d.fma(d, vacc);
        }
        float var = vacc.reduceLanes(VectorOperators.ADD);
        for (int i = cv; i < C; i++) {
            float d = inp[o + i] - mean;
            var += d * d;
        }
        var /= C;
        float rstd = (float) (1.0 / Math.sqrt(var + eps));
        FloatVector rs = FloatVector.broadcast(S, rstd);
        for (int i = 0; i < cv; i += L) {
            FloatVector x = FloatVector.fromArray(S, inp, o + i).sub(m).mul(rs);
            FloatVector g = FloatVector.fromMemorySegment(S, w, 4L * i, MatMul.LE);
            FloatVector bb = FloatVector.fromMemorySegment(S, b, 4L * i, MatMul.LE);
            x.fma(g, bb).intoArray(out, o + i);
        }
        for (int i = cv; i < C; i++) {
            out[o + i] = (inp[o + i] - mean) * rstd * w.getAtIndex(MatMul.F32, i) + b.getAtIndex(MatMul.F32, i);
        }
    }

    /** x (N) = act(x) in place, over [from, to). */
    public static void activation(float[] x, int from, int to, Activation act) {
        if (SCALAR || act != Activation.GELU_NEW) {
            for (int i = from; i < to; i++) x[i] = activationScalar(x[i], act);
            return;
        }
        int i = from;
        FloatVector half = FloatVector.broadcast(S, 0.5f), one = FloatVector.broadcast(S, 1f);
        FloatVector k = FloatVector.broadcast(S, SQRT_2_OVER_PI), c3 = FloatVector.broadcast(S, 0.044715f);
        for (; i + L <= to; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            FloatVector inner = v.mul(v).mul(v).fma(c3, v).mul(k);
            v.mul(half).mul(inner.lanewise(VectorOperators.TANH).add(one)).intoArray(x, i);
        }
        for (; i < to; i++) x[i] = activationScalar(x[i], act);
    }

    public static float activationScalar(float x, Activation act) {
        return switch (act) {
            case GELU_NEW -> (float) (0.5 * x * (1.0 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))));
            case GELU -> (float) (0.5 * x * (1.0 + erf(x / Math.sqrt(2.0))));
            case RELU -> Math.max(0f, x);
            case SILU -> (float) (x / (1.0 + Math.exp(-x)));
            case GELU_FAST -> (float) (0.5 * x * (1.0 + Math.tanh(0.7978845608 * x * (1.0 + 0.044715 * x * x))));
            case QUICK_GELU -> (float) (x / (1.0 + Math.exp(-1.702 * x)));
        };
    }

    /** erf to ~1e-12 (a series for small |x|, a continued fraction for the tail): exact enough for fp32 gelu. */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 2.5) {
            // Maclaurin series: erf x = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 60; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            r = 2.0 / Math.sqrt(Math.PI) * sum;
        } else if (ax > 6) {
            r = 1.0;
        } else {
            // erfc via continued fraction (Lentz), converges fast for x >= 2.5
            double tiny = 1e-300, f = ax, c = ax, d = 0;
            for (int n = 1; n < 200; n++) {
                double an = n / 2.0;
                d = ax + an * d;
                d = Math.abs(d) < tiny ? tiny : d;
                c = ax + an / c;
                c = Math.abs(c) < tiny ? tiny : c;
                d = 1 / d;
                double delta = c * d;
                f *= delta;
                if (Math.abs(delta - 1) < 1e-16) break;
            }
            r = 1.0 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }

    /** x (N) += y (N). */
    public static void add(float[] x, float[] y, int n) {
        int i = 0;
        if (!SCALAR) {
            for (; i + L <= n; i += L) FloatVector.fromArray(S, x, i).add(FloatVector.fromArray(S, y, i)).intoArray(x, i);
        }
        for (; i < n; i++) x[i] += y[i];
    }

    /** out[o..o+C) = wte[token] + wpe[pos], wte stored as {@code dt} (wpe F32). */
    public static void embed(float[] out, int o, MemorySegment wte, io.gpt2j.core.io.DType dt, MemorySegment wpe, int token, int pos, int C) {
        if (dt == io.gpt2j.core.io.DType.F32) {
            embed(out, o, wte, wpe, token, pos, C);
            return;
        }
        long tb = (long) token * C, pb = (long) pos * C;
        for (int i = 0; i < C; i++) out[o + i] = Dequant.scalarAt(wte, dt, tb + i) + wpe.getAtIndex(MatMul.F32, pb + i);
    }

    /** out[o..o+C) = wte[token] + wpe[pos]. */
    public static void embed(float[] out, int o, MemorySegment wte, MemorySegment wpe, int token, int pos, int C) {
        long tb = (long) token * C * 4, pb = (long) pos * C * 4;
        int i = 0;
        if (!SCALAR) {
            for (; i + L <= C; i += L) {
                FloatVector.fromMemorySegment(S, wte, tb + 4L * i, MatMul.LE)
                        .add(FloatVector.fromMemorySegment(S, wpe, pb + 4L * i, MatMul.LE)).intoArray(out, o + i);
            }
        }
        for (; i < C; i++) out[o + i] = wte.get(MatMul.F32, tb + 4L * i) + wpe.get(MatMul.F32, pb + 4L * i);
    }
}
