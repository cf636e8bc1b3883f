package io.gpt2j.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Classification and entity-level metrics against scikit-learn's and seqeval's documented examples. */
class ClassificationMetricsTest {
    /** scikit-learn f1_score docs: y_true [0,1,2,0,1,2], y_pred [0,2,1,0,0,1]: macro 0.26666666666666666, micro 0.3333333333333333. */
    @Test
    void sklearnF1Example() {
        Classification<Integer> c = new Classification<>(List.of(0, 1, 2, 0, 1, 2), List.of(0, 2, 1, 0, 0, 1));
        assertEquals(0.26666666666666666, c.macroF1(), 1e-15);
        assertEquals(0.3333333333333333, c.microF1(), 1e-15);
        assertEquals(0.2222222222222222, c.macroPrecision(), 1e-15); // sklearn precision_score macro example
        assertEquals(0.3333333333333333, c.macroRecall(), 1e-15); // sklearn recall_score macro example
        assertArrayEquals(new long[][] {{2, 0, 0}, {1, 0, 1}, {0, 2, 0}}, c.confusionMatrix());
        // the headline map that fine-tuning (eval_ prefix) and `evaluate text-classification` both report
        assertEquals(java.util.Map.of("accuracy", 0.3333333333333333, "f1_macro", 0.26666666666666666,
                "precision_macro", 0.2222222222222222, "recall_macro", 0.3333333333333333, "mcc", c.mcc()), c.summary());
        assertEquals(List.of("accuracy", "f1_macro", "precision_macro", "recall_macro", "mcc"), List.copyOf(c.summary().keySet()));
    }

    /** scikit-learn matthews_corrcoef docs: y_true [+1,+1,+1,-1], y_pred [+1,-1,+1,+1] -> -0.33333333333333337. */
    @Test
    void sklearnMccExample() {
        Classification<Integer> c = new Classification<>(List.of(1, 1, 1, -1), List.of(1, -1, 1, 1));
        assertEquals(-0.33333333333333337, c.mcc(), 1e-15);
        assertEquals(0.5, c.accuracy());
        assertEquals(1.0, new Classification<>(List.of("a", "b", "c"), List.of("a", "b", "c")).mcc(), 1e-15);
    }

    /** sklearn confusion_matrix docs: ["cat","ant","cat","cat","ant","bird"] vs ["ant","ant","cat","cat","ant","cat"]. */
    @Test
    void sklearnConfusionMatrixExample() {
        Classification<String> c = new Classification<>(List.of("cat", "ant", "cat", "cat", "ant", "bird"),
                List.of("ant", "ant", "cat", "cat", "ant", "cat"));
        assertEquals(List.of("ant", "bird", "cat"), c.labels());
        assertArrayEquals(new long[][] {{2, 0, 0}, {0, 0, 1}, {1, 0, 2}}, c.confusionMatrix());
    }

    /** seqeval README: f1 0.50, accuracy 0.80 on this pair (default mode). */
    @Test
    void seqevalReadmeExample() {
        List<List<String>> gold = List.of(List.of("O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"), List.of("B-PER", "I-PER", "O"));
        List<List<String>> pred = List.of(List.of("O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"), List.of("B-PER", "I-PER", "O"));
        SeqEval.Result r = SeqEval.evaluate(gold, pred, SeqEval.Mode.CONLLEVAL);
        assertEquals(0.5, r.f1(), 1e-15);
        assertEquals(0.5, r.precision(), 1e-15);
        assertEquals(0.5, r.recall(), 1e-15);
        assertEquals(0.8, SeqEval.accuracy(gold, pred), 1e-15);
    }

    @Test
    void iob1AndStrictIob2() {
        // IOB1: entities start with I-; B- only separates two adjacent entities of the same type
        List<String> iob1 = List.of("I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG");
        assertEquals(List.of(new SeqEval.Entity(0, "PER", 0, 1), new SeqEval.Entity(0, "PER", 2, 2),
                new SeqEval.Entity(0, "LOC", 4, 4), new SeqEval.Entity(0, "ORG", 5, 5)), SeqEval.entities(List.of(iob1), SeqEval.Mode.CONLLEVAL));
        // the same entities in IOB2 give the same result in both modes
        List<String> iob2 = List.of("B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG");
        assertEquals(SeqEval.entities(List.of(iob1), SeqEval.Mode.CONLLEVAL), SeqEval.entities(List.of(iob2), SeqEval.Mode.STRICT_IOB2));
        // strict IOB2 drops orphan I- tags
        assertEquals(List.of(new SeqEval.Entity(0, "PER", 2, 2)), SeqEval.entities(List.of(iob1), SeqEval.Mode.STRICT_IOB2));
    }
}
