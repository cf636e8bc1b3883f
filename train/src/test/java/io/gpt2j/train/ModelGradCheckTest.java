package io.gpt2j.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.model.Gpt2Config;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole-model central differences on a tiny random GPT-2 (V 23, E 8, 2 layers, 2 heads), for every head and
 * problem type, including the two the golden data does not cover (regression, multi-label). For 3 elements of
 * every parameter tensor: |numeric - analytic| <= 3e-3 * (1 + |analytic|), h = 1e-2.
 */
class ModelGradCheckTest {
    static final Parallel POOL = new Parallel(2);

    @AfterAll
    static void close() {
        POOL.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"lm", "single_label_classification", "regression", "multi_label_classification", "token",
            "lm+dropout", "token+dropout"})
    void analyticGradientMatchesCentralDifferences(String variant) {
        // "+dropout": every dropout at 0.2, masks redrawn from the same seed before each forward so they stay fixed
        boolean dropout = variant.endsWith("+dropout");
        String kind = variant.replace("+dropout", "");
        TrainableGpt2.Dropout drop = new TrainableGpt2.Dropout(0.2f, 0.2f, 0.2f, 0.2f);
        int V = 23, B = 2, T = 6;
        Gpt2Config base = Gpt2Config.of(V, 8, 8, 2, 2);
        Task task;
        int K;
        Gpt2Config cfg;
        switch (kind) {
            case "lm" -> { task = Task.CAUSAL_LM; K = 0; cfg = base; }
            case "token" -> { task = Task.TOKEN_CLASSIFICATION; K = 3; cfg = base; }
            default -> {
                task = Task.SEQUENCE_CLASSIFICATION;
                K = kind.equals("regression") ? 1 : 3;
                List<String> names = K == 1 ? List.of("LABEL_0") : List.of("a", "b", "c");
                cfg = TrainConfigs.forClassification(base, "GPT2ForSequenceClassification", names, kind, V - 1);
            }
        }
        TrainableGpt2 m = new TrainableGpt2(cfg, task, K, POOL);
        Random r = new Random(42);
        float[] p = m.params();
        for (ParamLayout.Spec s : m.layout().specs()) {
            boolean lnWeight = s.name().endsWith("ln_1.weight") || s.name().endsWith("ln_2.weight") || s.name().endsWith("ln_f.weight");
            for (int i = 0; i < s.size(); i++) p[s.offset() + i] = (float) ((lnWeight ? 1 : 0) + r.nextGaussian() * 0.3);
        }
        int[] ids = {3, 7, 1, 9, 22, 22, 5, 5, 2, 8, 11, 4};
        int[] mask = {1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1};
        int[] labels = null;
        float[] targets = null;
        switch (kind) {
            case "lm" -> labels = new int[]{3, 7, 1, 9, -100, -100, 5, 5, 2, 8, 11, 4};
            case "token" -> labels = new int[]{0, 2, 1, 1, -100, -100, 2, 0, -100, 1, 2, 0};
            case "single_label_classification" -> labels = new int[]{2, 0};
            case "regression" -> targets = new float[]{0.5f, -1.2f};
            default -> targets = new float[]{1, 0, 1, 0, 0, 1};
        }
        Batch batch = new Batch(ids, mask, labels, targets, B, T);
        m.zeroGrad();
        if (dropout) m.train(drop, 5);
        m.forward(batch);
        m.backward();
        float[] g = m.grads().clone();
        double h = 1e-2, worst = 0;
        for (ParamLayout.Spec s : m.layout().specs()) {
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
                double err = Math.abs(num - g[i]);
                worst = Math.max(worst, err);
                assertTrue(err <= 3e-3 * (1 + Math.abs(g[i])), variant + " "+ s.name() + "[" + (i - s.offset()) + "]: numeric " + num + " analytic " + g[i]);
            }
        }
        System.out.printf("[fd model %s] %d tensors x 3 elements, max|numeric-analytic| %.2e%n", variant, m.layout().specs().size(), worst);
    }
}
