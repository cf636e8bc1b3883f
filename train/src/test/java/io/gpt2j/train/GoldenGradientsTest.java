package io.gpt2j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2Config;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Loss, logits and EVERY parameter gradient of the three heads against transformers 4.38.2 (train_*.safetensors).
 * Tolerances from the golden README: loss atol 1e-5, logits atol 1e-4, grads atol max(1e-5, 1e-4 * max|g|) per tensor.
 */
class GoldenGradientsTest {
    static final Parallel POOL = new Parallel(Math.min(2, Parallel.defaultThreads()));

    @AfterAll
    static void close() {
        POOL.close();
    }

    /** A model and batch set up exactly as the golden case was. */
    record Case(TrainableGpt2 model, Batch batch, float expectedLoss, SafeTensors golden, LoadedCheckpoint ckpt) {
    }

    @SuppressWarnings("unchecked")
    static Case setUp(String modelName, String kind) {
        LoadedCheckpoint ckpt = HfCheckpoint.load(TrainGolden.checkpoint(modelName));
        SafeTensors g = TrainGolden.tensors(modelName, kind);
        Map<String, Object> sec = TrainGolden.section(modelName, kind);
        int[] ids = g.get("input_ids").toIntArray();
        int[] mask = g.get("attention_mask").toIntArray();
        int[] labels = g.get("labels").toIntArray();
        int B = g.get("input_ids").dim(0), T = g.get("input_ids").dim(1);
        Gpt2Config cfg = ckpt.config();
        TrainableGpt2 m;
        switch (kind) {
            case "lm" -> m = TrainableGpt2.fromCheckpoint(ckpt, Task.CAUSAL_LM, 0, 0, POOL);
            case "seqcls" -> {
                List<String> names = (List<String>) sec.get("id2label");
                cfg = TrainConfigs.forClassification(cfg, "GPT2ForSequenceClassification", names,
                        (String) sec.get("problem_type"), ((Number) sec.get("pad_token_id")).intValue());
                m = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.SEQUENCE_CLASSIFICATION, names.size(), 0, POOL);
                m.setParam("score.weight", g.get("init.score.weight").toFloatArray());
            }
            case "tokcls" -> {
                List<String> names = (List<String>) sec.get("id2label");
                cfg = TrainConfigs.forClassification(cfg, "GPT2ForTokenClassification", names, null, -1);
                m = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.TOKEN_CLASSIFICATION, names.size(), 0, POOL);
                m.setParam("classifier.weight", g.get("init.classifier.weight").toFloatArray());
                m.setParam("classifier.bias", g.get("init.classifier.bias").toFloatArray());
            }
            default -> throw new IllegalArgumentException(kind);
        }
        float loss = ((Number) sec.get("loss")).floatValue();
        return new Case(m, new Batch(ids, mask, labels, null, B, T), loss, g, ckpt);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"tiny-gpt2-v1000,lm", "tiny-gpt2-v1000,seqcls", "tiny-gpt2-v1000,tokcls",
            "tiny-gpt2,lm", "tiny-gpt2,seqcls", "tiny-gpt2,tokcls"})
    void lossLogitsAndEveryGradientMatchTransformers(String modelName, String kind) {
        Case c = setUp(modelName, kind);
        try (SafeTensors g = c.golden(); LoadedCheckpoint ignored = c.ckpt()) {
            TrainableGpt2 m = c.model();
            m.zeroGrad();
            float loss = m.forward(c.batch());
            System.out.printf("[%s %s] loss %.7f expected %.7f |diff| %.2e%n", modelName, kind, loss, c.expectedLoss(), Math.abs(loss - c.expectedLoss()));
            assertEquals(c.expectedLoss(), loss, 1e-5, "loss");
            if (kind.equals("seqcls")) {
                Map<String, Object> sec = TrainGolden.section(modelName, kind);
                assertTrue(java.util.Arrays.equals(TrainGolden.ints((List<?>) sec.get("pooled_positions")), m.pooledPositions()));
            }
            Tensor refLogits = g.tensors().get("logits");
            if (refLogits != null) {
                float d = TrainGolden.maxAbsDiff(m.logits(), refLogits.toFloatArray());
                System.out.printf("[%s %s] logits max|diff| %.2e%n", modelName, kind, d);
                assertTrue(d < 1e-4, "logits max diff " + d);
            }
            Tensor hidden = g.tensors().get("hidden_states_last");
            if (hidden != null) {
                float d = TrainGolden.maxAbsDiff(m.lastHidden(), hidden.toFloatArray());
                System.out.printf("[%s %s] post-ln_f hidden max|diff| %.2e%n", modelName, kind, d);
                assertTrue(d < 1e-4, "hidden max diff " + d);
            }
            m.backward();
            checkEveryGradient(m, g, modelName + " " + kind);
        }
    }

    static void checkEveryGradient(TrainableGpt2 m, SafeTensors g, String label) {
        Set<String> checked = new HashSet<>();
        float worst = 0, worstRel = 0;
        String worstName = "";
        for (ParamLayout.Spec s : m.layout().specs()) {
            float[] ours = m.grad(s.name());
            float[] ref;
            Tensor full = g.tensors().get("grad." + s.name());
            if (full != null) {
                ref = full.toFloatArray();
            } else {
                Tensor rows = g.get("grad." + s.name() + "@rows");
                int[] rowIds = g.get("grad." + s.name() + "@row_ids").toIntArray();
                int E = (int) s.shape()[1];
                ref = new float[s.size()]; // every row not stored is exactly 0 (golden README)
                float[] r = rows.toFloatArray();
                for (int i = 0; i < rowIds.length; i++) System.arraycopy(r, i * E, ref, rowIds[i] * E, E);
            }
            float d = TrainGolden.maxAbsDiff(ours, ref);
            float scale = TrainGolden.maxAbs(ref);
            float tol = Math.max(1e-5f, 1e-4f * scale);
            assertTrue(d <= tol, label + ": grad." + s.name() + " max|diff| " + d + " > tol " + tol + " (max|g| " + scale + ")");
            if (d > worst) {
                worst = d;
                worstName = s.name();
            }
            worstRel = Math.max(worstRel, scale > 0 ? d / scale : 0);
            checked.add(s.name());
        }
        assertEquals(m.layout().specs().size(), checked.size());
        long stored = g.tensors().keySet().stream().filter(k -> k.startsWith("grad.") && !k.endsWith("@row_ids")).count();
        assertEquals(stored, checked.size(), "every stored gradient has a parameter here and vice versa");
        System.out.printf("[%s] %d gradients: worst max|diff| %.2e (%s), worst max|diff|/max|g| %.2e%n",
                label, checked.size(), worst, worstName, worstRel);
    }
}
