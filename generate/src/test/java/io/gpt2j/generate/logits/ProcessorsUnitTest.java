package io.gpt2j.generate.logits;

import io.gpt2j.generate.GenerationConfig;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Processors without golden files (min_p, sequence bias, suppress, renormalize, Hamming) and argument checks. */
class ProcessorsUnitTest {
    static final float NEG = Float.NEGATIVE_INFINITY;

    @Test
    void minPKeepsTokensAboveAFractionOfTheTop() {
        float[] s = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        new MinPLogitsWarper(0.2, 1).process(0, new int[0], 0, s, 0, 4);
        assertTrue(s[0] > NEG && s[1] > NEG && s[2] > NEG, "0.15 >= 0.2 * 0.5 stays");
        assertEquals(NEG, s[3]);
        float[] t = {0f, -1f, -2f, -3f};
        new MinPLogitsWarper(1.0, 3).process(0, new int[0], 0, t, 0, 4);
        assertArrayEquals(new float[]{0f, -1f, -2f, NEG}, t, "min_tokens_to_keep keeps the best 3");
    }

    @Test
    void sequenceBiasAddsWhenThePrefixMatches() {
        Map<List<Integer>, Double> bias = new LinkedHashMap<>();
        bias.put(List.of(2), 1.5);
        bias.put(List.of(7, 3), -2.0);
        bias.put(List.of(8, 3), 10.0);
        SequenceBiasLogitsProcessor p = new SequenceBiasLogitsProcessor(bias);
        float[] s = new float[10];
        p.process(0, new int[]{1, 7}, 2, s, 0, 10);
        assertArrayEquals(new float[]{0, 0, 1.5f, -2f, 0, 0, 0, 0, 0, 0}, s);
        float[] again = new float[10];
        p.process(0, new int[]{1, 7}, 2, again, 0, 10);
        assertArrayEquals(s, again, "no state leaks between calls");
        assertThrows(IllegalArgumentException.class, () -> new SequenceBiasLogitsProcessor(Map.of(List.of(9), 1.0))
                .process(0, new int[0], 0, new float[5], 0, 5));
    }

    @Test
    void suppressAndRenormalize() {
        float[] s = {1f, 2f, 3f};
        new SuppressTokensLogitsProcessor(1).process(0, new int[0], 0, s, 0, 3);
        assertEquals(NEG, s[1]);
        new LogitNormalization().process(0, new int[0], 0, s, 0, 3);
        assertEquals(1.0, Math.exp(s[0]) + Math.exp(s[2]), 1e-6);
    }

    @Test
    void hammingPenalisesTokensOfEarlierGroups() {
        HammingDiversityLogitsProcessor h = new HammingDiversityLogitsProcessor(0.5, 4, 2);
        int[] current = {3, 3, 0, 0};
        h.setStep(current, 1);
        float[] s = new float[5];
        h.process(0, new int[0], 0, s, 0, 5);
        assertArrayEquals(new float[]{0, 0, 0, -1.0f, 0}, s);
        h.setStep(current, 0);
        float[] t = new float[5];
        h.process(0, new int[0], 0, t, 0, 5);
        assertArrayEquals(new float[5], t, "the first group is never penalised");
    }

    @Test
    void argumentErrorsShowTheValue() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new TopPLogitsWarper(1.5)).getMessage().contains("1.5"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new TopKLogitsWarper(0)).getMessage().contains("0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new TemperatureLogitsWarper(-1)).getMessage().contains("-1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RepetitionPenaltyLogitsProcessor(0)).getMessage().contains("0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new NoRepeatNGramLogitsProcessor(-2)).getMessage().contains("-2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new TypicalLogitsWarper(1.0, 1)).getMessage().contains("1.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EtaLogitsWarper(2.0, 1)).getMessage().contains("2.0"));
    }

    @Test
    void chainOrderIsTransformers() {
        GenerationConfig c = GenerationConfig.fromMap(null, Map.ofEntries(Map.entry("do_sample", true),
                Map.entry("eos_token_id", 0), Map.entry("sequence_bias", List.of(List.of(List.of(1), 1.0))),
                Map.entry("repetition_penalty", 1.2), Map.entry("no_repeat_ngram_size", 2),
                Map.entry("bad_words_ids", List.of(List.of(3))), Map.entry("min_length", 5), Map.entry("min_new_tokens", 2),
                Map.entry("suppress_tokens", List.of(4)), Map.entry("renormalize_logits", true),
                Map.entry("temperature", 0.7), Map.entry("top_p", 0.9), Map.entry("min_p", 0.05), Map.entry("typical_p", 0.9),
                Map.entry("epsilon_cutoff", 0.001), Map.entry("eta_cutoff", 0.001)));
        assertEquals(List.of("SequenceBiasLogitsProcessor", "RepetitionPenaltyLogitsProcessor", "NoRepeatNGramLogitsProcessor",
                "NoBadWordsLogitsProcessor", "MinLengthLogitsProcessor", "MinNewTokensLengthLogitsProcessor",
                "SuppressTokensLogitsProcessor", "LogitNormalization"), names(Processors.processors(c, 3)));
        assertEquals(List.of("TemperatureLogitsWarper", "TopKLogitsWarper", "TopPLogitsWarper", "MinPLogitsWarper",
                "TypicalLogitsWarper", "EpsilonLogitsWarper", "EtaLogitsWarper", "LogitNormalization"), names(Processors.warpers(c)));
    }

    static List<String> names(LogitsProcessorList l) {
        return l.processors().stream().map(p -> p.getClass().getSimpleName()).toList();
    }

    /** The allocation-free radix sort must order exactly as Arrays.sort: ±0, ±inf, NaN, ties, runs, odd sizes. */
    @org.junit.jupiter.api.Test
    void radixSortMatchesArraysSort() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        float[] special = {0f, -0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, Float.MIN_VALUE,
                -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f};
        for (int n : new int[] {0, 1, 2, 7, 256, 1000, 5003}) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                int kind = rnd.nextInt(4);
                a[i] = kind == 0 ? special[rnd.nextInt(special.length)]
                        : kind == 1 ? Float.NEGATIVE_INFINITY // long runs, as after top-k
                        : (float) (rnd.nextGaussian() * 10);
            }
            float[] expected = a.clone();
            java.util.Arrays.sort(expected);
            Scores.sortAscending(a, n, new int[n], new int[n], new int[257]);
            for (int i = 0; i < n; i++) {
                org.junit.jupiter.api.Assertions.assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(a[i]),
                        "n=" + n + " index " + i + ": " + expected[i] + " vs " + a[i]);
            }
        }
    }
}
