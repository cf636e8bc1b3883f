package io.gpt2j.generate;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Strategy behaviour on a fake model: batching, seeds, sampler statistics, stop strings, streaming, limits. */
class GeneratorTest {
    static final List<int[]> PROMPTS = List.of(new int[]{3, 4, 5}, new int[]{7}, new int[]{9, 10, 11, 12, 13, 14});

    static GenerationConfig cfg(Map<String, Object> m) {
        return GenerationConfig.fromMap(Map.of("eos_token_id", 0), m);
    }

    static List<int[]> tokens(List<List<GeneratedSequence>> out) {
        List<int[]> l = new ArrayList<>();
        for (List<GeneratedSequence> s : out) for (GeneratedSequence g : s) l.add(g.tokenIds());
        return l;
    }

    void assertBatchedEqualsOneByOne(GenerationConfig c) {
        Generator gen = new Generator(FakeLm.hashed(40, 64), null);
        List<int[]> batched = tokens(gen.generate(PROMPTS, c));
        List<int[]> single = new ArrayList<>();
        for (int[] p : PROMPTS) single.addAll(tokens(gen.generate(List.of(p), c)));
        assertEquals(single.size(), batched.size());
        for (int i = 0; i < single.size(); i++) assertArrayEquals(single.get(i), batched.get(i), "sequence " + i + " of " + c);
    }

    @Test
    void batchedEqualsOneByOneForEveryStrategy() {
        assertBatchedEqualsOneByOne(cfg(Map.of("max_new_tokens", 12)));
        assertBatchedEqualsOneByOne(cfg(Map.of("max_new_tokens", 12, "do_sample", true, "seed", 7, "num_return_sequences", 3)));
        assertBatchedEqualsOneByOne(cfg(Map.of("max_new_tokens", 10, "num_beams", 3, "num_return_sequences", 2)));
        assertBatchedEqualsOneByOne(cfg(Map.of("max_new_tokens", 10, "num_beams", 3, "do_sample", true, "seed", 3)));
        assertBatchedEqualsOneByOne(cfg(Map.of("max_new_tokens", 10, "num_beams", 4, "num_beam_groups", 2, "diversity_penalty", 1.0)));
        // not contrastive search: in transformers 4.38 its degeneration penalty also compares with the hidden states
        // of the padding positions, so a padded row legitimately differs (see the golden contrastive_a0.6_k4_batch)
    }

    @Test
    void realModelLeftPaddedBatchEqualsUnpaddedRuns() {
        Generator gen = new Generator(GoldenModels.lm("tiny-gpt2-v1000"), null);
        GenerationConfig c = GenerationConfig.fromMap(GoldenModels.checkpoint("tiny-gpt2-v1000").generationConfig(),
                Map.of("max_new_tokens", 15));
        List<int[]> prompts = List.of(new int[]{464, 300, 394}, new int[]{50}, new int[]{1, 2, 3, 4, 5, 6, 7, 8});
        List<int[]> batched = tokens(gen.generate(prompts, c));
        for (int i = 0; i < prompts.size(); i++) {
            assertArrayEquals(tokens(gen.generate(List.of(prompts.get(i)), c)).get(0), batched.get(i), "prompt " + i);
        }
    }

    @Test
    void topK1SamplingEqualsGreedy() {
        Generator gen = new Generator(FakeLm.hashed(40, 64), null);
        List<int[]> greedy = tokens(gen.generate(PROMPTS, cfg(Map.of("max_new_tokens", 15))));
        List<int[]> sampled = tokens(gen.generate(PROMPTS, cfg(Map.of("max_new_tokens", 15, "do_sample", true, "top_k", 1, "seed", 99))));
        for (int i = 0; i < greedy.size(); i++) assertArrayEquals(greedy.get(i), sampled.get(i));
    }

    @Test
    void sameSeedSameOutputAndBatchCompositionDoesNotMatter() {
        Generator gen = new Generator(FakeLm.hashed(40, 64), null);
        GenerationConfig c = cfg(Map.of("max_new_tokens", 20, "do_sample", true, "seed", 1234, "temperature", 1.3));
        int[] a = tokens(gen.generate(List.of(PROMPTS.get(1)), c)).get(0);
        assertArrayEquals(a, tokens(gen.generate(List.of(PROMPTS.get(1)), c)).get(0));
        assertArrayEquals(a, tokens(gen.generate(PROMPTS, c)).get(1), "same prompt inside a batch");
        assertArrayEquals(a, tokens(gen.generate(List.of(PROMPTS.get(2), PROMPTS.get(1)), c)).get(1), "other position in the batch");
        int[] other = tokens(gen.generate(List.of(PROMPTS.get(1)), c.toBuilder().seed(1235L).build())).get(0);
        assertFalse(Arrays.equals(a, other), "a different seed should give a different sample");
    }

