package io.gpt2j.train;

/** Accuracy and macro F1 of predicted vs true label ids (scikit-learn's f1_score(average="macro") semantics). */
public record ClassificationMetrics(double accuracy, double f1Macro, int n) {

    /** Macro F1 averages over every label that occurs in the truth or the predictions; an undefined F1 counts as 0. */
    public static ClassificationMetrics of(int[] predicted, int[] truth, int numLabels) {
        if (predicted.length != truth.length) throw new IllegalArgumentException("predictions and labels differ in length");
        int[] tp = new int[numLabels], fp = new int[numLabels], fn = new int[numLabels];
        boolean[] present = new boolean[numLabels];
        int correct = 0;
        for (int i = 0; i < truth.length; i++) {
            int p = predicted[i], t = truth[i];
            present[p] = present[t] = true;
            if (p == t) {
                correct++;
                tp[t]++;
            } else {
                fp[p]++;
                fn[t]++;
            }
        }
        double f1Sum = 0;
        int labels = 0;
        for (int k = 0; k < numLabels; k++) {
            if (!present[k]) continue;
            labels++;
            int denom = 2 * tp[k] + fp[k] + fn[k];
            f1Sum += denom == 0 ? 0 : 2.0 * tp[k] / denom;
        }
        return new ClassificationMetrics(truth.length == 0 ? 0 : (double) correct / truth.length, labels == 0 ? 0 : f1Sum / labels, truth.length);
    }
}
