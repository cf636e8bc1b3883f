package io.gpt2j.train;

/**
 * Loss functions of the three heads with transformers' reductions; each writes d(loss)/d(logits) beside the loss
 * so that backward needs nothing else. Losses are accumulated in double.
 */
final class Heads {
    private Heads() {
    }

    /** Cross-entropy of one row; writes softmax(row) * scale into d, minus scale at the label; returns -log p. */
    private static double crossEntropyRow(float[] logits, float[] d, int off, int n, int label, float scale) {
        return io.gpt2j.train.kernels.CrossEntropy.row(logits, d, off, n, label, scale);
    }

    private static void checkLabel(int label, int n) {
        if (label != Batch.IGNORE_INDEX && (label < 0 || label >= n)) {
            throw new IllegalArgumentException("label " + label + " outside [0, " + n + ") and not the ignore index -100");
        }
    }

    // logits (B,T,V): position t predicts labels[t+1]; mean over non-ignored targets (GPT2LMHeadModel). Rows run in
    // parallel on pool; their losses are summed in row order, so the result does not depend on the thread count
    static float lmLoss(io.gpt2j.core.kernels.Parallel pool, float[] logits, float[] dlogits, int[] labels, int B, int T, int V) {
        if (labels == null) throw new IllegalArgumentException("the LM loss needs labels (B,T); use input_ids with -100 at pads");
        int count = 0;
        for (int b = 0; b < B; b++) {
            for (int t = 0; t + 1 < T; t++) {
                int y = labels[b * T + t + 1];
                checkLabel(y, V);
                if (y != Batch.IGNORE_INDEX) count++;
            }
        }
        if (count == 0) {
            java.util.Arrays.fill(dlogits, 0f);
            return Float.NaN;
        }
        float scale = 1f / count;
        double[] rowLoss = new double[B * T];
        pool.forRange(B * T, 4, (from, to) -> {
            for (int n = from; n < to; n++) {
                int b = n / T, t = n % T;
                int y = t + 1 < T ? labels[b * T + t + 1] : Batch.IGNORE_INDEX;
                if (y != Batch.IGNORE_INDEX) rowLoss[n] = crossEntropyRow(logits, dlogits, n * V, V, y, scale);
                else java.util.Arrays.fill(dlogits, n * V, (n + 1) * V, 0f);
            }
        });
        double loss = 0;
        for (double l : rowLoss) loss += l;
        return (float) (loss / count);
    }

    // logits (N,K); mean CE over non-ignored labels (GPT2ForTokenClassification)
    static float tokenLoss(float[] logits, float[] dlogits, int[] labels, int N, int K) {
        if (labels == null || labels.length != N) throw new IllegalArgumentException("token classification needs labels (B,T)");
        java.util.Arrays.fill(dlogits, 0f);
        int count = 0;
        for (int y : labels) {
            checkLabel(y, K);
            if (y != Batch.IGNORE_INDEX) count++;
        }
        if (count == 0) return Float.NaN;
        float scale = 1f / count;
        double loss = 0;
        for (int n = 0; n < N; n++) {
            if (labels[n] != Batch.IGNORE_INDEX) loss += crossEntropyRow(logits, dlogits, n * K, K, labels[n], scale);
        }
        return (float) (loss / count);
    }

    /** (argmax(input_ids == pad) - 1) mod T per row: the token before the first pad, T-1 without pad or pad id. */
    static void pooledPositions(int[] out, int[] ids, int padTokenId, int B, int T) {
        if (padTokenId < 0 && B > 1) {
            throw new IllegalArgumentException("sequence classification of batches > 1 needs pad_token_id in the config (transformers refuses too)");
        }
        for (int b = 0; b < B; b++) {
            int first = 0;
            if (padTokenId >= 0) {
                for (int t = 0; t < T; t++) {
                    if (ids[b * T + t] == padTokenId) { first = t; break; }
                }
            }
            out[b] = padTokenId < 0 ? T - 1 : Math.floorMod(first - 1, T);
        }
    }

    // logits (B,K); CE (single label), MSE (regression) or BCE-with-logits (multi label), mean reduction
    static float sequenceLoss(float[] logits, float[] dlogits, int[] labels, float[] targets, int B, int K, String problem) {
        java.util.Arrays.fill(dlogits, 0f);
        switch (problem) {
            case "regression" -> {
                if (targets == null || targets.length != B * K) throw new IllegalArgumentException("regression needs float targets (B*num_labels)");
                double loss = 0;
                int n = B * K;
                for (int i = 0; i < n; i++) {
                    double e = logits[i] - targets[i];
                    loss += e * e;
                    dlogits[i] = (float) (2 * e / n);
                }
                return (float) (loss / n);
            }
            case "multi_label_classification" -> {
                if (targets == null || targets.length != B * K) throw new IllegalArgumentException("multi-label needs float targets (B*num_labels)");
                double loss = 0;
                int n = B * K;
                for (int i = 0; i < n; i++) {
                    double x = logits[i], y = targets[i];
                    loss += Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
                    dlogits[i] = (float) ((1 / (1 + Math.exp(-x)) - y) / n);
                }
                return (float) (loss / n);
            }
            case "single_label_classification" -> {
                if (labels == null || labels.length != B) throw new IllegalArgumentException("single-label classification needs labels (B)");
                return tokenLoss(logits, dlogits, labels, B, K);
            }
            default -> throw new IllegalArgumentException("unknown problem_type '" + problem + "'");
        }
    }
}
