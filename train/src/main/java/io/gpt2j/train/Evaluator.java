package io.gpt2j.train;

import io.gpt2j.core.model.ClassificationHead;
import io.gpt2j.eval.metrics.Classification;
import io.gpt2j.eval.metrics.SeqEval;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Validation metrics of a model on one data set, named as transformers' example scripts log them (eval_loss,
 * eval_accuracy, ...). Runs the model in eval mode (no dropout); the caller restores training mode. No state.
 */
@FunctionalInterface
public interface Evaluator {
    /** Metrics in a stable order, eval_loss first, eval_samples last; batches of {@code batchSize} rows padded with {@code padId}. */
    Map<String, Double> evaluate(TrainableGpt2 model, int batchSize, int padId);

    /** The metric names each task's evaluator reports (for checking metric_for_best_model before training). */
    static List<String> metricNames(Task task) {
        return switch (task) {
            case SEQUENCE_CLASSIFICATION -> List.of("eval_loss", "eval_accuracy", "eval_f1_macro", "eval_precision_macro", "eval_recall_macro", "eval_mcc");
            case TOKEN_CLASSIFICATION -> List.of("eval_loss", "eval_precision", "eval_recall", "eval_f1", "eval_accuracy");
            case CAUSAL_LM -> List.of("eval_loss", "eval_perplexity");
        };
    }

    /** Sequence classification: loss, accuracy, macro F1 / precision / recall (scikit-learn) and MCC. */
    static Evaluator textClassification(TextClassificationData data) {
        return (model, bs, pad) -> {
            int n = data.size(), K = model.numLabels();
            List<Integer> gold = new ArrayList<>(n), pred = new ArrayList<>(n);
            double loss = 0;
            int[] order = identity(n);
            for (int from = 0; from < n; from += bs) {
                int to = Math.min(n, from + bs);
                loss += model.forward(data.batch(order, from, to, pad)) * (double) (to - from);
                float[] logits = model.logits();
                for (int b = 0; b < to - from; b++) {
                    pred.add(ClassificationHead.argmax(logits, b * K, K));
                    gold.add(data.labels()[from + b]);
                }
            }
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("eval_loss", loss / n);
            // the same numbers, names and definitions as `evaluate text-classification` reports
            new Classification<>(gold, pred).summary().forEach((k, v) -> m.put("eval_" + k, v));
            m.put("eval_samples", (double) n);
            return m;
        };
    }

    /**
     * Token classification as run_ner computes it: the prediction of a word is the argmax at its first sub-token;
     * words cut by truncation are not scored; entity-level precision / recall / F1 with seqeval ({@code mode}
     * CONLLEVAL reads IOB1 and IOB2, STRICT_IOB2 is seqeval's strict mode) and token accuracy over the scored words.
     * The loss is the per-batch mean over labelled tokens, averaged over examples (the HF Trainer repeats each batch's
     * loss batch-size times before averaging).
     */
    static Evaluator tokenClassification(TokenClassificationData data, SeqEval.Mode mode) {
        return (model, bs, pad) -> {
            int n = data.size(), K = model.numLabels();
            List<String> names = data.labelNames();
            List<List<String>> gold = new ArrayList<>(n), pred = new ArrayList<>(n);
            double loss = 0;
            int[] order = identity(n);
            for (int from = 0; from < n; from += bs) {
                int to = Math.min(n, from + bs);
                Batch batch = data.batch(order, from, to, pad);
                loss += model.forward(batch) * (double) (to - from);
                float[] logits = model.logits();
                for (int b = 0; b < to - from; b++) {
                    TokenClassificationData.Example e = data.examples().get(from + b);
                    List<String> g = new ArrayList<>(), p = new ArrayList<>();
                    for (int t = 0; t < e.ids().length; t++) {
                        if (e.labels()[t] == Batch.IGNORE_INDEX) continue;
                        g.add(names.get(e.labels()[t]));
                        p.add(names.get(ClassificationHead.argmax(logits, (b * batch.T() + t) * K, K)));
                    }
                    gold.add(g);
                    pred.add(p);
                }
            }
            SeqEval.Result r = SeqEval.evaluate(gold, pred, mode);
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("eval_loss", loss / n);
            m.put("eval_precision", r.precision());
            m.put("eval_recall", r.recall());
            m.put("eval_f1", r.f1());
            m.put("eval_accuracy", SeqEval.accuracy(gold, pred));
            m.put("eval_samples", (double) n);
            return m;
        };
    }

    /** Causal LM: mean token loss over all blocks (every block has the same number of targets) and exp(loss). */
    static Evaluator causalLm(LmBlocks data) {
        return (model, bs, pad) -> {
            int n = data.size();
            double loss = 0;
            int[] order = identity(n);
            for (int from = 0; from < n; from += bs) {
                int to = Math.min(n, from + bs);
                loss += model.forward(data.batch(order, from, to, pad)) * (double) (to - from);
            }
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("eval_loss", loss / n);
            m.put("eval_perplexity", Math.exp(loss / n));
            m.put("eval_samples", (double) n);
            return m;
        };
    }

    private static int[] identity(int n) {
        int[] o = new int[n];
        for (int i = 0; i < n; i++) o[i] = i;
        return o;
    }
}
