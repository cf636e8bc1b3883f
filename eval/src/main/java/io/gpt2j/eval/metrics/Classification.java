package io.gpt2j.eval.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Single-label classification metrics from a confusion matrix: accuracy, per-class precision / recall / F1,
 * macro and micro averages, and the (multi-class) Matthews correlation coefficient. Labels are the sorted union
 * of gold and predicted labels, as scikit-learn does; a 0/0 ratio counts as 0. Immutable.
 */
public final class Classification<L extends Comparable<L>> {
    private final List<L> labels;
    private final long[][] confusion; // [gold][predicted]
    private final long n;

    public Classification(List<L> gold, List<L> predicted) {
        if (gold.size() != predicted.size()) throw new IllegalArgumentException(gold.size() + " gold labels but " + predicted.size() + " predictions");
        if (gold.isEmpty()) throw new IllegalArgumentException("no examples");
        TreeSet<L> set = new TreeSet<>(gold);
        set.addAll(predicted);
        labels = List.copyOf(new ArrayList<>(set));
        confusion = new long[labels.size()][labels.size()];
        for (int i = 0; i < gold.size(); i++) confusion[labels.indexOf(gold.get(i))][labels.indexOf(predicted.get(i))]++;
        n = gold.size();
    }

    public List<L> labels() {
        return labels;
    }

    /** Rows are gold labels, columns predictions, both in {@link #labels()} order (a copy). */
    public long[][] confusionMatrix() {
        long[][] c = new long[confusion.length][];
        for (int i = 0; i < c.length; i++) c[i] = confusion[i].clone();
        return c;
    }

    public double accuracy() {
        long ok = 0;
        for (int i = 0; i < labels.size(); i++) ok += confusion[i][i];
        return (double) ok / n;
    }

    private long tp(int k) {
        return confusion[k][k];
    }

    private long predicted(int k) {
        long s = 0;
        for (long[] row : confusion) s += row[k];
        return s;
    }

    private long actual(int k) {
        long s = 0;
        for (long v : confusion[k]) s += v;
        return s;
    }

    public double precision(L label) {
        int k = labels.indexOf(label);
        return ratio(tp(k), predicted(k));
    }

    public double recall(L label) {
        int k = labels.indexOf(label);
        return ratio(tp(k), actual(k));
    }

    public double f1(L label) {
        double p = precision(label), r = recall(label);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    public double macroPrecision() {
        double s = 0;
        for (L l : labels) s += precision(l);
        return s / labels.size();
    }

    public double macroRecall() {
        double s = 0;
        for (L l : labels) s += recall(l);
        return s / labels.size();
    }

    public double macroF1() {
        double s = 0;
        for (L l : labels) s += f1(l);
        return s / labels.size();
    }

    /** Micro precision = recall = F1 = accuracy for single-label classification over all labels. */
    public double microF1() {
        return accuracy();
    }

    /** Gorodkin's multi-class MCC; equals the binary formula for two classes; 0 when undefined. */
    public double mcc() {
        double c = 0, s = n, pk2 = 0, tk2 = 0;
        for (int k = 0; k < labels.size(); k++) {
            c += tp(k);
            pk2 += (double) predicted(k) * predicted(k);
            tk2 += (double) actual(k) * actual(k);
        }
        double cov = c * s;
        for (int k = 0; k < labels.size(); k++) cov -= (double) predicted(k) * actual(k);
        double den = Math.sqrt(s * s - pk2) * Math.sqrt(s * s - tk2);
        return den == 0 ? 0 : cov / den;
    }

    /**
     * The headline numbers under the names both {@code evaluate text-classification} and fine-tuning's validation
     * (with an {@code eval_} prefix) report: accuracy, f1_macro, precision_macro, recall_macro, mcc.
     */
    public Map<String, Double> summary() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("accuracy", accuracy());
        m.put("f1_macro", macroF1());
        m.put("precision_macro", macroPrecision());
        m.put("recall_macro", macroRecall());
        m.put("mcc", mcc());
        return m;
    }

    private static double ratio(long a, long b) {
        return b == 0 ? 0 : (double) a / b;
    }
}
