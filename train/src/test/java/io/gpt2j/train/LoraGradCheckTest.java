package io.gpt2j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.model.Gpt2Config;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Central differences through the whole tiny model (V 23, E 8, 2 layers, 2 heads, n_inner 32) with LoRA (r 3, alpha
 * 6) on every Conv1D, B random so that both A and B see a gradient. For 3 elements of every trainable tensor (all
 * lora_A / lora_B and the head): |numeric - analytic| <= 3e-3 * (1 + |analytic|), h = 3e-3 (the random B makes
 * the loss more curved than ModelGradCheckTest's: with h = 1e-2 truncation error reached 1.4e-3), the bound
 * ModelGradCheckTest uses for the same fp32 forward. "+dropout": lora_dropout 0.2 and every model dropout 0.2,
 * masks held fixed by reseeding before each forward.
 */
class LoraGradCheckTest {
    static final Parallel POOL = new Parallel(2);

    @AfterAll
    static void close() {
        POOL.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"lm", "seqcls", "token", "seqcls+dropout", "lm:c_attn", "token:c_proj+dropout"})
    void loraGradientsMatchCentralDifferences(String variant) {
        boolean dropout = variant.endsWith("+dropout");
        String kind = variant.replace("+dropout", "");
        List<String> targets = List.of("c_attn", "c_proj", "c_fc");
        if (kind.contains(":")) {
            targets = List.of(kind.substring(kind.indexOf(':') + 1));
            kind = kind.substring(0, kind.indexOf(':'));
        }
        LoraConfig lc = new LoraConfig(3, 6, dropout ? 0.2 : 0, targets);
        TrainableGpt2.Dropout drop = dropout ? new TrainableGpt2.Dropout(0.2f, 0.2f, 0.2f, 0.2f) : TrainableGpt2.Dropout.NONE;
        int V = 23, B = 2, T = 6;
        Gpt2Config base = Gpt2Config.of(V, 8, 8, 2, 2);
        Task task = switch (kind) {
            case "lm" -> Task.CAUSAL_LM;
            case "token" -> Task.TOKEN_CLASSIFICATION;
            default -> Task.SEQUENCE_CLASSIFICATION;
        };
        Gpt2Config cfg = task == Task.SEQUENCE_CLASSIFICATION
                ? TrainConfigs.forClassification(base, "GPT2ForSequenceClassification", List.of("a", "b", "c"), "single_label_classification", V - 1)
                : base;
        TrainableGpt2 m = new TrainableGpt2(cfg, task, task == Task.CAUSAL_LM ? 0 : 3, lc, 11, POOL);
        Random r = new Random(42);
        float[] p = m.params();
        for (ParamLayout.Spec s : m.layout().specs()) {
            boolean lnWeight = s.name().matches(".*ln_[12f]\\.weight");
            boolean loraA = s.name().endsWith("lora_A.weight");
            for (int i = 0; i < s.size(); i++) {
                if (!loraA) p[s.offset() + i] = (float) ((lnWeight ? 1 : 0) + r.nextGaussian() * 0.3);
            }
        }
        int[] ids = {3, 7, 1, 9, 22, 22, 5, 5, 2, 8, 11, 4};
        int[] mask = {1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1};
        int[] labels = switch (task) {
            case CAUSAL_LM -> new int[]{3, 7, 1, 9, -100, -100, 5, 5, 2, 8, 11, 4};
            case TOKEN_CLASSIFICATION -> new int[]{0, 2, 1, 1, -100, -100, 2, 0, -100, 1, 2, 0};
            case SEQUENCE_CLASSIFICATION -> new int[]{2, 0};
        };
        Batch batch = new Batch(ids, mask, labels, null, B, T);
        m.zeroGrad();
        if (dropout) m.train(drop, 5);
        m.forward(batch);
        m.backward();
        float[] g = m.grads().clone();
        int from = m.trainableFrom();
        assertEquals(m.layout().total() - from, g.length, "gradients exist for the trainable tail only");
        double h = 3e-3, worst = 0;
        int tensors = 0;
        for (ParamLayout.Spec s : m.layout().specs()) {
            if (s.offset() < from) continue;
            tensors++;
            for (int k = 0; k < 3; k++) {
                int i = s.offset() + r.nextInt(s.size());
                float orig = p[i];
                p[i] = (float) (orig + h);
                if (dropout) m.train(drop, 5);
                double fp = m.forward(batch);
                p[i] = (float) (orig - h);
                if (dropout) m.train(drop, 5);
                double fm = m.forward(batch);
                p[i] = orig;
                double num = (fp - fm) / (2 * h);
                float an = g[i - from];
                double err = Math.abs(num - an);
                worst = Math.max(worst, err);
                assertTrue(err <= 3e-3 * (1 + Math.abs(an)), variant + " " + s.name() + "[" + (i - s.offset()) + "]: numeric " + num + " analytic " + an);
            }
        }
        int perLayer = targets.size() == 3 ? 4 : targets.get(0).equals("c_proj") ? 2 : 1;
        int head = task == Task.CAUSAL_LM ? 0 : task == Task.TOKEN_CLASSIFICATION ? 2 : 1;
        assertEquals(2 * 2 * perLayer + head, tensors, "lora_A + lora_B per adapted module and layer, plus the head");
        System.out.printf("[fd lora %s] %d trainable tensors x 3 elements, max|numeric-analytic| %.2e%n", variant, tensors, worst);
    }
}
