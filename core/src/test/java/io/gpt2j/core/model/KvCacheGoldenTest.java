package io.gpt2j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.Golden;
import io.gpt2j.core.io.Tensor;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Incremental decoding with the KV cache against transformers' cached steps, the cache contents themselves,
 * and a left-padded batch growing its mask each step. Tolerance 1e-4 (golden README: cached vs full pass differ
 * by ≤ 3.1e-6 in torch itself).
 */
class KvCacheGoldenTest {
    static final double TOL = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2", "tiny-gpt2-v1000"})
    void incrementalSingleSequenceMatchesTransformers(String name) {
        Gpt2 model = TestModels.load(name);
        Gpt2Config c = model.config();
        int E = c.nEmbd(), V = c.vocabSize(), NH = c.nHead(), HS = c.headSize();
        Map<String, Tensor> g = Golden.safetensors(Golden.path(name, "kvcache.safetensors"));
        int[] all = g.get("single.input_ids").toIntArray();
        float[] incH = g.get("single.incremental_hidden").toFloatArray();
        float[] incL = g.containsKey("single.incremental_logits") ? g.get("single.incremental_logits").toFloatArray() : null;
        Tensor past = g.get("single.past_after_prompt"); // [L, 2, H, P, D]
        int P = past.dim(3), S = all.length - P;
        InferenceState st = model.newState(1, c.nPositions());
        float[] logits = new float[V], hidden = new float[E];
        model.forward(st, new int[][] {Arrays.copyOf(all, P)}, null, null, logits, hidden, false);
        // the cache after the prompt equals transformers' past_key_values (keys not pre-scaled)
        float[] pk = past.toFloatArray();
        double dc = 0;
        for (int l = 0; l < c.nLayer(); l++)
            for (int kv = 0; kv < 2; kv++)
                for (int h = 0; h < NH; h++)
                    for (int p = 0; p < P; p++)
                        for (int d = 0; d < HS; d++) {
                            float ours = kv == 0 ? st.key(l, 0, h, p, d) : st.value(l, 0, h, p, d);
                            float ref = pk[(((l * 2 + kv) * NH + h) * P + p) * HS + d];
                            dc = Math.max(dc, Math.abs(ours - ref));
                        }
        double dh = Golden.maxAbsDiff(hidden, 0, incH, 0, E), dl = incL == null ? 0 : Golden.maxAbsDiff(logits, 0, incL, 0, V);
        for (int s = 0; s < S; s++) {
            int next = all[P + s];
            if (s < S) assertEquals(next, Gpt2ForwardGoldenTest.argmax(logits, 0, V), "greedy token at step " + s);
            model.forward(st, new int[][] {{next}}, null, null, logits, hidden, false);
            if (s + 1 <= S) {
                dh = Math.max(dh, Golden.maxAbsDiff(hidden, 0, incH, (s + 1) * E, E));
                if (incL != null) dl = Math.max(dl, Golden.maxAbsDiff(logits, 0, incL, (s + 1) * V, V));
            }
        }
        System.out.printf("%s kv single: cache %.2e hidden %.2e logits %.2e%n", name, dc, dh, dl);
        assertTrue(dc < TOL && dh < TOL && dl < TOL, "cache " + dc + " hidden " + dh + " logits " + dl);
        assertEquals(P + S, st.length());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2", "tiny-gpt2-v1000"})
    void incrementalLeftPaddedBatchMatchesFullPass(String name) {
        Gpt2 model = TestModels.load(name);
        Gpt2Config c = model.config();
        int E = c.nEmbd(), V = c.vocabSize();
        Map<String, Tensor> g = Golden.safetensors(Golden.path(name, "kvcache.safetensors"));
        Tensor idsT = g.get("batch.input_ids");
        int B = idsT.dim(0), total = idsT.dim(1);
        int[] ids = idsT.toIntArray(), maskFlat = g.get("batch.attention_mask").toIntArray();
        float[] fullH = g.get("batch.full_hidden").toFloatArray(); // [B, S+1, E]
        int S = g.get("batch.full_hidden").dim(1) - 1, T0 = total - S;
        int[][] prompt = new int[B][T0], mask = new int[B][T0];
        for (int b = 0; b < B; b++) {
            System.arraycopy(ids, b * total, prompt[b], 0, T0);
            System.arraycopy(maskFlat, b * total, mask[b], 0, T0);
        }
        InferenceState st = model.newState(B, c.nPositions());
        float[] logits = new float[B * V], hidden = new float[B * E];
        model.forward(st, prompt, null, mask, logits, hidden, false);
        double dh = 0;
        for (int s = 0; ; s++) {
            for (int b = 0; b < B; b++) dh = Math.max(dh, Golden.maxAbsDiff(hidden, b * E, fullH, (b * (S + 1) + s) * E, E));
            if (s == S) break;
            int[][] next = new int[B][1];
            int[][] m2 = new int[B][];
            for (int b = 0; b < B; b++) {
                next[b][0] = ids[b * total + T0 + s];
                m2[b] = Arrays.copyOf(mask[b], mask[b].length + 1);
                m2[b][mask[b].length] = 1;
            }
            mask = m2;
            model.forward(st, next, null, mask, logits, hidden, false);
        }
        System.out.printf("%s kv batch: hidden %.2e%n", name, dh);
        assertTrue(dh < TOL, "hidden " + dh);
    }

    @Test
    void contextOverflowIsAClearError() {
        Gpt2 model = TestModels.load("tiny-gpt2-v1000");
        int n = model.config().nPositions();
        InferenceState st = model.newState(1, n);
        int[] ids = new int[n + 1];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.forward(st, new int[][] {ids}, null, null, null, null, false));
        assertTrue(e.getMessage().contains("context overflow") && e.getMessage().contains("n_positions=" + n), e.getMessage());
        model.forward(st, new int[][] {new int[n]}, null, null, null, null, false);
        e = assertThrows(IllegalArgumentException.class, () -> model.forward(st, new int[][] {{1}}, null, null, null, null, false));
        assertTrue(e.getMessage().contains("context overflow"), e.getMessage());
    }

