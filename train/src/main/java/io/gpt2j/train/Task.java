package io.gpt2j.train;

/** The heads the training model can carry, as transformers names them. */
public enum Task {
    /** GPT2LMHeadModel: tied lm_head, shifted cross-entropy. */
    CAUSAL_LM,
    /** GPT2ForSequenceClassification: score [num_labels, E] without bias, pooled before the first pad. */
    SEQUENCE_CLASSIFICATION,
    /** GPT2ForTokenClassification: classifier [num_labels, E] + bias on every position. */
    TOKEN_CLASSIFICATION
}
