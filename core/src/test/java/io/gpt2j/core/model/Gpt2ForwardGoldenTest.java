package io.gpt2j.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.Golden;
import io.gpt2j.core.io.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Logits and hidden states against transformers 4.38.2 (fp32). Tolerance 1e-4 max-abs: the golden README measured
 * fp32-vs-fp64 noise of 2.2e-6 (v1000) and 4.5e-6 (tiny-gpt2) on logits up to |7.5|; summation order in our
 * kernels differs from torch's, which stays well within 1e-4.
 */
class Gpt2ForwardGoldenTest {
    static final double TOL = 1e-4;

    @SuppressWarnings("unchecked")
    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2", "tiny-gpt2-v1000"})
    void singleSequencesMatchTransformers(String name) {
        Gpt2 model = TestModels.load(name);
        Gpt2Config c = model.config();
        int E = c.nEmbd(), V = c.vocabSize(), L = c.nLayer();
        Map<String, Tensor> g = Golden.safetensors(Golden.path(name, "forward.safetensors"));
        Map<String, Object> meta = Golden.json(Golden.path(name, "forward.json"));
        for (Object o : (List<Object>) meta.get("sequences")) {
            Map<String, Object> seq = (Map<String, Object>) o;
            String sname = (String) seq.get("name");
            int[] ids = ((List<Object>) seq.get("input_ids")).stream().mapToInt(x -> ((Number) x).intValue()).toArray();
            int T = ids.length;
            float[] logits = new float[T * V], hidden = new float[T * E];
            InferenceState st = model.newState(1, c.nPositions());
            model.forward(st, new int[][] {ids}, null, null, logits, hidden, true);
            float[] gh = g.get(sname + ".hidden_states").toFloatArray(); // [L+1, T, E], last = post ln_f
            double dh = Golden.maxAbsDiff(hidden, 0, gh, L * T * E, T * E);
            double dl;
            if (g.containsKey(sname + ".logits")) {
                dl = Golden.maxAbsDiff(logits, 0, g.get(sname + ".logits").toFloatArray(), 0, T * V);
            } else {
                dl = Golden.maxAbsDiff(logits, (T - 1) * V, g.get(sname + ".last_logits").toFloatArray(), 0, V);
                int[] topIds = g.get(sname + ".top10_ids").toIntArray();
                float[] topVals = g.get(sname + ".top10_values").toFloatArray();
                for (int t = 0; t < T; t++) {
                    for (int k = 0; k < 10; k++) {
                        float ours = logits[t * V + topIds[t * 10 + k]];
                        dl = Math.max(dl, Math.abs(ours - topVals[t * 10 + k]));
                    }
                }
            }
            int argmax = argmax(logits, (T - 1) * V, V);
            System.out.printf("%s %s: hidden max-abs %.2e, logits max-abs %.2e%n", name, sname, dh, dl);
            assertTrue(dh < TOL, name + " " + sname + " hidden max-abs " + dh);
            assertTrue(dl < TOL, name + " " + sname + " logits max-abs " + dl);
            assertEquals(((Number) seq.get("argmax_last")).intValue(), argmax, sname + " argmax");
        }
    }

    @SuppressWarnings("unchecked")
    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2", "tiny-gpt2-v1000"})
    void leftPaddedBatchMatchesTransformersAtRealPositions(String name) {
        Gpt2 model = TestModels.load(name);
        Gpt2Config c = model.config();
        int E = c.nEmbd(), V = c.vocabSize(), L = c.nLayer();
        Map<String, Tensor> g = Golden.safetensors(Golden.path(name, "forward.safetensors"));
        int[] idsFlat = g.get("batch.input_ids").toIntArray();
        int[] maskFlat = g.get("batch.attention_mask").toIntArray();
        int B = g.get("batch.input_ids").dim(0), T = g.get("batch.input_ids").dim(1);
        int[][] ids = new int[B][T], mask = new int[B][T];
        for (int b = 0; b < B; b++) {
            System.arraycopy(idsFlat, b * T, ids[b], 0, T);
            System.arraycopy(maskFlat, b * T, mask[b], 0, T);
        }
        float[] logits = new float[B * T * V], hidden = new float[B * T * E];
        InferenceState st = model.newState(B, c.nPositions());
        model.forward(st, ids, null, mask, logits, hidden, true); // positions derived from the mask
        float[] gh = g.get("batch.hidden_states").toFloatArray(); // [L+1, B, T, E]
        double dh = 0, dl = 0;
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                if (mask[b][t] == 0) continue;
                dh = Math.max(dh, Golden.maxAbsDiff(hidden, (b * T + t) * E, gh, ((L * B + b) * T + t) * E, E));
            }
        }
        float[] gl = g.containsKey("batch.logits") ? g.get("batch.logits").toFloatArray() : null;
        float[] gll = g.containsKey("batch.last_logits") ? g.get("batch.last_logits").toFloatArray() : null;
        for (int b = 0; b < B; b++) {
            if (gl != null) {
                for (int t = 0; t < T; t++) if (mask[b][t] == 1) dl = Math.max(dl, Golden.maxAbsDiff(logits, (b * T + t) * V, gl, (b * T + t) * V, V));
            } else {
                dl = Math.max(dl, Golden.maxAbsDiff(logits, (b * T + T - 1) * V, gll, b * V, V));
            }
        }
        System.out.printf("%s batch: hidden max-abs %.2e, logits max-abs %.2e%n", name, dh, dl);
        assertTrue(dh < TOL, "hidden " + dh);
        assertTrue(dl < TOL, "logits " + dl);
    }

    static int argmax(float[] a, int o, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (a[o + i] > a[o + best]) best = i;
        return best;
    }
}
