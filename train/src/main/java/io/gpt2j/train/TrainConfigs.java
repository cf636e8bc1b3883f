package io.gpt2j.train;

import io.gpt2j.core.model.Gpt2Config;
import java.util.List;

/** Derives the config of a fine-tuned model from a base config (pad token, labels, architecture); pure functions. */
public final class TrainConfigs {
    private TrainConfigs() {
    }

    public static Gpt2Config withPadTokenId(Gpt2Config c, int padTokenId) {
        return new Gpt2Config(c.vocabSize(), c.nPositions(), c.nEmbd(), c.nLayer(), c.nHead(), c.nInner(),
                c.layerNormEpsilon(), c.activationFunction(), c.scaleAttnWeights(), c.scaleAttnByInverseLayerIdx(),
                c.reorderAndUpcastAttn(), c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenIds(), padTokenId,
                c.architectures(), c.numLabels(), c.id2label(), c.problemType(), c.extra());
    }

    /** A classification config: architecture, labels (their count is num_labels), problem type, pad id. */
    public static Gpt2Config forClassification(Gpt2Config c, String architecture, List<String> id2label,
                                               String problemType, int padTokenId) {
        return new Gpt2Config(c.vocabSize(), c.nPositions(), c.nEmbd(), c.nLayer(), c.nHead(), c.nInner(),
                c.layerNormEpsilon(), c.activationFunction(), c.scaleAttnWeights(), c.scaleAttnByInverseLayerIdx(),
                c.reorderAndUpcastAttn(), c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenIds(), padTokenId,
                List.of(architecture), id2label.size(), id2label, problemType, c.extra());
    }

    /** A plain language-model config (GPT2LMHeadModel, no labels), e.g. after continued pre-training of any checkpoint. */
    public static Gpt2Config forCausalLm(Gpt2Config c) {
        return new Gpt2Config(c.vocabSize(), c.nPositions(), c.nEmbd(), c.nLayer(), c.nHead(), c.nInner(),
                c.layerNormEpsilon(), c.activationFunction(), c.scaleAttnWeights(), c.scaleAttnByInverseLayerIdx(),
                c.reorderAndUpcastAttn(), c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenIds(), c.padTokenId(),
                List.of("GPT2LMHeadModel"), 0, List.of(), null, c.extra());
    }
}
