package io.gpt2j.generate;

import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.Kernels;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.model.Gpt2Weights;
import io.gpt2j.core.model.InferenceState;

/**
 * Recomputes the post-ln_f hidden states at the left-padding positions of a prefill the way transformers 4.38
 * computes them. There, a pad query's scores against earlier pads, itself and every real token all become exactly
 * finfo.min (later pads -inf), so it attends uniformly to those positions; its position id is 1. Only contrastive
 * search needs this, because its degeneration penalty compares against every earlier hidden state, pads included.
 * Real tokens never attend to pads, so their cached values are exact and are reused. Scalar and slow on purpose:
 * it runs once per prompt, on the pad positions only.
 */
final class PadHiddenStates {
    private PadHiddenStates() {
    }

    /**
     * @param state  the cache right after the prefill of {@code ids} (positions [0, P))
     * @param hidden [B][P][E] post-ln_f hidden states; rows at mask 0 are overwritten
     */
    static void fix(Gpt2 model, InferenceState state, int[][] ids, int[][] mask, float[] hidden) {
        Gpt2Config c = model.config();
        Gpt2Weights w = model.weights();
        int E = c.nEmbd(), NH = c.nHead(), HS = E / NH, P = ids[0].length, L = c.nLayer();
        Kernels.Activation act = Kernels.Activation.of(c.activationFunction());
        float eps = c.layerNormEpsilon();
        rows:
        for (int b = 0; b < ids.length; b++) {
            int npad = 0;
            while (npad < P && mask[b][npad] == 0) npad++;
            if (npad == 0) continue;
            for (int p = npad; p < P; p++) {
                if (mask[b][p] == 0) continue rows; // not left padding: leave the model's values
            }
            float[][] x = new float[npad][E];
            for (int p = 0; p < npad; p++) {
                for (int e = 0; e < E; e++) x[p][e] = w.wte().getFloat((long) ids[b][p] * E + e) + w.wpe().getFloat(E + e);
            }
            for (int l = 0; l < L; l++) {
                Gpt2Weights.Layer layer = w.h().get(l);
                float[][] v = new float[npad][];
                for (int p = 0; p < npad; p++) {
                    float[] h = layerNorm(x[p], layer.ln1Weight(), layer.ln1Bias(), eps);
                    v[p] = linear(h, layer.cAttnWeight(), layer.cAttnBias(), 3 * E, 2 * E, E);
                }
                for (int p = 0; p < npad; p++) {
                    float[] a = new float[E];
                    int count = (p + 1) + (P - npad);
                    for (int hd = 0; hd < NH; hd++) {
                        for (int d = 0; d < HS; d++) {
                            double sum = 0;
                            for (int q = 0; q <= p; q++) sum += v[q][hd * HS + d];
                            for (int q = npad; q < P; q++) sum += state.value(l, b, hd, q, d);
                            a[hd * HS + d] = (float) (sum / count);
                        }
                    }
                    float[] o = linear(a, layer.attnCProjWeight(), layer.attnCProjBias(), E, 0, E);
                    for (int e = 0; e < E; e++) x[p][e] += o[e];
                    float[] h2 = layerNorm(x[p], layer.ln2Weight(), layer.ln2Bias(), eps);
                    int inner = c.nInner();
                    float[] f = linear(h2, layer.cFcWeight(), layer.cFcBias(), inner, 0, inner);
                    for (int i = 0; i < inner; i++) f[i] = Kernels.activationScalar(f[i], act);
                    float[] m = linear(f, layer.mlpCProjWeight(), layer.mlpCProjBias(), E, 0, E);
                    for (int e = 0; e < E; e++) x[p][e] += m[e];
                }
            }
            for (int p = 0; p < npad; p++) {
                float[] out = layerNorm(x[p], w.lnFWeight(), w.lnFBias(), eps);
                System.arraycopy(out, 0, hidden, (b * P + p) * E, E);
            }
        }
    }

    private static float[] layerNorm(float[] x, Tensor weight, Tensor bias, float eps) {
        int n = x.length;
        double mean = 0, var = 0;
        for (float f : x) mean += f;
        mean /= n;
        for (float f : x) var += (f - mean) * (f - mean);
        var /= n;
        double inv = 1 / Math.sqrt(var + eps);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) ((x[i] - mean) * inv * weight.getFloat(i) + bias.getFloat(i));
        return out;
    }

    /** Conv1D: y[j] = b[from + j] + sum_i x[i] * W[i][from + j] for j < n, W stored [in][out]. */
    private static float[] linear(float[] x, Tensor weight, Tensor bias, int out, int from, int n) {
        float[] y = new float[n];
        for (int j = 0; j < n; j++) {
            double s = bias.getFloat(from + j);
            for (int i = 0; i < x.length; i++) s += (double) x[i] * weight.getFloat((long) i * out + from + j);
            y[j] = (float) s;
        }
        return y;
    }
}
