package io.gpt2j.generate;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every case of tiny-gpt2/generate.jsonl and tiny-gpt2-v1000/generate.jsonl: sequences token for token, beam
 * sequences_scores within 1e-4, and for the v1000 greedy cases with stored scores every step's processed scores
 * within 1e-4 (-inf at the same positions).
 */
class GenerateGoldenTest {
    static final double SCORE_TOL = 1e-4;

    @TestFactory
    Stream<DynamicTest> tinyGpt2() throws Exception {
        return cases("tiny-gpt2", 47);
    }

    @TestFactory
    Stream<DynamicTest> tinyGpt2V1000() throws Exception {
        return cases("tiny-gpt2-v1000", 47);
    }

    private Stream<DynamicTest> cases(String model, int expected) throws Exception {
        Path dir = Golden.dir().resolve(model);
        List<Map<String, Object>> cases = Golden.readJsonl(dir.resolve("generate.jsonl"));
        assertEquals(expected, cases.size());
        Path scoresFile = dir.resolve("generate_scores.safetensors");
        Map<String, Golden.Entry> scores = java.nio.file.Files.exists(scoresFile) ? Golden.readSafetensors(scoresFile) : Map.of();
        List<DynamicTest> tests = new ArrayList<>();
        for (Map<String, Object> c : cases) {
            tests.add(DynamicTest.dynamicTest(model + "/" + c.get("case"), () -> runCase(model, c, scores)));
        }
        return tests.stream();
    }

    @SuppressWarnings("unchecked")
    static void runCase(String model, Map<String, Object> c, Map<String, Golden.Entry> scores) {
        Generator gen = new Generator(GoldenModels.lm(model), null);
        GenerationConfig cfg = GenerationConfig.fromMap(GoldenModels.checkpoint(model).generationConfig(),
                (Map<String, Object>) c.get("kwargs"));
        int[][] ids = Golden.intRows(c.get("input_ids"));
        int[][] mask = c.get("attention_mask") == null ? null : Golden.intRows(c.get("attention_mask"));
        List<float[]> steps = new ArrayList<>();
        int V = gen.model().vocabSize();
        StepObserver capture = new StepObserver() {
            @Override
            public boolean onToken(int row, int token, boolean isEos) {
                return false;
            }

            @Override
            public void onScores(int row, float[] s, int off, int vocab) {
                if (row == 0) steps.add(Arrays.copyOfRange(s, off, off + vocab));
            }
        };
        RawGeneration out = gen.generateRaw(ids, mask, cfg, capture);
        int[][] expected = Golden.intRows(c.get("sequences"));
        String name = model + "/" + c.get("case");
        assertEquals(expected.length, out.sequences().length, name + ": number of sequences");
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], out.sequences()[i], name + ": sequence " + i + "\n expected " + Arrays.toString(expected[i])
                    + "\n actual   " + Arrays.toString(out.sequences()[i]));
        }
        if (c.get("sequences_scores") != null) {
            List<Object> ss = (List<Object>) c.get("sequences_scores");
            double maxAbs = 0;
            for (int i = 0; i < ss.size(); i++) {
                maxAbs = Math.max(maxAbs, Math.abs(((Number) ss.get(i)).doubleValue() - out.sequenceScores()[i]));
            }
            System.out.printf("%-50s sequences_scores max-abs %.3g%n", name, maxAbs);
            assertTrue(maxAbs <= SCORE_TOL, name + ": sequences_scores differ by " + maxAbs);
        }
        Object key = c.get("scores_key");
        if (key != null) {
            Golden.Entry e = scores.get((String) key);
            assertNotNull(e, "missing " + key);
            int n = (int) e.shape()[0];
            assertEquals(n, steps.size(), name + ": number of steps");
            double maxAbs = 0;
            for (int t = 0; t < n; t++) {
                for (int v = 0; v < V; v++) {
                    float x = e.floats()[t * V + v], y = steps.get(t)[v];
                    boolean xi = x == Float.NEGATIVE_INFINITY, yi = y == Float.NEGATIVE_INFINITY;
                    assertEquals(xi, yi, name + ": -inf mismatch at step " + t + " token " + v);
                    if (!xi) maxAbs = Math.max(maxAbs, Math.abs(x - y));
                }
            }
            System.out.printf("%-50s per-step scores max-abs %.3g over %d steps%n", name, maxAbs, n);
            assertTrue(maxAbs <= SCORE_TOL, name + ": per-step scores differ by " + maxAbs);
        }
    }
}
