package io.gpt2j.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Report maps and tables, seqeval per-type metrics, and the confusion-matrix PNG. */
class ClassificationReportTest {
    @Test
    @SuppressWarnings("unchecked")
    void metricsMapHoldsPerClassAndConfusion() {
        // gold 0 0 1 1 2, predicted 0 1 1 1 0: sklearn gives accuracy 0.6, f1 per class 0.5, 0.8, 0.0 -> macro 0.4333
        Classification<Integer> c = new Classification<>(List.of(0, 0, 1, 1, 2), List.of(0, 1, 1, 1, 0));
        Map<String, Object> m = ClassificationReport.metrics(c, i -> List.of("neg", "pos", "mid").get(i));
        assertEquals(0.6, (double) m.get("accuracy"), 1e-12);
        assertEquals((0.5 + 0.8 + 0) / 3, (double) m.get("f1_macro"), 1e-12);
        Map<String, Object> pos = (Map<String, Object>) ((Map<String, Object>) m.get("per_class")).get("pos");
        assertEquals(2L, pos.get("support"));
        assertEquals(2.0 / 3, (double) pos.get("precision"), 1e-12);
        Map<String, Object> cm = (Map<String, Object>) m.get("confusion_matrix");
        assertEquals(List.of("neg", "pos", "mid"), cm.get("labels"));
        assertEquals(List.of(List.of(1L, 1L, 0L), List.of(0L, 2L, 0L), List.of(1L, 0L, 0L)), cm.get("rows_gold_columns_predicted"));
        String t = ClassificationReport.table(c, i -> List.of("neg", "pos", "mid").get(i));
        assertTrue(t.contains("macro avg") && t.contains("MCC") && t.contains("confusion matrix"), t);
    }

    @Test
    void perTypeEntityMetrics() {
        List<List<String>> gold = List.of(List.of("B-PER", "I-PER", "O", "B-LOC"), List.of("B-ORG", "O"));
        List<List<String>> pred = List.of(List.of("B-PER", "I-PER", "O", "B-ORG"), List.of("B-ORG", "O"));
        var per = SeqEval.perType(gold, pred, SeqEval.Mode.CONLLEVAL);
        assertEquals(List.of("LOC", "ORG", "PER"), List.copyOf(per.keySet()));
        assertEquals(1.0, per.get("PER").f1());
        assertEquals(0.0, per.get("LOC").recall());
        assertEquals(0.5, per.get("ORG").precision()); // 2 predicted ORG, 1 right
        Map<String, Object> m = ClassificationReport.entityMetrics(gold, pred, SeqEval.Mode.CONLLEVAL);
        assertEquals(2.0 / 3, (double) m.get("precision"), 1e-12); // 3 predicted, 2 right; 3 gold
        assertTrue(ClassificationReport.entityTable(m).contains("micro avg"));
    }

    @Test
    void pngDecodesWithTheStatedSize(@TempDir Path tmp) throws Exception {
        Path png = tmp.resolve("cm.png");
        ConfusionMatrixImage.writePng(png, List.of("sadness", "joy", "a-very-long-label-name-that-is-cut"), new long[][]{{5, 1, 0}, {2, 7, 1}, {0, 0, 3}});
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(ConfusionMatrixImage.width(3), img.getWidth());
        assertEquals(ConfusionMatrixImage.height(3), img.getHeight());
        assertEquals(140 + 3 * 48 + 24, img.getWidth());
        // the diagonal cell of a row with 100% share is darker than an empty cell
        int full = img.getRGB(ConfusionMatrixImage.LEFT + 2 * 48 + 2, ConfusionMatrixImage.TOP + 2 * 48 + 2) & 0xff0000;
        int empty = img.getRGB(ConfusionMatrixImage.LEFT + 2, ConfusionMatrixImage.TOP + 2 * 48 + 2) & 0xff0000;
        assertTrue(full < empty, Integer.toHexString(full) + " vs " + Integer.toHexString(empty));
    }
}
