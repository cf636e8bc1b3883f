package io.gpt2j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA through the {@link Trainer}: checkpoints hold the adapter and the trainable tail's moments, a run resumed from
 * one is bit-identical to a straight run, the frozen weights never move, and mismatched resumes are refused.
 */
class TrainerLoraTest {
    static final Path CKPT = TrainerResumeTest.CKPT;
    static final LoraConfig LORA = new LoraConfig(4, 8, 0.1, List.of("c_attn", "c_fc"));

    /** A LoRA sequence classifier; {@code seed} draws the head and A, so a resumed model starts from other values. */
    static TrainableGpt2 model(LoadedCheckpoint ckpt, Parallel pool, List<String> names, LoraConfig lora, long seed) {
        Gpt2Config cfg = TrainConfigs.forClassification(ckpt.config(), "GPT2ForSequenceClassification", names,
                "single_label_classification", ckpt.config().eosTokenId());
        return TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.SEQUENCE_CLASSIFICATION, names.size(), seed, pool, lora);
    }

    static LoopOptions loop(Path out, Path resume) {
        return new LoopOptions("steps", 2, 3, 0, false, 1, "loss", out, resume);
    }

    /**
     * Same schedule as {@link TrainerResumeTest#resumedRunIsBitIdenticalToAStraightOne} (8 steps, accumulation 2,
     * model and LoRA dropout on), with LoRA: interrupted after step 5, resumed from checkpoint-3.
     */
    @Test
    void loraRunResumesBitIdentically(@TempDir Path dir) throws Exception {
        List<String> names = TrainerResumeTest.names();
        var train = TrainerResumeTest.data("train64.jsonl", names);
        var val = Evaluator.textClassification(TrainerResumeTest.data("validation32.jsonl", names));
        try (Parallel pool = new Parallel(2); LoadedCheckpoint ckpt = HfCheckpoint.load(CKPT)) {
            Path a = dir.resolve("straight"), b = dir.resolve("killed");
            TrainableGpt2 straight = model(ckpt, pool, names, LORA, 7);
            float[] base = straight.params().clone();
            Trainer ta = new Trainer(straight, TrainerResumeTest.opt(), loop(a, null), CKPT);
            assertEquals(8, ta.train(train, val, new Trainer.Listener() {
            }).steps());
            assertEquals(straight.trainableCount(), ta.optimizer().expAvg().length, "moments for the trainable tail only");
            assertArrayEquals(Arrays.copyOf(base, straight.trainableFrom()), Arrays.copyOf(straight.params(), straight.trainableFrom()),
                    "frozen GPT-2 weights are bit-identical after training");
            assertFalse(Arrays.equals(Arrays.copyOfRange(base, straight.trainableFrom(), base.length),
                    Arrays.copyOfRange(straight.params(), straight.trainableFrom(), base.length)), "head and adapters moved");

            TrainableGpt2 first = model(ckpt, pool, names, LORA, 7);
            Trainer tb = new Trainer(first, TrainerResumeTest.opt(), loop(b, null), CKPT);
            assertThrows(TrainerResumeTest.Interrupt.class, () -> tb.train(train, val, new Trainer.Listener() {
                @Override
                public void onStep(int step, int total, double loss, double lr, double tps) {
                    if (step == 5) throw new TrainerResumeTest.Interrupt();
                }
            }));
            Path cp = b.resolve("checkpoint-3");
            assertTrue(Files.isRegularFile(cp.resolve(LoraAdapter.CONFIG_FILE)) && Files.isRegularFile(cp.resolve(LoraAdapter.WEIGHTS_FILE)));
            assertFalse(Files.exists(cp.resolve("model.safetensors")), "a LoRA checkpoint holds the adapter, not the full model");
            try (SafeTensors st = SafeTensors.open(cp.resolve(Checkpoints.OPTIMIZER))) {
                assertEquals(first.trainableCount(), st.get("exp_avg").numel());
            }

            TrainableGpt2 resumed = model(ckpt, pool, names, LORA, 99); // other head and A: all must come from the checkpoint
            Trainer tc = new Trainer(resumed, TrainerResumeTest.opt(), loop(b, cp), CKPT);
            assertEquals(8, tc.train(train, val, new Trainer.Listener() {
            }).steps());
            assertArrayEquals(straight.params(), resumed.params(), "parameters (frozen and trainable) after resume");
            assertArrayEquals(ta.optimizer().expAvg(), tc.optimizer().expAvg());
            assertArrayEquals(ta.optimizer().expAvgSq(), tc.optimizer().expAvgSq());
            assertEquals(TrainerResumeTest.withoutTiming(Files.readAllLines(a.resolve(Trainer.METRICS_FILE))),
                    TrainerResumeTest.withoutTiming(Files.readAllLines(b.resolve(Trainer.METRICS_FILE))));

            // the final directory holds the merged model: reloaded without LoRA it equals the adapted weights
            try (LoadedCheckpoint re = HfCheckpoint.load(b)) {
                assertFalse(re.extraTensors().keySet().stream().anyMatch(k -> k.contains("lora_")));
                TrainableGpt2 merged = TrainableGpt2.fromCheckpoint(re, Task.SEQUENCE_CLASSIFICATION, names.size(), 0, pool);
                for (String w : List.of("transformer.h.0.attn.c_attn.weight", "transformer.h.1.mlp.c_fc.weight", "transformer.h.0.attn.c_proj.weight", "score.weight")) {
                    assertArrayEquals(resumed.mergedParam(w), merged.param(w), w);
                }
            }
        }
    }

    @Test
    void mismatchedResumesAndAdapterSaveWithoutLoraAreRefused(@TempDir Path dir) throws Exception {
        List<String> names = TrainerResumeTest.names();
        var train = TrainerResumeTest.data("train64.jsonl", names);
        FineTuneOptions o = new FineTuneOptions(1, 2, 1e-3, 8, 1, 0, 0, 0, "linear", 1.0, 32, 11, 1, false);
        Trainer.Listener quiet = new Trainer.Listener() {
        };
        try (Parallel pool = new Parallel(2); LoadedCheckpoint ckpt = HfCheckpoint.load(CKPT)) {
            Path lora = dir.resolve("lora"), full = dir.resolve("full");
            new Trainer(model(ckpt, pool, names, LORA, 7), o, new LoopOptions("no", 0, 2, 0, false, 1, "loss", lora, null), CKPT).train(train, null, quiet);
            new Trainer(model(ckpt, pool, names, null, 7), o, new LoopOptions("no", 0, 2, 0, false, 1, "loss", full, null), CKPT).train(train, null, quiet);

            LoraConfig otherAlpha = new LoraConfig(4, 16, 0.1, List.of("c_attn", "c_fc"));
            String m = assertThrows(IllegalArgumentException.class, () -> new Trainer(model(ckpt, pool, names, otherAlpha, 7), o,
                    new LoopOptions("no", 0, 2, 0, false, 1, "loss", lora, lora.resolve("checkpoint-2")), CKPT).train(train, null, quiet)).getMessage();
            assertTrue(m.contains("LoRA settings") && m.contains("alpha=8.0") && m.contains("alpha=16.0"), m);
            m = assertThrows(IllegalArgumentException.class, () -> new Trainer(model(ckpt, pool, names, null, 7), o,
                    new LoopOptions("no", 0, 2, 0, false, 1, "loss", lora, lora.resolve("checkpoint-2")), CKPT).train(train, null, quiet)).getMessage();
            assertTrue(m.contains("holds a LoRA adapter") && m.contains("--apply_lora"), m);
            m = assertThrows(IllegalArgumentException.class, () -> new Trainer(model(ckpt, pool, names, LORA, 7), o,
                    new LoopOptions("no", 0, 2, 0, false, 1, "loss", full, full.resolve("checkpoint-2")), CKPT).train(train, null, quiet)).getMessage();
            assertTrue(m.contains("written without LoRA"), m);
            m = assertThrows(IllegalArgumentException.class, () -> new Trainer(model(ckpt, pool, names, null, 7), o,
                    new LoopOptions("no", 0, 0, 0, false, 1, "loss", full, null, true), CKPT)).getMessage();
            assertTrue(m.contains("save_lora_adapter needs a model trained with LoRA"), m);

            // optimizer moments of another trainable tail (r 8 instead of 4): both counts named
            TrainableGpt2 r8 = model(ckpt, pool, names, new LoraConfig(8, 8, 0.1, List.of("c_attn", "c_fc")), 7);
            AdamW tail = new AdamW(r8.layout(), r8.trainableFrom(), 0.9f, 0.999f, 1e-8f, 0, true);
            m = assertThrows(IllegalArgumentException.class, () -> Checkpoints.readOptimizer(tail, lora.resolve("checkpoint-2"))).getMessage();
            assertTrue(m.contains(Checkpoints.OPTIMIZER) && m.contains("trainable parameters (from layout offset " + r8.trainableFrom()), m);
        }
    }
}