    @Test
    void samplerMatchesAKnownDistribution() {
        // softmax of these logits: p = [0.5, 0.3, 0.15, 0.05]; N draws, each frequency within 5 standard deviations
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        double[] p = {0.5, 0.3, 0.15, 0.05};
        int n = 200_000;
        int[] counts = new int[4];
        SplittableRandom rng = TokenSearch.stream(42, 0);
        for (int i = 0; i < n; i++) counts[TokenSearch.sample(logits, 0, 4, rng)]++;
        for (int i = 0; i < 4; i++) {
            double sigma = Math.sqrt(p[i] * (1 - p[i]) / n);
            double f = counts[i] / (double) n;
            System.out.printf("token %d: expected %.4f observed %.4f (|z| = %.2f)%n", i, p[i], f, Math.abs(f - p[i]) / sigma);
            assertTrue(Math.abs(f - p[i]) < 5 * sigma, "token " + i + " frequency " + f + " vs " + p[i]);
        }
        float[] masked = {0f, Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY};
        for (int i = 0; i < 1000; i++) {
            int t = TokenSearch.sample(masked, 0, 4, rng);
            assertTrue(t == 0 || t == 2, "a -inf token was sampled");
        }
    }

    /** Tokens 1.. map to the strings below; 0 is eos. */
    static final String[] PIECES = {"<eos>", "He", "llo", " wor", "ld", "!", "\u00e9", "\ud83d\ude00", " ok"};

