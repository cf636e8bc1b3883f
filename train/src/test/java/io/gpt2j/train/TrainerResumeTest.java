package io.gpt2j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exact resume after an interruption, early stopping, the NaN guard and bad loop options. */
class TrainerResumeTest {
    static final Path CKPT = TrainGolden.checkpoint("tiny-gpt2");

    static TextClassificationData data(String file, List<String> names) throws Exception {
        return TextClassificationData.encode(TextClassificationData.readJsonl(TrainerTest.resource("/emotion/" + file), "text", "label"),
                names, Gpt2Tokenizer.fromDirectory(CKPT), 32);
    }

    static List<String> names() throws Exception {
        return TokenClassificationData.readLabels(TrainerTest.resource("/emotion/labels.txt"));
    }

    static TrainableGpt2 model(LoadedCheckpoint ckpt, Parallel pool, List<String> names) {
        Gpt2Config cfg = TrainConfigs.forClassification(ckpt.config(), "GPT2ForSequenceClassification", names,
                "single_label_classification", ckpt.config().eosTokenId());
        return TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.SEQUENCE_CLASSIFICATION, names.size(), 7, pool);
    }

    /** 64 rows, batch 8, accumulation 2 -> 4 steps per epoch; 2 epochs; dropout on; warmup + linear decay. */
    static FineTuneOptions opt() {
        return new FineTuneOptions(2, -1, 3e-3, 8, 2, 2, 0, 0.01, "linear", 1.0, 32, 11, 1, true);
    }

    static final class Interrupt extends RuntimeException {
    }

    /**
     * A straight 8-step run vs. one that dies after step 5 (having saved checkpoint-3; evaluation at step 4 ran in
     * between) and is resumed from checkpoint-3: parameters, optimizer moments and the logged losses are identical.
     */
    @Test
    void resumedRunIsBitIdenticalToAStraightOne(@TempDir Path dir) throws Exception {
        List<String> names = names();
        var train = data("train64.jsonl", names);
        var val = Evaluator.textClassification(data("validation32.jsonl", names));
        try (Parallel pool = new Parallel(2); LoadedCheckpoint ckpt = HfCheckpoint.load(CKPT)) {
            Path a = dir.resolve("straight"), b = dir.resolve("killed");
            TrainableGpt2 straight = model(ckpt, pool, names);
            Trainer ta = new Trainer(straight, opt(), new LoopOptions("steps", 2, 3, 0, false, 1, "loss", a, null), CKPT);
            assertEquals(8, ta.train(train, val, new Trainer.Listener() {
            }).steps());

            TrainableGpt2 first = model(ckpt, pool, names);
            Trainer tb = new Trainer(first, opt(), new LoopOptions("steps", 2, 3, 0, false, 1, "loss", b, null), CKPT);
            assertThrows(Interrupt.class, () -> tb.train(train, val, new Trainer.Listener() {
                @Override
                public void onStep(int step, int total, double loss, double lr, double tps) {
                    if (step == 5) throw new Interrupt();
                }
            }));
            assertEquals(List.of(b.resolve("checkpoint-3")), Checkpoints.list(b));
            assertFalse(Files.exists(b.resolve("model.safetensors")), "an interrupted run writes no final model");

            TrainableGpt2 resumed = model(ckpt, pool, names); // fresh head init: everything must come from the checkpoint
            Trainer tc = new Trainer(resumed, opt(), new LoopOptions("steps", 2, 3, 0, false, 1, "loss", b, b.resolve("checkpoint-3")), CKPT);
            assertEquals(8, tc.train(train, val, new Trainer.Listener() {
            }).steps());

            assertArrayEquals(straight.params(), resumed.params(), "parameters after resume");
            assertArrayEquals(ta.optimizer().expAvg(), tc.optimizer().expAvg());
            assertArrayEquals(ta.optimizer().expAvgSq(), tc.optimizer().expAvgSq());
            assertEquals(ta.optimizer().stepCount(), tc.optimizer().stepCount());
            List<String> la = withoutTiming(Files.readAllLines(a.resolve(Trainer.METRICS_FILE)));
            List<String> lb = withoutTiming(Files.readAllLines(b.resolve(Trainer.METRICS_FILE)));
            assertEquals(la, lb, "metrics.jsonl of the resumed run equals the straight run's (timings aside)");
            assertEquals(8 + 4, la.size());
            assertEquals(List.of(b.resolve("checkpoint-3"), b.resolve("checkpoint-6")), Checkpoints.list(b));
        }
    }

    static List<String> withoutTiming(List<String> lines) {
        return lines.stream().map(l -> l.replaceAll(",\"tokens_per_second\":[0-9.Ee+-]+", "")).toList();
    }

    @Test
    void resumeRefusesADifferentRun(@TempDir Path dir) throws Exception {
        List<String> names = names();
        var train = data("train64.jsonl", names);
        try (Parallel pool = new Parallel(2); LoadedCheckpoint ckpt = HfCheckpoint.load(CKPT)) {
            FineTuneOptions o = new FineTuneOptions(1, 2, 1e-3, 8, 1, 0, 0, 0, "linear", 1.0, 32, 11, 1, false);
            new Trainer(model(ckpt, pool, names), o, new LoopOptions("no", 0, 2, 0, false, 1, "loss", dir, null), CKPT)
                    .train(train, null, new Trainer.Listener() {
                    });
            FineTuneOptions other = new FineTuneOptions(1, 2, 1e-3, 4, 1, 0, 0, 0, "linear", 1.0, 32, 11, 1, false);
            var t = new Trainer(model(ckpt, pool, names), other, new LoopOptions("no", 0, 2, 0, false, 1, "loss", dir, dir.resolve("checkpoint-2")), CKPT);
            String m = assertThrows(IllegalArgumentException.class, () -> t.train(train, null, new Trainer.Listener() {
            })).getMessage();
            System.out.println("[resume] " + m);
            assertTrue(m.contains("per_device_train_batch_size 8 -> 4"), m);
            var u = new Trainer(model(ckpt, pool, names), o, new LoopOptions("no", 0, 2, 0, false, 1, "loss", dir, dir.resolve("nope")), CKPT);
            m = assertThrows(IllegalArgumentException.class, () -> u.train(train, null, new Trainer.Listener() {
            })).getMessage();
            assertTrue(m.contains("not a gpt2j checkpoint"), m);
            // a transformers checkpoint: trainer_state.json without gpt2j's resume section
            Path hf = Files.createDirectories(dir.resolve("hf-checkpoint"));
            Files.writeString(hf.resolve("trainer_state.json"), "{\"global_step\": 2, \"epoch\": 1.0, \"log_history\": []}");
            var v = new Trainer(model(ckpt, pool, names), o, new LoopOptions("no", 0, 2, 0, false, 1, "loss", dir, hf), CKPT);
            m = assertThrows(IllegalArgumentException.class, () -> v.train(train, null, new Trainer.Listener() {
            })).getMessage();
            assertTrue(m.contains("no 'gpt2j_resume' section"), m);
            // a checkpoint whose optimizer state went missing
            Files.delete(dir.resolve("checkpoint-2").resolve(Checkpoints.OPTIMIZER));
            var w = new Trainer(model(ckpt, pool, names), o, new LoopOptions("no", 0, 2, 0, false, 1, "loss", dir, dir.resolve("checkpoint-2")), CKPT);
            m = assertThrows(IllegalArgumentException.class, () -> w.train(train, null, new Trainer.Listener() {
            })).getMessage();
            assertTrue(m.contains("no optimizer.safetensors"), m);
        }
    }

    /** lr 0: the validation loss never improves after the first evaluation, so patience 2 stops after 3 evaluations. */
    @Test
    void earlyStoppingStopsAfterPatienceEvaluationsWithoutImprovement(@TempDir Path dir) throws Exception {
        List<String> names = names();
        var train = data("train64.jsonl", names);
        var val = Evaluator.textClassification(data("validation32.jsonl", names));
        try (Parallel pool = new Parallel(2); LoadedCheckpoint ckpt = HfCheckpoint.load(CKPT)) {
            FineTuneOptions o = new FineTuneOptions(5, -1, 0.0, 8, 1, 0, 0, 0, "constant", 1.0, 32, 11, 100, false);
            Trainer t = new Trainer(model(ckpt, pool, names), o, new LoopOptions("steps", 2, 0, 1, true, 2, "loss", dir, null), CKPT);
            Trainer.Result r = t.train(train, val, new Trainer.Listener() {
            });
            assertTrue(r.stoppedEarly());
            assertEquals(6, r.steps(), "evaluations at 2 (best), 4 and 6 (no improvement twice)");
            assertEquals(dir.resolve("checkpoint-2"), r.bestCheckpoint());
            // save_total_limit 1 keeps the best checkpoint besides the newest
            assertEquals(List.of(dir.resolve("checkpoint-2"), dir.resolve("checkpoint-6")), Checkpoints.list(dir));
        }
        assertTrue(new LoopOptions("no", 0, 0, 0, false, 1, "accuracy", null, null).greaterIsBetter());
        assertFalse(new LoopOptions("no", 0, 0, 0, false, 1, "eval_loss", null, null).greaterIsBetter());
        assertEquals("eval_f1", new LoopOptions("no", 0, 0, 0, false, 1, "f1", null, null).metricForBestModel());
    }

    @Test
    void nanLossStopsTheRunAndSavesNothing(@TempDir Path dir) throws Exception {
        List<String> names = names();
        var train = data("train64.jsonl", names);
        try (Parallel pool = new Parallel(2); LoadedCheckpoint ckpt = HfCheckpoint.load(CKPT)) {
            TrainableGpt2 m = model(ckpt, pool, names);
            float[] w = m.param("score.weight");
            w[3] = Float.NaN;
            m.setParam("score.weight", w);
            FineTuneOptions o = new FineTuneOptions(1, -1, 1e-3, 8, 1, 0, 0, 0, "linear", 1.0, 32, 11, 1, false);
            Trainer t = new Trainer(m, o, new LoopOptions("no", 0, 1, 0, false, 1, "loss", dir, null), CKPT);
            String msg = assertThrows(Trainer.DivergedException.class, () -> t.train(train, null, new Trainer.Listener() {
            })).getMessage();
            System.out.println("[nan] " + msg);
            assertTrue(msg.startsWith("loss is NaN at optimizer step 1 (epoch 1)"), msg);
            assertTrue(Checkpoints.list(dir).isEmpty());
            assertFalse(Files.exists(dir.resolve("model.safetensors")));
        }
    }

    @Test
    void badLoopOptionsAreRejectedWithTheirNames() {
        Map<String, Runnable> bad = Map.of(
                "evaluation_strategy 'sometimes'", () -> new LoopOptions("sometimes", 0, 0, 0, false, 1, "loss", null, null),
                "eval_steps >= 1", () -> new LoopOptions("steps", 0, 0, 0, false, 1, "loss", null, null),
                "save_total_limit must be >= 0", () -> new LoopOptions("no", 0, 0, -1, false, 1, "loss", null, null),
                "apply_early_stopping needs evaluation_strategy", () -> new LoopOptions("no", 0, 0, 0, true, 1, "loss", null, null),
                "early_stopping_patience must be >= 1", () -> new LoopOptions("epoch", 0, 0, 0, true, 0, "loss", null, null));
        bad.forEach((expect, r) -> {
            String m = assertThrows(IllegalArgumentException.class, r::run).getMessage();
            assertTrue(m.contains(expect), m);
        });
    }
}
