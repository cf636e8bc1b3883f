package io.gpt2j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fine-tunes tiny-gpt2 on 64 emotion rows: the loss goes down, and the saved directory reloads to the same model. */
class SequenceClassificationTrainerTest {
    static Path resource(String name) throws Exception {
        return Path.of(SequenceClassificationTrainerTest.class.getResource("/emotion/" + name).toURI());
    }

    @Test
    void lossDecreasesAndTheSavedModelReloads(@TempDir Path out) throws Exception {
        Path ckptDir = TrainGolden.checkpoint("tiny-gpt2");
        List<String> names = Files.readAllLines(resource("labels.txt")).stream().filter(s -> !s.isBlank()).toList();
        Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(ckptDir);
        FineTuneOptions opt = new FineTuneOptions(3, -1, 2e-3, 8, 2, 2, 0, 0.01, "linear", 1.0, 48, 7, 4, true);
        var trainRows = TextClassificationData.readJsonl(resource("train64.jsonl"), "text", "label");
        var train = TextClassificationData.encode(trainRows, TextClassificationData.labelNames(trainRows, names), tok, opt.maxSeqLength());
        var valRows = TextClassificationData.readJsonl(resource("validation32.jsonl"), "text", "label");
        var validation = TextClassificationData.encode(valRows, names, tok, opt.maxSeqLength());
        try (Parallel pool = new Parallel(2); LoadedCheckpoint ckpt = HfCheckpoint.load(ckptDir)) {
            Gpt2Config cfg = TrainConfigs.forClassification(ckpt.config(), "GPT2ForSequenceClassification", names,
                    "single_label_classification", ckpt.config().eosTokenId());
            TrainableGpt2 model = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.SEQUENCE_CLASSIFICATION, names.size(), opt.seed(), pool);
            SequenceClassificationTrainer trainer = new SequenceClassificationTrainer(model, opt);
            double before = trainer.evaluate(train).loss();
            int steps = trainer.train(train, validation, new SequenceClassificationTrainer.Listener() {
                @Override
                public void onLog(int step, int total, double epoch, double loss, double lr, double norm) {
                    System.out.printf("[finetune] step %d/%d epoch %.2f loss %.4f lr %.2e grad_norm %.3f%n", step, total, epoch, loss, lr, norm);
                }

                @Override
                public void onEval(double epoch, ClassificationMetrics m, double loss) {
                    System.out.printf("[finetune] eval epoch %.0f loss %.4f accuracy %.4f f1_macro %.4f%n", epoch, loss, m.accuracy(), m.f1Macro());
                }
            });
            assertEquals(12, steps, "3 epochs x (8 batches / 2 accumulation)");
            SequenceClassificationTrainer.Evaluation after = trainer.evaluate(train);
            System.out.printf("[finetune] train loss %.4f -> %.4f%n", before, after.loss());
            assertTrue(after.loss() < before - 0.05, "training loss should decrease: " + before + " -> " + after.loss());

            SequenceClassificationTrainer.save(model, out, ckptDir, null);
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
    void macroF1FollowsScikitLearn() {
        // sklearn: f1_score([0,1,2,0,1,2], [0,2,1,0,0,1], average="macro") = 0.26666..., accuracy 1/3
        ClassificationMetrics m = ClassificationMetrics.of(new int[]{0, 2, 1, 0, 0, 1}, new int[]{0, 1, 2, 0, 1, 2}, 3);
        assertEquals(2 / 6.0, m.accuracy(), 1e-12);
        assertEquals(0.8 / 3, m.f1Macro(), 1e-12);
    }
}