    static byte[] bytesOf(int t) {
        return PIECES[t].getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void stopStringSpanningTokensCutsTextKeepsTokens() {
        FakeLm lm = FakeLm.scripted(10, 1, 1, 2, 3, 4, 5, 5, 5);
        Generator gen = new Generator(lm, ids -> concat(ids, GeneratorTest::bytesOf));
        List<String> deltas = new ArrayList<>();
        GenerationConfig c = cfg(Map.of("max_new_tokens", 7, "stop_strings", List.of("lo wo", "zzz")));
        GeneratedSequence g = gen.generate(List.of(new int[]{8}), c, (p, s, d) -> deltas.add(d)).get(0).get(0);
        assertEquals("Hel", g.text());
        assertEquals(FinishReason.STOP, g.finishReason());
        assertEquals("lo wo", g.stopString());
        assertArrayEquals(new int[]{1, 2, 3}, g.tokenIds(), "generation stops at the token completing the stop string");
        assertEquals("Hel", String.join("", deltas));
        for (String d : deltas) assertFalse(d.contains("lo"), "held-back text leaked: " + deltas);
    }

    @Test
    void streamingNeverSplitsUtf8AndConcatenatesToTheText() {
        // token 20 = first byte of é, 21 = second; 22..24 = the 4 bytes of 😀 split 1/2/1
        byte[] e = "\u00e9".getBytes(StandardCharsets.UTF_8), smile = "\ud83d\ude00".getBytes(StandardCharsets.UTF_8);
        byte[][] table = new byte[30][];
        for (int t = 0; t < PIECES.length; t++) table[t] = bytesOf(t);
        table[20] = new byte[]{e[0]};
        table[21] = new byte[]{e[1]};
        table[22] = new byte[]{smile[0]};
        table[23] = new byte[]{smile[1], smile[2]};
        table[24] = new byte[]{smile[3]};
        FakeLm lm = FakeLm.scripted(30, 1, 1, 20, 21, 22, 23, 24, 2, 0);
        Generator gen = new Generator(lm, ids -> concat(ids, t -> table[t]));
        List<String> deltas = new ArrayList<>();
        List<GeneratedSequence> finished = new ArrayList<>();
        GeneratedSequence g = gen.generate(List.of(new int[]{8}), cfg(Map.of("max_new_tokens", 20)), new GenerationListener() {
            @Override
            public void onText(int prompt, int sequence, String delta) {
                deltas.add(delta);
            }

            @Override
            public void onFinish(int prompt, int sequence, GeneratedSequence result) {
                finished.add(result);
            }
        }).get(0).get(0);
        assertEquals("He\u00e9\ud83d\ude00llo", g.text());
        assertEquals(FinishReason.EOS, g.finishReason());
        assertArrayEquals(new int[]{1, 20, 21, 22, 23, 24, 2, 0}, g.tokenIds(), "eos is part of the tokens, not of the text");
        assertEquals(g.text(), String.join("", deltas));
        for (String d : deltas) {
            assertFalse(d.contains("\ufffd"), "replacement character in " + deltas);
            assertEquals(d, new String(d.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8), "split surrogate in " + d);
        }
        assertEquals(List.of(g), finished);
    }

    interface Bytes {
        byte[] of(int t);
    }

    static byte[] concat(int[] ids, Bytes f) {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        for (int t : ids) o.writeBytes(f.of(t));
        return o.toByteArray();
    }

    @Test
    void finishReasonsLengthEosAndTime() {
        FakeLm lm = FakeLm.scripted(10, 1, 1, 2, 0);
        Generator gen = new Generator(lm, null);
        GeneratedSequence eos = gen.generate(List.of(new int[]{8}), cfg(Map.of("max_new_tokens", 9))).get(0).get(0);
        assertEquals(FinishReason.EOS, eos.finishReason());
        assertArrayEquals(new int[]{1, 2, 0}, eos.tokenIds());
        assertArrayEquals(new int[]{8, 1, 2, 0}, eos.fullIds());
        GeneratedSequence len = gen.generate(List.of(new int[]{8}), cfg(Map.of("max_new_tokens", 2))).get(0).get(0);
        assertEquals(FinishReason.LENGTH, len.finishReason());
        GeneratedSequence time = gen.generate(List.of(new int[]{8}), cfg(Map.of("max_new_tokens", 9, "max_time", 1e-9))).get(0).get(0);
        assertEquals(FinishReason.TIME, time.finishReason());
        assertEquals(1, time.tokenIds().length, "max_time is checked after each step; one token is always produced");
    }

    @Test
    void lengthSemanticsFollowTransformers() {
        Generator gen = new Generator(FakeLm.hashed(40, 64), null);
        GenerationConfig none = GenerationConfig.fromMap(null, Map.of());
        assertEquals(20 - 3, gen.generate(List.of(PROMPTS.get(0)), none).get(0).get(0).tokenIds().length, "default max_length=20 counts the prompt");
        GenerationConfig both = GenerationConfig.fromMap(null, Map.of("max_length", 50, "max_new_tokens", 4));
        assertEquals(4, gen.generate(List.of(PROMPTS.get(0)), both).get(0).get(0).tokenIds().length, "max_new_tokens wins");
        GenerationConfig tooShort = GenerationConfig.fromMap(null, Map.of("max_length", 2));
        assertEquals(1, gen.generate(List.of(PROMPTS.get(0)), tooShort).get(0).get(0).tokenIds().length, "at least one token, as transformers");
    }

    @Test
    void promptOverflowIsAnErrorUnlessTruncationIsAsked() {
        Generator gen = new Generator(FakeLm.hashed(40, 16), null);
        int[] longPrompt = new int[14];
        Arrays.fill(longPrompt, 5);
        longPrompt[13] = 6;
        GenerationConfigException ex = assertThrows(GenerationConfigException.class,
                () -> gen.generate(List.of(longPrompt), cfg(Map.of("max_new_tokens", 5))));
        assertEquals("max_new_tokens", ex.field());
        assertTrue(ex.getMessage().contains("14 tokens") && ex.getMessage().contains("16 positions"), ex.getMessage());
        GeneratedSequence g = gen.generate(List.of(longPrompt), cfg(Map.of("max_new_tokens", 5, "prompt_overflow", "truncate_left"))).get(0).get(0);
        assertEquals(5, g.tokenIds().length);
        assertEquals(12 + 5, g.fullIds().length, "prompt cut from the left to 17 - 5 = 12 tokens");
        assertEquals(6, g.fullIds()[11], "the end of the prompt is kept");
    }

    @Test
    void numReturnSequencesSharesThePrefill() {
        FakeLm lm = FakeLm.hashed(40, 64);
        Generator gen = new Generator(lm, null);
        List<List<GeneratedSequence>> out = gen.generate(List.of(PROMPTS.get(0)),
                cfg(Map.of("max_new_tokens", 5, "do_sample", true, "seed", 5, "num_return_sequences", 4)));
        assertEquals(4, out.get(0).size());
        assertEquals(1 + 4, lm.forwards, "one prefill for the prompt, then one forward per step for all 4 rows");
        assertNotEquals(Arrays.toString(out.get(0).get(0).tokenIds()), Arrays.toString(out.get(0).get(1).tokenIds()));
    }

    @Test
    void idsOutsideTheVocabularyAreRefused() {
        Generator gen = new Generator(FakeLm.hashed(40, 64), null);
        GenerationConfigException ex = assertThrows(GenerationConfigException.class,
                () -> gen.generate(List.of(new int[]{1, 40}), cfg(Map.of())));
        assertTrue(ex.getMessage().contains("40"), ex.getMessage());
        assertEquals("eos_token_id", assertThrows(GenerationConfigException.class,
                () -> gen.generate(List.of(new int[]{1}), GenerationConfig.fromMap(null, Map.of("eos_token_id", 77)))).field());
        assertEquals("stop_strings", assertThrows(GenerationConfigException.class,
                () -> gen.generate(List.of(new int[]{1}), cfg(Map.of("stop_strings", "x")))).field());
    }

    @Test
    void realTokenizerStreamingConcatenatesToTheDecodedText() {
        io.gpt2j.core.tokenizer.Gpt2Tokenizer tok = io.gpt2j.core.tokenizer.Gpt2Tokenizer.fromDirectory(
                Golden.dir().resolve("checkpoints/tiny-gpt2"));
        Generator gen = Generator.forGpt2(GoldenModels.lm("tiny-gpt2").model(), tok);
        GenerationConfig c = GenerationConfig.fromMap(GoldenModels.checkpoint("tiny-gpt2").generationConfig(),
                Map.of("max_new_tokens", 40, "do_sample", true, "seed", 11, "num_return_sequences", 2));
        List<int[]> prompts = List.of(tok.encode("The lighthouse stood on"), tok.encode("Caf\u00e9 \ud83d\ude00"));
        StringBuilder[][] got = new StringBuilder[2][2];
        for (StringBuilder[] r : got) for (int j = 0; j < 2; j++) r[j] = new StringBuilder();
        List<List<GeneratedSequence>> out = gen.generate(prompts, c, (p, s, d) -> got[p][s].append(d));
        for (int p = 0; p < 2; p++) {
            for (int j = 0; j < 2; j++) {
                GeneratedSequence g = out.get(p).get(j);
                int n = g.tokenIds().length - (g.finishReason() == FinishReason.EOS ? 1 : 0);
                assertEquals(tok.decode(Arrays.copyOf(g.tokenIds(), n)), g.text());
                assertEquals(g.text(), got[p][j].toString());
            }
        }
    }

    @Test
    void samplingDoesNotDependOnTheThreadCount() {
        io.gpt2j.core.load.LoadedCheckpoint ck = GoldenModels.checkpoint("tiny-gpt2-v1000");
        GenerationConfig c = GenerationConfig.fromMap(ck.generationConfig(),
                Map.of("max_new_tokens", 25, "do_sample", true, "seed", 2024, "top_p", 0.95));
        List<int[]> prompts = List.of(new int[]{464, 300, 394}, new int[]{50, 51});
        List<int[]> results = new ArrayList<>();
        for (int threads : new int[]{1, 2, 3}) {
            io.gpt2j.core.kernels.Parallel pool = new io.gpt2j.core.kernels.Parallel(threads);
            Generator gen = new Generator(new Gpt2Lm(new io.gpt2j.core.model.Gpt2(ck.config(), ck.weights(), pool)), null);
            List<int[]> t = tokens(gen.generate(prompts, c));
            if (results.isEmpty()) results.addAll(t);
            else for (int i = 0; i < t.size(); i++) assertArrayEquals(results.get(i), t.get(i), threads + " threads, prompt " + i);
        }
    }

    @Test
    void stopStringsApplyToBeamTexts() {
        FakeLm lm = FakeLm.scripted(10, 1, 1, 2, 3, 4, 5, 5, 5);
        Generator gen = new Generator(lm, ids -> concat(ids, GeneratorTest::bytesOf));
        List<String> deltas = new ArrayList<>();
        GenerationConfig c = cfg(Map.of("max_new_tokens", 6, "num_beams", 2, "stop_strings", List.of("wor")));
        GeneratedSequence g = gen.generate(List.of(new int[]{8}), c, (p, s, d) -> deltas.add(d)).get(0).get(0);
        assertEquals("Hello ", g.text());
        assertEquals(FinishReason.STOP, g.finishReason());
        assertEquals(List.of("Hello "), deltas, "beam modes deliver the whole text once");
        assertTrue(g.sequenceScore() != null);
    }
}
