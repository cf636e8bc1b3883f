package io.gpt2j.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** BLEU, ROUGE, exact match and token F1 against published worked examples (cited per test). */
class GenerationMetricsTest {
    static List<String> w(String s) {
        return Arrays.asList(s.split(" "));
    }

    static final List<String> HYP1 = w("It is a guide to action which ensures that the military always obeys the commands of the party");
    static final List<String> REF1A = w("It is a guide to action that ensures that the military will forever heed Party commands");
    static final List<String> REF1B = w("It is the guiding principle which guarantees the military forces always being under the command of the Party");
    static final List<String> REF1C = w("It is the practical guide for the army always to heed the directions of the party");
    static final List<String> HYP2 = w("he read the book because he was interested in world history");
    static final List<String> REF2A = w("he was interested in world history because he read the book");

    /** NLTK's nltk.translate.bleu_score docstrings: sentence_bleu = 0.5045666840058485, corpus_bleu = 0.5920778868801042. */
    @Test
    void bleuNltkDocstringExamples() {
        Bleu.Result s = Bleu.corpus(List.of(List.of(REF1A, REF1B, REF1C)), List.of(HYP1), 4, Bleu.Smoothing.NONE);
        assertEquals(0.5045666840058485, s.bleu(), 1e-12);
        Bleu.Result c = Bleu.corpus(List.of(List.of(REF1A, REF1B, REF1C), List.of(REF2A)), List.of(HYP1, HYP2), 4, Bleu.Smoothing.NONE);
        assertEquals(0.5920778868801042, c.bleu(), 1e-12);
        System.out.printf("BLEU: sentence %.16f corpus %.16f%n", s.bleu(), c.bleu());
    }

    /** torchtext.data.metrics.bleu_score docs: 0.8408964276313782 (computed there in float32; exactly 0.5^(1/4)). */
    @Test
    void bleuTorchtextExample() {
        Bleu.Result r = Bleu.corpus(List.of(List.of(w("My full pytorch test"), w("Completely Different")), List.of(w("No Match"))),
                List.of(w("My full pytorch test"), w("Another Sentence")), 4, Bleu.Smoothing.NONE);
        assertEquals(0.8408964276313782, r.bleu(), 1e-7);
        assertEquals(Math.pow(0.5, 0.25), r.bleu(), 1e-15);
    }

    @Test
    void bleuOrdersAndSmoothing() {
        // BLEU-1..4 on a short pair: hypothesis "the cat sat" vs reference "the cat sat down": p1 = 1, p2 = 1, p3 = 1, p4 = 0/0
        List<List<List<String>>> refs = List.of(List.of(w("the cat sat down")));
        List<List<String>> hyp = List.of(w("the cat sat"));
        double bp = Math.exp(1 - 4.0 / 3);
        assertEquals(bp, Bleu.corpus(refs, hyp, 1, Bleu.Smoothing.NONE).bleu(), 1e-15);
        assertEquals(bp, Bleu.corpus(refs, hyp, 3, Bleu.Smoothing.NONE).bleu(), 1e-15);
        assertEquals(0, Bleu.corpus(refs, hyp, 4, Bleu.Smoothing.NONE).bleu());
        // add-one: p4 = (0+1)/(0+1) = 1
        assertEquals(bp, Bleu.corpus(refs, hyp, 4, Bleu.Smoothing.ADD_ONE).bleu(), 1e-15);
        // floor: no 4-gram in the hypothesis at all -> precision 0/0 stays 0
        assertEquals(0, Bleu.corpus(refs, hyp, 4, Bleu.Smoothing.FLOOR).bleu());
        // floor on a real zero: "the dog sat" -> p2 = 0 -> 0.1/2
        Bleu.Result f = Bleu.corpus(refs, List.of(w("the dog sat")), 2, Bleu.Smoothing.FLOOR);
        assertEquals(bp * Math.sqrt((2.0 / 3) * (0.1 / 2)), f.bleu(), 1e-15);
    }

    /**
     * Lin (2004), "ROUGE: A Package for Automatic Evaluation of Summaries", section 3.1: reference "police killed
     * the gunman"; S2 "police kill the gunman" and S3 "the gunman kill police" have the same ROUGE-2, but ROUGE-L
     * 3/4 vs 2/4. Section 3.2: union LCS of r = w1..w5 with c1 = w1 w2 w6 w7 w8 and c2 = w1 w3 w8 w9 w5 is 4/5.
     */
    @Test
    void rougeLinPaperExamples() {
        String ref = "police killed the gunman";
        assertEquals(1.0 / 3, Rouge.n("police kill the gunman", ref, 2).recall(), 1e-15);
        assertEquals(1.0 / 3, Rouge.n("the gunman kill police", ref, 2).recall(), 1e-15);
        assertEquals(0.75, Rouge.l("police kill the gunman", ref).f1(), 1e-15);
        assertEquals(0.5, Rouge.l("the gunman kill police", ref).f1(), 1e-15);
        assertEquals(0.75, Rouge.n("police kill the gunman", ref, 1).f1(), 1e-15);
        Rouge.Score lsum = Rouge.lsum("w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5", "w1 w2 w3 w4 w5");
        assertEquals(0.8, lsum.recall(), 1e-15);
        assertEquals(0.4, lsum.precision(), 1e-15);
        assertEquals(List.of("hello", "world", "3"), Rouge.tokenize("Hello, World! 3"));
    }

    /** SQuAD v1.1 evaluate script semantics: normalization, max over gold answers, token-overlap F1. */
    @Test
    void exactMatchAndTokenF1() {
        assertEquals("eiffel tower", AnswerMatch.normalize("The  Eiffel Tower!"));
        assertEquals(1, AnswerMatch.exactMatch("the Eiffel tower", List.of("Eiffel Tower.")));
        assertEquals(0, AnswerMatch.exactMatch("Eiffel", List.of("Eiffel Tower")));
        // pred "eiffel", gold "eiffel tower": P = 1, R = 1/2, F1 = 2/3
        assertEquals(2.0 / 3, AnswerMatch.f1("Eiffel", List.of("Eiffel Tower")), 1e-15);
        assertEquals(1, AnswerMatch.f1("Eiffel", List.of("Paris", "the Eiffel")), 1e-15);
        assertEquals(0, AnswerMatch.f1("Paris", List.of("Eiffel Tower")));
    }
}
