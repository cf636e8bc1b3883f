package io.gpt2j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA on tiny-gpt2-v1000 (E 48, 3 layers, V 1000): B = 0 leaves the model unchanged, training moves only the head
 * and the adapters, the merged save reproduces the adapted model, the optimizer keeps state for the trainable
 * parameters only, and the adapter directory uses PEFT's names and shapes.
 */
class LoraTest {
    static final Parallel POOL = new Parallel(2);
    static final List<String> LABELS = List.of("a", "b", "c");

    @AfterAll
    static void close() {
        POOL.close();
    }

    static Gpt2Config classificationConfig(LoadedCheckpoint ckpt) {
        return TrainConfigs.forClassification(ckpt.config(), "GPT2ForSequenceClassification", LABELS,
                "single_label_classification", ckpt.config().eosTokenId());
    }

    /** B rows of T random ids (never the pad/eos id 999), right-padded with 999 in row 1; random labels. */
    static Batch batch(int B, int T, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ids = new int[B * T];
        int[] labels = new int[B];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) ids[b * T + t] = b == 1 && t >= T - 3 ? 999 : r.nextInt(999);
            labels[b] = r.nextInt(LABELS.size());
        }
        return new Batch(ids, null, labels, null, B, T);
    }

    static void randomizeLoraB(TrainableGpt2 m, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (ParamLayout.Spec s : m.layout().specs()) {
            if (!s.name().endsWith("lora_B.weight")) continue;
            for (int i = 0; i < s.size(); i++) m.params()[s.offset() + i] = (float) (r.nextDouble() - 0.5) * 0.2f;
        }
    }

    @Test
    void withBZeroTheOutputsEqualTheBaseModel() {
        LoraConfig lc = new LoraConfig(4, 16, 0.1, List.of("c_attn", "c_proj", "c_fc"));
        try (LoadedCheckpoint ckpt = HfCheckpoint.load(TrainGolden.checkpoint("tiny-gpt2-v1000"))) {
            Gpt2Config cfg = classificationConfig(ckpt);
            TrainableGpt2 plain = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.SEQUENCE_CLASSIFICATION, 3, 7, POOL);
            TrainableGpt2 lora = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.SEQUENCE_CLASSIFICATION, 3, 7, POOL, lc);
            Batch b = batch(3, 12, 1);
            float l0 = plain.forward(b), l1 = lora.forward(b);
            // exact: the LoRA path adds scale * u * 0 = +0 to every output
            assertEquals(l0, l1);
            assertArrayEquals(plain.logits(), lora.logits());
            assertArrayEquals(plain.lastHidden(), lora.lastHidden());
            float[] a = lora.param("transformer.h.0.attn.c_attn.lora_A.weight");
            double bound = 1 / Math.sqrt(48);
            double maxAbs = 0;
            for (float x : a) maxAbs = Math.max(maxAbs, Math.abs(x));
            assertTrue(maxAbs <= bound && maxAbs > 0.9 * bound, "A ~ U(-1/sqrt(in), 1/sqrt(in)), max |A| " + maxAbs + " bound " + bound);
            for (float x : lora.param("transformer.h.2.mlp.c_proj.lora_B.weight")) assertEquals(0f, x);
            TrainableGpt2 again = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.SEQUENCE_CLASSIFICATION, 3, 7, POOL, lc);
            assertArrayEquals(a, again.param("transformer.h.0.attn.c_attn.lora_A.weight"), "seeded init");
        }
    }

    @Test
    void trainingMovesOnlyHeadAndAdaptersAndOptimizerStateIsSmall() {
        LoraConfig lc = new LoraConfig(4, 8, 0.1, List.of("c_attn", "c_proj"));
        try (LoadedCheckpoint ckpt = HfCheckpoint.load(TrainGolden.checkpoint("tiny-gpt2-v1000"))) {
            TrainableGpt2 m = TrainableGpt2.fromCheckpoint(ckpt, classificationConfig(ckpt), Task.SEQUENCE_CLASSIFICATION, 3, 7, POOL, lc);
            float[] before = m.params().clone();
            int C = 48, L = 3;
            long loraParams = (long) L * 4 * ((C + 3 * C) + (C + C) + (4 * C + C)); // r (in + out): c_attn, attn.c_proj, mlp.c_proj
            assertEquals(loraParams + 3L * C, m.trainableCount(), "LoRA A/B plus score.weight");
            AdamW adam = new AdamW(m.layout(), m.trainableFrom(), 0.9f, 0.999f, 1e-8f, 0.01f, true);
            assertEquals(m.trainableCount(), adam.expAvg().length);
            assertEquals(m.trainableCount(), adam.expAvgSq().length);
            assertEquals(m.trainableCount(), m.grads().length);
            System.out.printf("[lora] trainable %d of %d parameters (%.2f%%): optimizer state %d floats instead of %d%n",
                    m.trainableCount(), m.layout().total(), 100.0 * m.trainableCount() / m.layout().total(), 2 * m.trainableCount(), 2 * (m.layout().total() - loraParams));
            m.train(TrainableGpt2.Dropout.fromConfig(m.config()), 3);
            Batch b = batch(4, 16, 2);
            float first = Float.NaN, loss = Float.NaN;
            for (int step = 0; step < 8; step++) {
                m.zeroGrad();
                loss = m.forward(b);
                if (step == 0) first = loss;
                m.backward();
                AdamW.clipGradNorm(m.grads(), 1.0);
                adam.step(m.params(), m.grads(), 1e-2);
            }
            System.out.printf("[lora] loss %.4f -> %.4f over 8 steps%n", first, loss);
            assertTrue(loss < first, "loss should decrease: " + first + " -> " + loss);
            float[] after = m.params();
            for (int i = 0; i < m.trainableFrom(); i++) {
                if (Float.floatToRawIntBits(before[i]) != Float.floatToRawIntBits(after[i])) {
                    throw new AssertionError("frozen parameter changed at offset " + i);
                }
            }
            for (ParamLayout.Spec s : m.layout().specs()) {
                if (s.offset() < m.trainableFrom()) continue;
                boolean changed = false;
                for (int i = s.offset(); i < s.offset() + s.size() && !changed; i++) changed = before[i] != after[i];
                assertTrue(changed, s.name() + " should have been updated");
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.grad("transformer.h.0.attn.c_attn.weight"));
            assertTrue(e.getMessage().contains("frozen"), e.getMessage());
        }
    }

    @Test
    void mergedSaveReproducesTheAdaptedModel(@TempDir Path out) {
        LoraConfig lc = new LoraConfig(8, 32, 0.0, List.of("c_attn", "c_proj", "c_fc"));
        Path dir = TrainGolden.checkpoint("tiny-gpt2-v1000");
        try (LoadedCheckpoint ckpt = HfCheckpoint.load(dir)) {
            TrainableGpt2 m = TrainableGpt2.fromCheckpoint(ckpt, classificationConfig(ckpt), Task.SEQUENCE_CLASSIFICATION, 3, 7, POOL, lc);
            randomizeLoraB(m, 5);
            Batch b = batch(3, 20, 3);
            m.forward(b);
            float[] adapted = m.logits().clone();
            TrainableGpt2 plain = TrainableGpt2.fromCheckpoint(ckpt, classificationConfig(ckpt), Task.SEQUENCE_CLASSIFICATION, 3, 7, POOL);
            plain.setParam("score.weight", m.param("score.weight"));
            plain.forward(b);
            assertTrue(TrainGolden.maxAbsDiff(plain.logits(), adapted) > 1e-2, "the random B must change the logits");

            Checkpoints.writeModel(m, out, dir);
            try (LoadedCheckpoint re = HfCheckpoint.load(out)) {
                assertFalse(re.extraTensors().keySet().stream().anyMatch(k -> k.contains("lora")), "no adapter tensors in a merged save");
                TrainableGpt2 merged = TrainableGpt2.fromCheckpoint(re, Task.SEQUENCE_CLASSIFICATION, 3, 0, POOL);
                assertArrayEquals(m.mergedParam("transformer.h.1.mlp.c_fc.weight"), merged.param("transformer.h.1.mlp.c_fc.weight"));
                assertArrayEquals(m.param("transformer.h.1.ln_1.weight"), merged.param("transformer.h.1.ln_1.weight"));
                merged.forward(b);
                float diff = TrainGolden.maxAbsDiff(merged.logits(), adapted), scale = TrainGolden.maxAbs(adapted);
                System.out.printf("[lora] merged vs adapted logits: max|diff| %.2e (max|logit| %.3f)%n", diff, scale);
                // x@(W + s·(BA)ᵀ) vs x@W + s·(x@Aᵀ)@Bᵀ: the same sums in another order, fp32 through 3 layers
                assertTrue(diff <= 1e-5 * Math.max(1, scale), "merged logits differ by " + diff);
            }
        }
    }

    @Test
    void adapterUsesPeftNamesAndReloads(@TempDir Path out) throws Exception {
        LoraConfig lc = new LoraConfig(4, 16, 0.05, List.of("c_attn", "c_proj"));
        try (LoadedCheckpoint ckpt = HfCheckpoint.load(TrainGolden.checkpoint("tiny-gpt2-v1000"))) {
            Gpt2Config cfg = classificationConfig(ckpt);
            TrainableGpt2 m = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.SEQUENCE_CLASSIFICATION, 3, 7, POOL, lc);
            randomizeLoraB(m, 9);
            LoraAdapter.save(m, out, "gpt2");

            Map<String, Object> j = Json.parseObject(Files.readString(out.resolve("adapter_config.json")));
            assertEquals("LORA", j.get("peft_type"));
            assertEquals("SEQ_CLS", j.get("task_type"));
            assertEquals(Boolean.TRUE, j.get("fan_in_fan_out"));
            assertEquals("none", j.get("bias"));
            assertEquals(4, ((Number) j.get("r")).intValue());
            assertEquals(16, ((Number) j.get("lora_alpha")).intValue());
            assertEquals(0.05, ((Number) j.get("lora_dropout")).doubleValue());
            assertEquals(List.of("c_attn", "c_proj"), j.get("target_modules"));
            assertEquals(List.of("classifier", "score"), j.get("modules_to_save"));
            assertEquals("gpt2", j.get("base_model_name_or_path"));
            assertEquals(lc, LoraAdapter.readConfig(out));

            List<String> expected = new ArrayList<>();
            for (int l = 0; l < 3; l++) {
                for (String mod : List.of("attn.c_attn", "attn.c_proj", "mlp.c_proj")) {
                    expected.add("base_model.model.transformer.h." + l + "." + mod + ".lora_A.weight");
                    expected.add("base_model.model.transformer.h." + l + "." + mod + ".lora_B.weight");
                }
            }
            expected.add("base_model.model.score.weight");
            try (SafeTensors st = SafeTensors.open(out.resolve("adapter_model.safetensors"))) {
                assertEquals(new java.util.TreeSet<>(expected), new java.util.TreeSet<>(st.tensors().keySet()));
                assertEquals("pt", st.metadata().get("format"));
                Tensor a = st.get("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight");
                Tensor bb = st.get("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight");
                Tensor mp = st.get("base_model.model.transformer.h.2.mlp.c_proj.lora_A.weight");
                assertArrayEquals(new long[]{4, 48}, a.shape(), "lora_A: [r, in_features]");
                assertArrayEquals(new long[]{144, 4}, bb.shape(), "lora_B: [out_features, r]");
                assertArrayEquals(new long[]{4, 192}, mp.shape(), "mlp.c_proj in_features = n_inner");
                assertArrayEquals(new long[]{3, 48}, st.get("base_model.model.score.weight").shape());
                assertArrayEquals(m.param("transformer.h.0.attn.c_attn.lora_B.weight"), bb.toFloatArray());
            }

            Batch b = batch(2, 10, 4);
            m.forward(b);
            float[] want = m.logits().clone();
            TrainableGpt2 fresh = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.SEQUENCE_CLASSIFICATION, 3, 99, POOL, LoraAdapter.readConfig(out));
            LoraAdapter.load(fresh, out);
            fresh.forward(b);
            assertArrayEquals(want, fresh.logits(), "the reloaded adapter gives the same logits, bit for bit");

            TrainableGpt2 otherRank = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.SEQUENCE_CLASSIFICATION, 3, 1, POOL,
                    new LoraConfig(2, 16, 0, List.of("c_attn", "c_proj")));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraAdapter.load(otherRank, out));
            assertTrue(e.getMessage().contains("lora_A.weight") && e.getMessage().contains("[4, 48]"), e.getMessage());
        }
    }

    @Test
    void causalLmAdapterHasNoModulesToSave(@TempDir Path out) throws Exception {
        TrainableGpt2 m = new TrainableGpt2(Gpt2Config.of(23, 8, 8, 2, 2), Task.CAUSAL_LM, 0, LoraConfig.defaults(), 1, POOL);
        assertEquals(2 * 8 * (8 + 24), m.trainableCount(), "c_attn only (PEFT's GPT-2 default), r 8");
        LoraAdapter.save(m, out, "base");
        Map<String, Object> j = Json.parseObject(Files.readString(out.resolve("adapter_config.json")));
        assertEquals("CAUSAL_LM", j.get("task_type"));
        assertTrue(j.containsKey("modules_to_save"));
        assertNull(j.get("modules_to_save"));
        assertEquals(128, ((Number) j.get("lora_alpha")).intValue());
    }

    @Test
    void badSettingsAreRejectedWithTheirValue(@TempDir Path dir) throws Exception {
        assertMessage(() -> new LoraConfig(0, 16, 0, List.of("c_attn")), "lora_r must be >= 1, got 0");
        assertMessage(() -> new LoraConfig(8, -1, 0, List.of("c_attn")), "lora_alpha must be > 0, got -1.0");
        assertMessage(() -> new LoraConfig(8, 16, 1.0, List.of("c_attn")), "lora_dropout must be in [0, 1), got 1.0");
        assertMessage(() -> new LoraConfig(8, 16, 0, List.of("q_proj")), "'q_proj' is not a GPT-2 Conv1D module");
        assertMessage(() -> new LoraConfig(8, 16, 0, List.of()), "at least one of");
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\": \"IA3\", \"fan_in_fan_out\": true}");
        assertMessage(() -> LoraAdapter.readConfig(dir), "peft_type is IA3, expected LORA");
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"fan_in_fan_out\": false, \"r\": 8, \"lora_alpha\": 8}");
        assertMessage(() -> LoraAdapter.readConfig(dir), "fan_in_fan_out must be true");
        TrainableGpt2 full = new TrainableGpt2(Gpt2Config.of(23, 8, 8, 2, 2), Task.CAUSAL_LM, 0, POOL);
        assertMessage(() -> LoraAdapter.save(full, dir, "x"), "no LoRA adapters");
        assertEquals(0, full.trainableFrom());
        assertNull(full.loraConfig());
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable ex, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ex);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
    }
}
