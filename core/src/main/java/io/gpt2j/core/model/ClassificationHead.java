package io.gpt2j.core.model;

import java.util.List;

/**
 * A fine-tuned classification head on GPT-2's post-ln_f hidden states, as transformers builds it:
 * GPT2ForSequenceClassification ({@code score}, [K, E], no bias, one row per text pooled before the first pad id)
 * or GPT2ForTokenClassification ({@code classifier}, [K, E] + bias [K], every position). Weights are F32 copies;
 * {@code load/} reads them from a checkpoint.
 *
 * @param weight     [K * E], row k = label k
 * @param bias       [K], or null (sequence classification has none)
 * @param labels     id2label, K names
 * @param padTokenId the config's pad_token_id, -1 when unset
 */
public record ClassificationHead(Kind kind, Problem problem, float[] weight, float[] bias, List<String> labels, int padTokenId) {

    /** Which transformers class the head belongs to. */
    public enum Kind {
        SEQUENCE_CLASSIFICATION("GPT2ForSequenceClassification"),
        TOKEN_CLASSIFICATION("GPT2ForTokenClassification");

        private final String architecture;

        Kind(String architecture) {
            this.architecture = architecture;
        }

        /** The config.json {@code architectures} entry. */
        public String architecture() {
            return architecture;
        }
    }

    /** config.json {@code problem_type}: how logits become scores (softmax, sigmoid, or the raw value). */
    public enum Problem {
        SINGLE_LABEL("single_label_classification"),
        MULTI_LABEL("multi_label_classification"),
        REGRESSION("regression");

        private final String configName;

        Problem(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }

        /** transformers' rule when problem_type is absent: one label is regression, more are single-label. */
        public static Problem of(String problemType, int numLabels) {
            if (problemType == null) return numLabels == 1 ? REGRESSION : SINGLE_LABEL;
            for (Problem p : values()) if (p.configName.equals(problemType)) return p;
            throw new IllegalArgumentException("problem_type '" + problemType + "' is not one of regression, "
                    + "single_label_classification, multi_label_classification");
        }
    }

    public ClassificationHead {
        labels = List.copyOf(labels);
        int k = labels.size();
        if (k == 0) throw new IllegalArgumentException("a classification head needs at least one label");
        if (weight.length % k != 0) throw new IllegalArgumentException("head weight has " + weight.length + " values, not a multiple of " + k + " labels");
        if (bias != null && bias.length != k) throw new IllegalArgumentException("head bias has " + bias.length + " values for " + k + " labels");
        if (kind == Kind.TOKEN_CLASSIFICATION && problem != Problem.SINGLE_LABEL) {
            throw new IllegalArgumentException("token classification is single-label; problem_type " + problem.configName() + " is not supported");
        }
    }

    public int numLabels() {
        return labels.size();
    }

    /** The hidden size the weights expect. */
    public int nEmbd() {
        return weight.length / labels.size();
    }

    /**
     * Scores of one row of logits: softmax (single label), element-wise sigmoid (multi label) or the logits
     * themselves (regression). Computed in double, returned as float.
     */
    public float[] scores(float[] logits, int off) {
        int k = labels.size();
        float[] out = new float[k];
        switch (problem) {
            case REGRESSION -> System.arraycopy(logits, off, out, 0, k);
            case MULTI_LABEL -> {
                for (int i = 0; i < k; i++) out[i] = (float) (1 / (1 + Math.exp(-logits[off + i])));
            }
            case SINGLE_LABEL -> {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int i = 0; i < k; i++) max = Math.max(max, logits[off + i]);
                for (int i = 0; i < k; i++) sum += Math.exp(logits[off + i] - max);
                for (int i = 0; i < k; i++) out[i] = (float) (Math.exp(logits[off + i] - max) / sum);
            }
        }
        return out;
    }

    /** Index of the largest value of {@code v[off, off+k)} (first on ties). */
    public static int argmax(float[] v, int off, int k) {
        int best = 0;
        for (int i = 1; i < k; i++) if (v[off + i] > v[off + best]) best = i;
        return best;
    }
}
