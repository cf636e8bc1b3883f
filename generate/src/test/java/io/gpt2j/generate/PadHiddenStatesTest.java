package io.gpt2j.generate;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The final hidden states at left-padding positions (which transformers 4.38's contrastive search compares against)
 * equal forward.safetensors' batch.hidden_states[L] there, and real positions still match too.
 */
class PadHiddenStatesTest {
    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2", "tiny-gpt2-v1000"})
    void padPositionsMatchTransformers(String model) throws Exception {
        Map<String, Golden.Entry> t = Golden.readSafetensors(Golden.dir().resolve(model).resolve("forward.safetensors"));
        Golden.Entry ids = t.get("batch.input_ids"), mask = t.get("batch.attention_mask"), hs = t.get("batch.hidden_states");
        int B = (int) ids.shape()[0], T = (int) ids.shape()[1], L = (int) hs.shape()[0] - 1, E = (int) hs.shape()[3];
        int[] flatIds = ids.ints(), flatMask = mask.ints();
        int[][] tok = new int[B][T], m = new int[B][T];
        for (int b = 0; b < B; b++) {
            System.arraycopy(flatIds, b * T, tok[b], 0, T);
            System.arraycopy(flatMask, b * T, m[b], 0, T);
        }
        Gpt2Lm lm = GoldenModels.lm(model);
        CausalLm.Session s = lm.newSession(B, T);
        float[] hidden = new float[B * T * E];
        s.forward(tok, m, new float[B * lm.vocabSize()], hidden, true);
        double padErr = 0, realErr = 0;
        int pads = 0;
        for (int b = 0; b < B; b++) {
            for (int p = 0; p < T; p++) {
                for (int e = 0; e < E; e++) {
                    double d = Math.abs(hidden[(b * T + p) * E + e] - hs.floats()[((L * B + b) * T + p) * E + e]);
                    if (m[b][p] == 0) padErr = Math.max(padErr, d);
                    else realErr = Math.max(realErr, d);
                }
                if (m[b][p] == 0) pads++;
            }
        }
        System.out.printf("%s: %d pad positions, max-abs error at pads %.3g, at real tokens %.3g%n", model, pads, padErr, realErr);
        assertTrue(pads > 0);
        assertTrue(padErr <= 1e-4, "pad positions differ by " + padErr);
        assertTrue(realErr <= 1e-4, "real positions differ by " + realErr);
    }
}
