package io.gpt2j.eval.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Reports of classification and NER metrics as JSON-ready maps and as terminal tables (scikit-learn's
 * classification_report layout plus a confusion matrix). Formatting only; the numbers come from
 * {@link Classification} and {@link SeqEval}.
 */
public final class ClassificationReport {
    private ClassificationReport() {
    }

    /** Accuracy, macro/micro P/R/F1, MCC, per-class P/R/F1/support and the confusion matrix; {@code name} labels a class. */
    public static <L extends Comparable<L>> Map<String, Object> metrics(Classification<L> c, Function<L, String> name) {
        Map<String, Object> m = new LinkedHashMap<>(c.summary());
        m.put("f1_micro", c.microF1());
        m.put("precision_micro", c.microF1());
        m.put("recall_micro", c.microF1());
        long[][] cm = c.confusionMatrix();
        Map<String, Object> per = new LinkedHashMap<>();
        for (int k = 0; k < c.labels().size(); k++) {
            L l = c.labels().get(k);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("precision", c.precision(l));
            row.put("recall", c.recall(l));
            row.put("f1", c.f1(l));
            row.put("support", support(cm, k));
            per.put(name.apply(l), row);
        }
        m.put("per_class", per);
        List<Object> rows = new ArrayList<>();
        for (long[] r : cm) {
            List<Long> row = new ArrayList<>();
            for (long v : r) row.add(v);
            rows.add(row);
        }
        m.put("confusion_matrix", Map.of("labels", c.labels().stream().map(name).toList(), "rows_gold_columns_predicted", rows));
        return m;
    }

    private static long support(long[][] cm, int k) {
        long s = 0;
        for (long v : cm[k]) s += v;
        return s;
    }

    /** Per-class table, averages, accuracy and MCC, then the confusion matrix (rows gold, columns predicted). */
    public static <L extends Comparable<L>> String table(Classification<L> c, Function<L, String> name) {
        List<String> names = c.labels().stream().map(name).toList();
        int w = Math.max(12, names.stream().mapToInt(String::length).max().orElse(0) + 2);
        long[][] cm = c.confusionMatrix();
        long n = 0;
        for (long[] r : cm) for (long v : r) n += v;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%" + w + "s %10s %10s %10s %10s%n", "", "precision", "recall", "f1-score", "support"));
        for (int k = 0; k < names.size(); k++) {
            L l = c.labels().get(k);
            sb.append(String.format(Locale.ROOT, "%" + w + "s %10.4f %10.4f %10.4f %10d%n", names.get(k), c.precision(l), c.recall(l), c.f1(l), support(cm, k)));
        }
        sb.append('\n');
        sb.append(String.format(Locale.ROOT, "%" + w + "s %10s %10s %10.4f %10d%n", "accuracy", "", "", c.accuracy(), n));
        sb.append(String.format(Locale.ROOT, "%" + w + "s %10.4f %10.4f %10.4f %10d%n", "macro avg", c.macroPrecision(), c.macroRecall(), c.macroF1(), n));
        sb.append(String.format(Locale.ROOT, "%" + w + "s %10.4f %10.4f %10.4f %10d%n", "micro avg", c.microF1(), c.microF1(), c.microF1(), n));
        sb.append(String.format(Locale.ROOT, "%" + w + "s %10.4f%n%n", "MCC", c.mcc()));
        sb.append(confusionTable(names, cm));
        return sb.toString();
    }

    /** The confusion matrix as text: rows gold, columns predicted, with the label names. */
    public static String confusionTable(List<String> names, long[][] cm) {
        int w = Math.max(8, names.stream().mapToInt(String::length).max().orElse(0) + 2);
        StringBuilder sb = new StringBuilder("confusion matrix (rows: gold, columns: predicted)\n");
        sb.append(String.format(Locale.ROOT, "%" + w + "s", ""));
        for (String s : names) sb.append(String.format(Locale.ROOT, "%" + w + "s", s));
        sb.append('\n');
        for (int i = 0; i < names.size(); i++) {
            sb.append(String.format(Locale.ROOT, "%" + w + "s", names.get(i)));
            for (long v : cm[i]) sb.append(String.format(Locale.ROOT, "%" + w + "d", v));
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Entity-level metrics (seqeval), overall and per entity type, plus token accuracy. */
    public static Map<String, Object> entityMetrics(List<List<String>> gold, List<List<String>> predicted, SeqEval.Mode mode) {
        SeqEval.Result r = SeqEval.evaluate(gold, predicted, mode);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("precision", r.precision());
        m.put("recall", r.recall());
        m.put("f1", r.f1());
        m.put("token_accuracy", SeqEval.accuracy(gold, predicted));
        m.put("gold_entities", r.goldEntities());
        m.put("predicted_entities", r.predictedEntities());
        m.put("correct_entities", r.correct());
        Map<String, Object> per = new LinkedHashMap<>();
        for (Map.Entry<String, SeqEval.Result> e : SeqEval.perType(gold, predicted, mode).entrySet()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("precision", e.getValue().precision());
            row.put("recall", e.getValue().recall());
            row.put("f1", e.getValue().f1());
            row.put("support", e.getValue().goldEntities());
            per.put(e.getKey(), row);
        }
        m.put("per_type", per);
        return m;
    }

    /** seqeval's classification_report layout for {@link #entityMetrics}. */
    @SuppressWarnings("unchecked")
    public static String entityTable(Map<String, Object> m) {
        Map<String, Object> per = (Map<String, Object>) m.get("per_type");
        int w = Math.max(12, per.keySet().stream().mapToInt(String::length).max().orElse(0) + 2);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%" + w + "s %10s %10s %10s %10s%n", "", "precision", "recall", "f1-score", "support"));
        for (Map.Entry<String, Object> e : new TreeMap<>(per).entrySet()) {
            Map<String, Object> r = (Map<String, Object>) e.getValue();
            sb.append(String.format(Locale.ROOT, "%" + w + "s %10.4f %10.4f %10.4f %10d%n", e.getKey(), r.get("precision"), r.get("recall"), r.get("f1"), r.get("support")));
        }
        sb.append(String.format(Locale.ROOT, "%n%" + w + "s %10.4f %10.4f %10.4f %10d%n", "micro avg", m.get("precision"), m.get("recall"), m.get("f1"), m.get("gold_entities")));
        sb.append(String.format(Locale.ROOT, "%" + w + "s %10.4f%n", "token acc", m.get("token_accuracy")));
        return sb.toString();
    }
}
