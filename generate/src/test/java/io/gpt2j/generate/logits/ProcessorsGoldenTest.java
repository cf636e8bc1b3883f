package io.gpt2j.generate.logits;

import io.gpt2j.core.io.Json;
import io.gpt2j.generate.GenerationConfig;
import io.gpt2j.generate.Golden;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every case of testdata/golden/logits-processors against transformers 4.38.2's outputs: -inf identical, values within 1e-6. */
class ProcessorsGoldenTest {
    static final double TOL = 1e-6;
    static Map<String, Golden.Entry> tensors;
    static Map<String, Object> json;
    static int[][] inputIds;
    static float[] scores;
    static int V, B;

    @BeforeAll
    static void load() throws Exception {
        Path dir = Golden.dir().resolve("logits-processors");
        tensors = Golden.readSafetensors(dir.resolve("processors.safetensors"));
        json = Json.parseObject(Files.readString(dir.resolve("processors.json")));
        inputIds = Golden.intRows(json.get("input_ids"));
        V = ((Number) json.get("vocab_size")).intValue();
        B = ((Number) json.get("batch")).intValue();
        scores = tensors.get((String) json.get("scores_key")).floats();
    }

    @SuppressWarnings("unchecked")
    static LogitsProcessor build(String cls, Map<String, Object> p) {
        int keep = p.containsKey("min_tokens_to_keep") ? ((Number) p.get("min_tokens_to_keep")).intValue() : 1;
        return switch (cls) {
            case "TemperatureLogitsWarper" -> new TemperatureLogitsWarper(num(p, "temperature"));
            case "TopKLogitsWarper" -> new TopKLogitsWarper((int) num(p, "top_k"), keep);
            case "TopPLogitsWarper" -> new TopPLogitsWarper(num(p, "top_p"), keep);
            case "TypicalLogitsWarper" -> new TypicalLogitsWarper(num(p, "mass"), keep);
            case "EpsilonLogitsWarper" -> new EpsilonLogitsWarper(num(p, "epsilon"), keep);
            case "EtaLogitsWarper" -> new EtaLogitsWarper(num(p, "epsilon"), keep);
            case "RepetitionPenaltyLogitsProcessor" -> new RepetitionPenaltyLogitsProcessor(num(p, "penalty"));
            case "NoRepeatNGramLogitsProcessor" -> new NoRepeatNGramLogitsProcessor((int) num(p, "ngram_size"));
            case "MinLengthLogitsProcessor" -> new MinLengthLogitsProcessor((int) num(p, "min_length"), eos(p.get("eos_token_id")));
            case "MinNewTokensLengthLogitsProcessor" -> new MinNewTokensLengthLogitsProcessor(
                    (int) num(p, "prompt_length_to_skip"), (int) num(p, "min_new_tokens"), eos(p.get("eos_token_id")));
            case "NoBadWordsLogitsProcessor" -> new NoBadWordsLogitsProcessor(
                    ((List<Object>) p.get("bad_words_ids")).stream().map(Golden::ints).toList(), eos(p.get("eos_token_id")));
            default -> throw new AssertionError("unknown class " + cls);
        };
    }

    static double num(Map<String, Object> p, String k) {
        return ((Number) p.get(k)).doubleValue();
    }

    static int[] eos(Object o) {
        return o instanceof List ? Golden.ints(o) : new int[]{((Number) o).intValue()};
    }

    static float[] apply(LogitsProcessor proc, float[] in) {
        float[] s = in.clone();
        for (int b = 0; b < B; b++) proc.process(b, inputIds[b], inputIds[b].length, s, b * V, V);
        return s;
    }

    static void compare(String name, float[] expected, float[] actual) {
        double maxAbs = 0, maxRel = 0;
        int infMismatch = 0;
        for (int i = 0; i < expected.length; i++) {
            boolean ei = expected[i] == Float.NEGATIVE_INFINITY, ai = actual[i] == Float.NEGATIVE_INFINITY;
            if (ei != ai) {
                infMismatch++;
                continue;
            }
            if (ei) continue;
            double d = Math.abs((double) expected[i] - actual[i]);
            maxAbs = Math.max(maxAbs, d);
            maxRel = Math.max(maxRel, d / Math.max(1e-30, Math.abs(expected[i])));
        }
        System.out.printf("%-40s max-abs %.3g max-rel %.3g -inf mismatches %d%n", name, maxAbs, maxRel, infMismatch);
        assertEquals(0, infMismatch, name + ": -inf positions differ");
        assertTrue(maxAbs <= TOL, name + ": max abs error " + maxAbs);
    }

    @SuppressWarnings("unchecked")
    @TestFactory
    Stream<DynamicTest> everyCase() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Object o : (List<Object>) json.get("cases")) {
            Map<String, Object> c = (Map<String, Object>) o;
            String name = (String) c.get("name");
            tests.add(DynamicTest.dynamicTest(name, () -> {
                LogitsProcessor p = build((String) c.get("class"), (Map<String, Object>) c.get("params"));
                compare(name, tensors.get(name).floats(), apply(p, scores));
            }));
        }
        assertEquals(23, tests.size());
        return tests.stream();
    }

    @SuppressWarnings("unchecked")
    @Test
    void samplingCompositionChainMatchesStageByStage() {
        Map<String, Object> comp = (Map<String, Object>) json.get("sampling_composition");
        GenerationConfig cfg = GenerationConfig.fromMap(null, (Map<String, Object>) comp.get("generation_config"));
        List<LogitsProcessor> chain = new ArrayList<>(Processors.processors(cfg, 8).processors());
        chain.addAll(Processors.warpers(cfg).processors());
        List<Object> stages = (List<Object>) comp.get("stages");
        assertEquals(stages.size(), chain.size(), "chain " + chain);
        float[] s = scores.clone();
        for (int i = 0; i < stages.size(); i++) {
            Map<String, Object> st = (Map<String, Object>) stages.get(i);
            String cls = (String) st.get("class");
            assertEquals(cls.replace("LogitsWarper", "").replace("LogitsProcessor", ""),
                    chain.get(i).getClass().getSimpleName().replace("LogitsWarper", "").replace("LogitsProcessor", ""));
            s = apply(chain.get(i), s);
            compare((String) st.get("key"), tensors.get((String) st.get("key")).floats(), s);
        }
        float[] probs = new float[V];
        float[] expected = tensors.get((String) comp.get("probs_key")).floats();
        List<Object> nz = (List<Object>) comp.get("n_nonzero_probs");
        for (int b = 0; b < B; b++) {
            Scores.softmax(s, b * V, V, probs);
            int nonZero = 0;
            double maxAbs = 0;
            for (int i = 0; i < V; i++) {
                if (probs[i] != 0) nonZero++;
                maxAbs = Math.max(maxAbs, Math.abs(probs[i] - expected[b * V + i]));
            }
            System.out.printf("sampling_composition.probs row %d max-abs %.3g nonzero %d%n", b, maxAbs, nonZero);
            assertEquals(((Number) nz.get(b)).intValue(), nonZero);
            assertTrue(maxAbs <= TOL);
        }
    }
}
