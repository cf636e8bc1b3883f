package io.gpt2j.core.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.Golden;
import io.gpt2j.core.io.CheckpointException;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.model.ClassificationHead;
import io.gpt2j.core.model.ClassificationHead.Kind;
import io.gpt2j.core.model.ClassificationHead.Problem;
import io.gpt2j.core.model.Classifier;
import io.gpt2j.core.model.Gpt2;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Classification heads against transformers 4.38.2: the golden train_seqcls / train_tokcls logits were computed
 * with the heads' initial weights (dropout 0, so equal to eval mode). Checkpoints with those heads are written with
 * {@link HfHeads#write} and read back. Tolerance 1e-4 max-abs on logits, as for the LM logits (the golden README's
 * fp32-vs-fp64 noise is ≤ 4.5e-6; the head adds one E-term dot product).
 */
class HfHeadsTest {
    static final double TOL = 1e-4;
    static final Parallel POOL = new Parallel(2);

    @AfterAll
    static void close() {
        POOL.close();
    }

    /** The golden batch: rows of input_ids cut at the attention mask (right padding), and the padded rows. */
    static List<int[]> texts(Map<String, Tensor> g, int[][] padded) {
        int[] ids = g.get("input_ids").toIntArray(), mask = g.get("attention_mask").toIntArray();
        int B = g.get("input_ids").dim(0), T = g.get("input_ids").dim(1);
        List<int[]> out = new ArrayList<>();
        for (int b = 0; b < B; b++) {
            int n = 0;
            while (n < T && mask[b * T + n] == 1) n++;
            out.add(java.util.Arrays.copyOfRange(ids, b * T, b * T + n));
            padded[b] = java.util.Arrays.copyOfRange(ids, b * T, b * T + T);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Path writeHead(String model, String kind, Path dir) {
        Map<String, Tensor> g = Golden.safetensors(Golden.path(model, "train_" + kind + ".safetensors"));
        Map<String, Object> sec = (Map<String, Object>) Golden.json(Golden.path(model, "train.json")).get(kind);
        List<String> labels = (List<String>) (List<?>) sec.get("id2label");
        ClassificationHead head = kind.equals("seqcls")
                ? new ClassificationHead(Kind.SEQUENCE_CLASSIFICATION, Problem.SINGLE_LABEL, g.get("init.score.weight").toFloatArray(), null,
                        labels, ((Number) sec.get("pad_token_id")).intValue())
                : new ClassificationHead(Kind.TOKEN_CLASSIFICATION, Problem.SINGLE_LABEL, g.get("init.classifier.weight").toFloatArray(),
                        g.get("init.classifier.bias").toFloatArray(), labels, -1);
        try (LoadedCheckpoint base = HfCheckpoint.load(Golden.path("checkpoints", model))) {
            HfHeads.write(base, head, dir);
        }
        return dir;
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2", "tiny-gpt2-v1000"})
    void sequenceClassificationLogitsMatchTransformers(String model, @TempDir Path tmp) {
        Path dir = writeHead(model, "seqcls", tmp.resolve("seqcls"));
        Map<String, Tensor> g = Golden.safetensors(Golden.path(model, "train_seqcls.safetensors"));
        int[][] padded = new int[3][];
        List<int[]> texts = texts(g, padded);
        try (LoadedCheckpoint ck = HfCheckpoint.load(dir)) {
            ClassificationHead head = HfHeads.read(ck);
            assertEquals(Kind.SEQUENCE_CLASSIFICATION, head.kind());
            assertEquals(Problem.SINGLE_LABEL, head.problem());
            assertEquals(List.of("sadness", "joy", "love", "anger", "fear", "surprise"), head.labels());
            assertNull(head.bias());
            int pad = head.padTokenId();
            assertEquals(ck.config().eosTokenId(), pad);
            int[] pooled = new int[3];
            for (int b = 0; b < 3; b++) pooled[b] = Classifier.pooledIndex(padded[b], pad);
            assertArrayEquals(new int[]{11, 8, 5}, pooled, "transformers' pooled positions (train.json)");
            Gpt2 gpt = new Gpt2(ck.config(), ck.weights(), POOL);
            float[] gold = g.get("logits").toFloatArray();
            double d = 0, dAlone = 0;
            List<float[]> batched = new Classifier(gpt, head).logits(texts);
            List<float[]> alone = new Classifier(gpt, head, 1).logits(texts); // one text per forward
            for (int b = 0; b < 3; b++) {
                d = Math.max(d, Golden.maxAbsDiff(batched.get(b), 0, gold, b * 6, 6));
                dAlone = Math.max(dAlone, Golden.maxAbsDiff(alone.get(b), 0, gold, b * 6, 6));
            }
            System.out.printf("%s seqcls logits max-abs: batched %.2e, one text per forward %.2e%n", model, d, dAlone);
            assertTrue(d < TOL, "batched " + d);
            assertTrue(dAlone < TOL, "alone " + dAlone);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-gpt2", "tiny-gpt2-v1000"})
    void tokenClassificationLogitsMatchTransformers(String model, @TempDir Path tmp) {
        Path dir = writeHead(model, "tokcls", tmp.resolve("tokcls"));
        Map<String, Tensor> g = Golden.safetensors(Golden.path(model, "train_tokcls.safetensors"));
        List<int[]> texts = texts(g, new int[3][]);
        try (LoadedCheckpoint ck = HfCheckpoint.load(dir)) {
            ClassificationHead head = HfHeads.read(ck);
            assertEquals(Kind.TOKEN_CLASSIFICATION, head.kind());
            assertEquals(9, head.bias().length);
            assertEquals("B-PER", head.labels().get(1));
            List<float[]> logits = new Classifier(new Gpt2(ck.config(), ck.weights(), POOL), head).logits(texts);
            float[] gold = g.get("logits").toFloatArray(); // [3, 12, 9]; pads are not compared
            double d = 0;
            for (int b = 0; b < 3; b++) {
                assertEquals(texts.get(b).length * 9, logits.get(b).length);
                d = Math.max(d, Golden.maxAbsDiff(logits.get(b), 0, gold, b * 12 * 9, texts.get(b).length * 9));
            }
            System.out.printf("%s tokcls logits max-abs (real tokens): %.2e%n", model, d);
            assertTrue(d < TOL, "tokcls " + d);
        }
    }

    @Test
    void aPlainLmCheckpointIsRefusedWithWhatItIs() {
        try (LoadedCheckpoint ck = HfCheckpoint.load(Golden.path("checkpoints", "tiny-gpt2"))) {
            assertTrue(!HfHeads.hasHead(ck));
            CheckpointException e = assertThrows(CheckpointException.class, () -> HfHeads.read(ck));
            assertTrue(e.getMessage().contains("has no classification head") && e.getMessage().contains("GPT2LMHeadModel")
                    && e.getMessage().contains("score.weight"), e.getMessage());
        }
    }

    @Test
    void missingOrMisshapedHeadTensorsAreNamed(@TempDir Path tmp) throws Exception {
        Path dir = writeHead("tiny-gpt2-v1000", "seqcls", tmp.resolve("a"));
        String cfg = Files.readString(dir.resolve("config.json"));
        // the config says 6 labels; claim 5 -> score.weight [6,48] no longer fits
        Files.writeString(dir.resolve("config.json"), cfg.replace("\"5\": \"surprise\",", "").replace("\"5\": \"surprise\"", "")
                .replace("\"fear\",", "\"fear\"").replace(",\n    \"surprise\": 5", ""));
        try (LoadedCheckpoint ck = HfCheckpoint.load(dir)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> HfHeads.read(ck));
            assertTrue(e.getMessage().contains("'score.weight' has shape [6, 48]") && e.getMessage().contains("[5, 48]"), e.getMessage());
        }
        Path tok = writeHead("tiny-gpt2-v1000", "tokcls", tmp.resolve("b"));
        Files.writeString(tok.resolve("config.json"), Files.readString(tok.resolve("config.json"))
                .replace("GPT2ForTokenClassification", "GPT2ForSequenceClassification"));
        try (LoadedCheckpoint ck = HfCheckpoint.load(tok)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> HfHeads.read(ck));
            assertTrue(e.getMessage().contains("tensor 'score.weight' is missing"), e.getMessage());
        }
    }

    @Test
    void problemTypesFollowTransformers() {
        assertEquals(Problem.REGRESSION, Problem.of(null, 1));
        assertEquals(Problem.SINGLE_LABEL, Problem.of(null, 3));
        assertEquals(Problem.MULTI_LABEL, Problem.of("multi_label_classification", 3));
        ClassificationHead multi = new ClassificationHead(Kind.SEQUENCE_CLASSIFICATION, Problem.MULTI_LABEL, new float[4], null, List.of("a", "b"), -1);
        assertArrayEquals(new float[]{0.5f, (float) (1 / (1 + Math.exp(-2)))}, multi.scores(new float[]{9, 0, 2}, 1));
        ClassificationHead reg = new ClassificationHead(Kind.SEQUENCE_CLASSIFICATION, Problem.REGRESSION, new float[2], null, List.of("LABEL_0"), -1);
        assertArrayEquals(new float[]{-3.25f}, reg.scores(new float[]{-3.25f}, 0));
        ClassificationHead single = new ClassificationHead(Kind.SEQUENCE_CLASSIFICATION, Problem.SINGLE_LABEL, new float[4], null, List.of("a", "b"), -1);
        float[] p = single.scores(new float[]{0, (float) Math.log(3)}, 0);
        assertEquals(0.25f, p[0], 1e-7f);
        assertEquals(0.75f, p[1], 1e-7f);
        assertEquals(2, Classifier.pooledIndex(new int[]{5, 6, 7}, -1));
        assertEquals(0, Classifier.pooledIndex(new int[]{5, 9, 7}, 9), "cut before the first pad id");
        assertEquals(2, Classifier.pooledIndex(new int[]{9, 6, 7}, 9), "(0 - 1) mod T, as transformers computes it");
    }
}
