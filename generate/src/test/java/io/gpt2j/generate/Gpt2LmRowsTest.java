package io.gpt2j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.gpt2j.core.model.InferenceState;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Gpt2Lm's row session (independent batch-1 caches, what the server's scheduler batches) against its plain
 * multi-row session: same logits and hidden states through prefill, reorder, gather and decode, and the same tokens
 * from a whole beam search. Rows run alone instead of in one batch, and the kernels tile (and so round) differently
 * for different row counts: compared at 1e-5 absolute, about 20 float ulps of these logits (|x| up to ~6; measured
 * differences up to 4e-6).
 */
class Gpt2LmRowsTest {
    private static final float TOL = 1e-5f;

    @Test
    void rowSessionComputesWhatThePlainSessionComputes() {
        Gpt2Lm lm = GoldenModels.lm("tiny-gpt2");
        int V = lm.vocabSize(), E = lm.hiddenSize();
        int[][] prompt = {{464, 2068, 7586, 21831}, {7454, 2402, 257, 640}};
        CausalLm.Session plain = lm.newSession(2, 16);
        Gpt2Lm.Rows rows = lm.newRowSession(2, 16);
        float[] a = new float[2 * V], b = new float[2 * V], ha = new float[2 * 4 * E], hb = new float[2 * 4 * E];
        plain.forward(prompt, null, a, ha, true);
        rows.forward(prompt, null, b, hb, true);
        close(a, b, "prefill logits");
        close(ha, hb, "prefill hidden states (all positions)");
        assertEquals(4, rows.length());

        plain.reorder(new int[]{1, 1});
        rows.reorder(new int[]{1, 1});
        assertNotSame(rows.row(0), rows.row(1), "a repeated row is copied, not shared");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> rows.reorder(new int[]{0, 1, 1}));
        assertEquals("reorder needs 2 row indices, got 3", bad.getMessage());
        int[][] next = {{11}, {13}};
        float[] c = new float[2 * V], d = new float[2 * V];
        plain.forward(next, null, c, null, false);
        rows.forward(next, null, d, null, false);
        close(c, d, "decode after reorder");

        CausalLm.Session pg = plain.gather(new int[]{1, 0}, 8);
        Gpt2Lm.Rows rg = rows.gather(new int[]{1, 0}, 8);
        float[] e = new float[2 * V], f = new float[2 * V];
        pg.forward(new int[][]{{50}, {51}}, null, e, null, false);
        // the gathered rows' caches step together in one decodeBatch, as the scheduler runs them
        lm.model().decodeBatch(new InferenceState[]{rg.row(0), rg.row(1)}, new int[]{50, 51}, f);
        close(e, f, "gathered rows in one decodeBatch");
        assertEquals(6, rg.length());
    }

    @Test
    void prefillOfSeveralSessionsSharesThePrefixPassAndMatchesEachAlone() {
        Gpt2Lm lm = GoldenModels.lm("tiny-gpt2");
        int V = lm.vocabSize();
        int[][] prompts = {{464, 2068, 7586, 21831, 18045, 625}, {7454, 2402, 257}, {15496, 11, 616, 1438}};
        Gpt2Lm.Rows[] sessions = new Gpt2Lm.Rows[3];
        float[][] got = new float[3][V];
        for (int i = 0; i < 3; i++) sessions[i] = lm.newRowSession(1, 12);
        lm.prefill(sessions, prompts, got);
        for (int i = 0; i < 3; i++) {
            float[] want = new float[V];
            lm.newSession(1, 12).forward(new int[][]{prompts[i]}, null, want, null, false);
            close(want, got[i], "prefill " + i + " (" + prompts[i].length + " tokens, 3 shared)");
            assertEquals(prompts[i].length, sessions[i].length());
            assertEquals(12, sessions[i].row(0).capacity(), "the session keeps its capacity");
        }
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> lm.prefill(new Gpt2Lm.Rows[]{sessions[0]}, new int[][]{{1}}, new float[][]{new float[V]}));
        assertEquals("prefill needs fresh single-row sessions; session 0 has 1 rows and 6 cached positions", bad.getMessage());
    }

    @Test
    void beamSearchOnRowSessionsGivesThePlainTokens() {
        Gpt2Lm lm = GoldenModels.lm("tiny-gpt2");
        CausalLm rowsOnly = new CausalLm() {
            @Override
            public int vocabSize() {
                return lm.vocabSize();
            }

            @Override
            public int contextLength() {
                return lm.contextLength();
            }

            @Override
            public int hiddenSize() {
                return lm.hiddenSize();
            }

            @Override
            public Session newSession(int batch, int capacity) {
                return lm.newRowSession(batch, capacity);
            }
        };
        GenerationConfig config = GenerationConfig.fromMap(java.util.Map.of(), java.util.Map.of(
                "max_new_tokens", 12, "num_beams", 3, "num_return_sequences", 2, "do_sample", false));
        List<int[]> prompts = List.of(new int[]{464, 2068, 7586});
        var plain = new Generator(lm, null).generate(prompts, config, null).get(0);
        var rows = new Generator(rowsOnly, null).generate(prompts, config, null).get(0);
        assertEquals(plain.size(), rows.size());
        for (int i = 0; i < plain.size(); i++) assertArrayEquals(plain.get(i).tokenIds(), rows.get(i).tokenIds(), "sequence " + i);
    }

    private static void close(float[] x, float[] y, String what) {
        double max = 0, scale = 0;
        for (int i = 0; i < x.length; i++) {
            max = Math.max(max, Math.abs(x[i] - y[i]));
            scale = Math.max(scale, Math.abs(x[i]));
        }
        System.out.printf("%s: max abs diff %.3g (values up to %.3g)%n", what, max, scale);
        if (!(max <= TOL)) throw new AssertionError(what + ": max abs diff " + max + " > " + TOL);
    }
}