    @Test
    void badTokenIdIsAClearError() {
        Gpt2 model = TestModels.load("tiny-gpt2-v1000");
        InferenceState st = model.newState(1, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.forward(st, new int[][] {{5, 1000}}, null, null, null, null, false));
        assertTrue(e.getMessage().contains("1000") && e.getMessage().contains("vocabulary"), e.getMessage());
    }

    @Test
    void paddedBatchEqualsSequencesRunOneByOne() {
        Gpt2 model = TestModels.load("tiny-gpt2-v1000");
        int V = model.config().vocabSize();
        int[][] seqs = {{5, 7, 9, 11, 13, 200, 300}, {42, 17}, {600, 601, 602, 603}};
        int T = 7;
        int[][] ids = new int[3][T], mask = new int[3][T];
        for (int b = 0; b < 3; b++) {
            int pad = T - seqs[b].length;
            Arrays.fill(ids[b], 999);
            System.arraycopy(seqs[b], 0, ids[b], pad, seqs[b].length);
            for (int t = pad; t < T; t++) mask[b][t] = 1;
        }
        float[] batched = new float[3 * V];
        model.forward(model.newState(3, 16), ids, null, mask, batched, null, false);
        for (int b = 0; b < 3; b++) {
            float[] single = new float[V];
            model.forward(model.newState(1, 16), new int[][] {seqs[b]}, null, null, single, null, false);
            double d = Golden.maxAbsDiff(batched, b * V, single, 0, V);
            assertTrue(d < 1e-5, "row " + b + " differs by " + d);
        }
    }

    @Test
    void reorderAndGatherMoveCacheRows() {
        Gpt2 model = TestModels.load("tiny-gpt2-v1000");
        int V = model.config().vocabSize();
        InferenceState st = model.newState(2, 16);
        model.forward(st, new int[][] {{1, 2, 3}, {4, 5, 6}}, null, null, null, null, false);
        InferenceState g = st.gather(new int[] {1, 1, 0}, 16);
        st.reorder(new int[] {1, 0});
        float[] a = new float[2 * V], b = new float[3 * V];
        model.forward(st, new int[][] {{7}, {7}}, null, null, a, null, false);
        model.forward(g, new int[][] {{7}, {7}, {7}}, null, null, b, null, false);
        float[] ref = new float[V];
        model.forward(model.newState(1, 16), new int[][] {{4, 5, 6, 7}}, null, null, ref, null, false);
        assertArrayEquals(ref, Arrays.copyOfRange(a, 0, V), 1e-5f);
        assertArrayEquals(ref, Arrays.copyOfRange(b, 0, V), 1e-5f);
        assertArrayEquals(ref, Arrays.copyOfRange(b, V, 2 * V), 1e-5f);
        model.forward(model.newState(1, 16), new int[][] {{1, 2, 3, 7}}, null, null, ref, null, false);
        assertArrayEquals(ref, Arrays.copyOfRange(a, V, 2 * V), 1e-5f);
        assertArrayEquals(ref, Arrays.copyOfRange(b, 2 * V, 3 * V), 1e-5f);
    }
}
