package io.gpt2j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import io.gpt2j.eval.metrics.SeqEval;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Trainer on tiny-gpt2 for the three heads: the training loss goes down, metrics.jsonl / eval_results.json / the
 * plot are written, and the saved directory reloads (HF layout) to bit-identical parameters.
 */
class TrainerTest {
    static final Path CKPT = TrainGolden.checkpoint("tiny-gpt2");

    static Path resource(String name) throws Exception {
        return Path.of(TrainerTest.class.getResource(name).toURI());
    }

    static FineTuneOptions options(int epochs, double lr, int batch, int ga, int maxSeq, int logging) {
        return new FineTuneOptions(epochs, -1, lr, batch, ga, 2, 0, 0.01, "linear", 1.0, maxSeq, 7, logging, true);
    }

    static void printLog(Map<String, Object> r) {
        System.out.println("[trainer] " + Json.write(r));
    }

    @Test
    void textClassificationLearnsAndSavesAnHfDirectory(@TempDir Path out) throws Exception {
        List<String> names = TokenClassificationData.readLabels(resource("/emotion/labels.txt"));
        Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(CKPT);
        FineTuneOptions opt = options(3, 2e-3, 8, 2, 48, 4);
        var train = TextClassificationData.encode(TextClassificationData.readJsonl(resource("/emotion/train64.jsonl"), "text", "label"), names, tok, 48);
        var val = TextClassificationData.encode(TextClassificationData.readJsonl(resource("/emotion/validation32.jsonl"), "text", "label"), names, tok, 48);
        try (Parallel pool = new Parallel(2); LoadedCheckpoint ckpt = HfCheckpoint.load(CKPT)) {
            Gpt2Config cfg = TrainConfigs.forClassification(ckpt.config(), "GPT2ForSequenceClassification", names,
                    "single_label_classification", ckpt.config().eosTokenId());
            TrainableGpt2 model = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.SEQUENCE_CLASSIFICATION, names.size(), 7, pool);
            LoopOptions loop = new LoopOptions("epoch", 0, 4, 2, false, 1, "accuracy", out, null);
            Trainer trainer = new Trainer(model, opt, loop, CKPT);
            double before = trainer.evaluate(Evaluator.textClassification(train)).get("eval_loss");
            Trainer.Result r = trainer.train(train, Evaluator.textClassification(val), new Trainer.Listener() {
                @Override
                public void onLog(Map<String, Object> rec) {
                    printLog(rec);
                }
            });
            assertEquals(12, r.steps(), "3 epochs x (8 batches / 2 accumulation)");
            double after = trainer.evaluate(Evaluator.textClassification(train)).get("eval_loss");
            System.out.printf("[trainer] seqcls train loss %.4f -> %.4f%n", before, after);
            assertTrue(after < before - 0.05, "training loss should decrease: " + before + " -> " + after);
            assertEquals(List.of("eval_loss", "eval_accuracy", "eval_f1_macro", "eval_precision_macro", "eval_recall_macro", "eval_mcc", "eval_samples"),
                    List.copyOf(r.metrics().keySet()));

            // logging_steps 4 -> steps 4, 8, 12; epoch evaluation -> steps 4, 8, 12
            List<String> lines = Files.readAllLines(out.resolve(Trainer.METRICS_FILE));
            assertEquals(6, lines.size(), String.join("\n", lines));
            assertTrue(lines.get(0).startsWith("{\"step\":4,") && lines.get(0).contains("\"loss\":") && lines.get(0).contains("\"tokens_per_second\":"), lines.get(0));
            assertTrue(lines.get(5).startsWith("{\"step\":12,") && lines.get(5).contains("\"eval_accuracy\":"), lines.get(5));
            // save_steps 4 with save_total_limit 2: the newest and the best (by eval_accuracy) survive, as in transformers
            List<Path> cps = Checkpoints.list(out);
            Path best = r.bestCheckpoint();
            assertTrue(best != null && cps.contains(best) && cps.contains(out.resolve("checkpoint-12")), cps + " best " + best);
            assertEquals(best.equals(out.resolve("checkpoint-12")) ? 1 : 2, cps.size(), cps.toString());
            assertFalse(Files.list(out).anyMatch(p -> p.getFileName().toString().startsWith(".tmp")), "no temporary directories left");
            assertTrue(Files.exists(out.resolve("checkpoint-12/optimizer.safetensors")) && Files.exists(out.resolve("checkpoint-12/trainer_state.json")));
            assertPng(out.resolve(Trainer.PLOT_FILE));
            assertPng(out.resolve("checkpoint-12").resolve(Trainer.PLOT_FILE));
            Map<String, Object> results = Json.parseObject(Files.readString(out.resolve("eval_results.json")));
            assertEquals(r.metrics().get("eval_accuracy"), ((Number) results.get("eval_accuracy")).doubleValue(), 1e-12);

            try (LoadedCheckpoint re = HfCheckpoint.load(out)) {
                Gpt2Config rc = re.config();
                assertEquals(List.of("GPT2ForSequenceClassification"), rc.architectures());
                assertEquals(names, rc.id2label());
                assertEquals(6, rc.numLabels());
                assertEquals("single_label_classification", rc.problemType());
                assertEquals(ckpt.config().eosTokenId(), rc.padTokenId());
                assertTrue(re.extraTensors().containsKey("score.weight"));
                assertTrue(Files.exists(out.resolve("vocab.json")) && Files.exists(out.resolve("merges.txt")));
                TrainableGpt2 reloaded = TrainableGpt2.fromCheckpoint(re, Task.SEQUENCE_CLASSIFICATION, rc.numLabels(), 0, pool);
                assertArrayEquals(model.params(), reloaded.params());
            }
        }
    }

    @Test
    void tokenClassificationLearnsAndReportsSeqevalMetrics(@TempDir Path out) throws Exception {
        Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(CKPT);
        var sentences = TokenClassificationData.read(resource("/ner/iob1.conll"), "tokens", "ner_tags");
        List<String> names = TokenClassificationData.labelNames(sentences, null);
        var data = TokenClassificationData.encode(sentences, names, tok, 64);
        FineTuneOptions opt = options(10, 5e-3, 2, 1, 64, 5);
        try (Parallel pool = new Parallel(2); LoadedCheckpoint ckpt = HfCheckpoint.load(CKPT)) {
            Gpt2Config cfg = TrainConfigs.forClassification(ckpt.config(), "GPT2ForTokenClassification", names, null, ckpt.config().eosTokenId());
            TrainableGpt2 model = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.TOKEN_CLASSIFICATION, names.size(), 7, pool);
            Trainer trainer = new Trainer(model, opt, new LoopOptions("no", 0, 0, 0, false, 1, "f1", out, null), CKPT);
            Evaluator ev = Evaluator.tokenClassification(data, SeqEval.Mode.CONLLEVAL);
            double before = trainer.evaluate(ev).get("eval_loss");
            Trainer.Result r = trainer.train(data, ev, new Trainer.Listener() {
                @Override
                public void onLog(Map<String, Object> rec) {
                    printLog(rec);
                }
            });
            assertEquals(20, r.steps(), "10 epochs x 2 batches");
            double after = r.metrics().get("eval_loss");
            System.out.printf("[trainer] tokcls loss %.4f -> %.4f, f1 %.3f accuracy %.3f%n", before, after, r.metrics().get("eval_f1"), r.metrics().get("eval_accuracy"));
            assertTrue(after < before - 0.1, "loss should decrease: " + before + " -> " + after);
            assertEquals(List.of("eval_loss", "eval_precision", "eval_recall", "eval_f1", "eval_accuracy", "eval_samples"), List.copyOf(r.metrics().keySet()));
            assertTrue(r.metrics().get("eval_accuracy") > 0.5, "memorising 3 sentences: " + r.metrics());
            try (LoadedCheckpoint re = HfCheckpoint.load(out)) {
                assertEquals(List.of("GPT2ForTokenClassification"), re.config().architectures());
                assertEquals(names, re.config().id2label());
                assertTrue(re.extraTensors().containsKey("classifier.weight") && re.extraTensors().containsKey("classifier.bias"));
                TrainableGpt2 reloaded = TrainableGpt2.fromCheckpoint(re, Task.TOKEN_CLASSIFICATION, names.size(), 0, pool);
                assertArrayEquals(model.params(), reloaded.params());
            }
            assertTrue(Checkpoints.list(out).isEmpty(), "save_steps 0 writes no checkpoints");
        }
    }

    /** Seqeval over first sub-tokens: a hand-made prediction gives the hand-counted entity scores. */
    @Test
    void tokenEvaluatorScoresFirstSubTokensOnly() throws Exception {
        Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(CKPT);
        var sentences = TokenClassificationData.readJsonl(resource("/ner/string-tags.jsonl"), "words", "tags");
        List<String> names = List.of("O", "B-PER", "B-ORG", "B-MISC", "I-MISC");
        var data = TokenClassificationData.encode(sentences, names, tok, 64);
        try (Parallel pool = new Parallel(1); LoadedCheckpoint ckpt = HfCheckpoint.load(CKPT)) {
            Gpt2Config cfg = TrainConfigs.forClassification(ckpt.config(), "GPT2ForTokenClassification", names, null, 50256);
            TrainableGpt2 model = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.TOKEN_CLASSIFICATION, names.size(), 7, pool);
            // a classifier that always says B-PER: bias 10 on label 1, zero weights
            model.setParam("classifier.weight", new float[names.size() * 64]);
            model.setParam("classifier.bias", new float[]{0, 10, 0, 0, 0});
            Map<String, Double> m = Evaluator.tokenClassification(data, SeqEval.Mode.CONLLEVAL).evaluate(model, 2, 50256);
            // gold entities: PER(Anna), ORG(Nordbank), MISC(Oslo Fjord Cup) = 3; predicted: every word a B-PER = 7;
            // correct: Anna only -> precision 1/7, recall 1/3; accuracy: words tagged B-PER in gold = 1 of 7
            assertEquals(1 / 7.0, m.get("eval_precision"), 1e-12);
            assertEquals(1 / 3.0, m.get("eval_recall"), 1e-12);
            assertEquals(2 * (1 / 7.0) * (1 / 3.0) / (1 / 7.0 + 1 / 3.0), m.get("eval_f1"), 1e-12);
            assertEquals(1 / 7.0, m.get("eval_accuracy"), 1e-12);
        }
    }

    @Test
    void causalLmPacksBlocksAndLearns(@TempDir Path out) throws Exception {
        Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(CKPT);
        String text = "the cat sat on the mat.\nthe dog sat on the log.\n\nthe cat saw the dog.\n".repeat(6);
        LmBlocks blocks = LmBlocks.fromText(text, tok, 16, "corpus");
        // run_clm: per line (with its line break), concatenated, cut into full blocks, the remainder dropped
        int total = 0;
        for (String line : text.split("(?<=\n)")) total += tok.encode(line).length;
        assertEquals(total, blocks.tokens().length);
        assertEquals(total / 16, blocks.size());
        Batch b = blocks.batch(new int[]{1, 0}, 0, 2, 0);
        assertArrayEquals(java.util.Arrays.copyOfRange(blocks.tokens(), 16, 32), java.util.Arrays.copyOfRange(b.inputIds(), 0, 16));
        assertArrayEquals(b.inputIds(), b.labels(), "labels are the inputs; the model shifts");

        FineTuneOptions opt = options(4, 5e-3, 4, 1, 16, 100);
        try (Parallel pool = new Parallel(2); LoadedCheckpoint ckpt = HfCheckpoint.load(CKPT)) {
            TrainableGpt2 model = TrainableGpt2.fromCheckpoint(ckpt, Task.CAUSAL_LM, 0, 7, pool);
            Trainer trainer = new Trainer(model, opt, new LoopOptions("epoch", 0, 0, 0, false, 1, "loss", out, null), CKPT);
            double before = trainer.evaluate(Evaluator.causalLm(blocks)).get("eval_loss");
            Trainer.Result r = trainer.train(blocks, Evaluator.causalLm(blocks), new Trainer.Listener() {
            });
            double after = r.metrics().get("eval_loss");
            System.out.printf("[trainer] causal-lm loss %.4f -> %.4f (perplexity %.1f)%n", before, after, r.metrics().get("eval_perplexity"));
            assertTrue(after < before - 0.5, before + " -> " + after);
            assertEquals(Math.exp(after), r.metrics().get("eval_perplexity"), 1e-9 * Math.exp(after));
            try (LoadedCheckpoint re = HfCheckpoint.load(out)) {
                assertEquals(List.of("GPT2LMHeadModel"), re.config().architectures());
                assertArrayEquals(model.params(), TrainableGpt2.fromCheckpoint(re, Task.CAUSAL_LM, 0, 0, pool).params());
            }
        }
    }

    @Test
    void plotDecodesAsPngOfTheStatedSize(@TempDir Path dir) throws Exception {
        List<Map<String, Object>> h = List.of(
                Map.of("step", 1, "loss", 2.0), Map.of("step", 2, "loss", 1.5, "eval_loss", 1.7, "eval_accuracy", 0.4),
                Map.of("step", 3, "loss", 1.2), Map.of("step", 4, "eval_loss", 1.3, "eval_accuracy", 0.6));
        Path png = dir.resolve("p.png");
        TrainingPlot.write(h, "eval_accuracy", png);
        assertPng(png);
        BufferedImage img = ImageIO.read(png.toFile());
        // the train-loss line is drawn in its colour somewhere in the left panel
        boolean blue = false;
        for (int x = 0; x < TrainingPlot.WIDTH / 2 && !blue; x++) {
            for (int y = 0; y < TrainingPlot.HEIGHT && !blue; y++) blue = (img.getRGB(x, y) & 0xFFFFFF) == 0x1F77B4;
        }
        assertTrue(blue, "no train-loss pixels");
    }

    static void assertPng(Path png) throws Exception {
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 8);
        assertArrayEquals(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, head, "PNG signature");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(TrainingPlot.WIDTH, img.getWidth());
        assertEquals(TrainingPlot.HEIGHT, img.getHeight());
    }
}
