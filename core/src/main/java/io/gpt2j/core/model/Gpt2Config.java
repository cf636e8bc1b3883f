package io.gpt2j.core.model;

import java.util.List;
import java.util.Map;

/**
 * The hyper-parameters of a GPT-2 model that change its math, with transformers' GPT2Config meaning.
 * Validated on construction; reading config.json lives in {@code load/}, not here.
 *
 * @param nInner               MLP width (transformers: n_inner, null means 4 * n_embd); always resolved here
 * @param eosTokenIds          one or several eos ids (first one is "the" eos)
 * @param padTokenId           -1 when unset (GPT-2 has none)
 * @param numLabels            classification heads only; 0 for a plain LM
 * @param id2label             label names by index (empty for a plain LM)
 * @param architectures        e.g. GPT2LMHeadModel, GPT2ForSequenceClassification
 */
public record Gpt2Config(
        int vocabSize,
        int nPositions,
        int nEmbd,
        int nLayer,
        int nHead,
        int nInner,
        float layerNormEpsilon,
        String activationFunction,
        boolean scaleAttnWeights,
        boolean scaleAttnByInverseLayerIdx,
        boolean reorderAndUpcastAttn,
        boolean tieWordEmbeddings,
        int bosTokenId,
        List<Integer> eosTokenIds,
        int padTokenId,
        List<String> architectures,
        int numLabels,
        List<String> id2label,
        String problemType,
        Map<String, Object> extra) {

    public static final List<String> ACTIVATIONS = List.of("gelu_new", "gelu", "gelu_pytorch_tanh", "relu", "silu", "swish", "gelu_fast", "quick_gelu");

    public Gpt2Config {
        check(vocabSize > 0, "vocab_size", vocabSize);
        check(nPositions > 0, "n_positions", nPositions);
        check(nEmbd > 0, "n_embd", nEmbd);
        check(nLayer > 0, "n_layer", nLayer);
        check(nHead > 0, "n_head", nHead);
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("config: n_embd (" + nEmbd + ") must be divisible by n_head (" + nHead + ")");
        }
        check(nInner > 0, "n_inner", nInner);
        if (!(layerNormEpsilon > 0) || !Float.isFinite(layerNormEpsilon)) {
            throw new IllegalArgumentException("config: layer_norm_epsilon must be a positive number, got " + layerNormEpsilon);
        }
        if (!ACTIVATIONS.contains(activationFunction)) {
            throw new IllegalArgumentException("config: activation_function '" + activationFunction + "' is not supported; expected one of " + ACTIVATIONS);
        }
        eosTokenIds = List.copyOf(eosTokenIds);
        architectures = List.copyOf(architectures);
        id2label = List.copyOf(id2label);
        extra = Map.copyOf(extra);
        for (int id : eosTokenIds) checkId("eos_token_id", id, vocabSize);
        if (bosTokenId >= 0) checkId("bos_token_id", bosTokenId, vocabSize);
        if (padTokenId >= 0) checkId("pad_token_id", padTokenId, vocabSize);
    }

    private static void check(boolean ok, String field, int value) {
        if (!ok) throw new IllegalArgumentException("config: " + field + " must be positive, got " + value);
    }

    private static void checkId(String field, int id, int vocab) {
        if (id < 0 || id >= vocab) {
            throw new IllegalArgumentException("config: " + field + " " + id + " is outside the vocabulary [0, " + vocab + ")");
        }
    }

    /** Head size (n_embd / n_head). */
    public int headSize() {
        return nEmbd / nHead;
    }

    /** The first eos id, or -1 when none is configured. */
    public int eosTokenId() {
        return eosTokenIds.isEmpty() ? -1 : eosTokenIds.get(0);
    }

    /** A plain GPT-2 LM config with transformers' defaults for everything not given. */
    public static Gpt2Config of(int vocabSize, int nPositions, int nEmbd, int nLayer, int nHead) {
        return new Gpt2Config(vocabSize, nPositions, nEmbd, nLayer, nHead, 4 * nEmbd, 1e-5f, "gelu_new",
                true, false, false, true, vocabSize - 1, List.of(vocabSize - 1), -1,
                List.of("GPT2LMHeadModel"), 0, List.of(), null, Map.of());
    }

    /** The four released sizes, by their hub names (gpt2, gpt2-medium, gpt2-large, gpt2-xl). */
    public static Gpt2Config standard(String name) {
        return switch (name) {
            case "gpt2" -> of(50257, 1024, 768, 12, 12);
            case "gpt2-medium" -> of(50257, 1024, 1024, 24, 16);
            case "gpt2-large" -> of(50257, 1024, 1280, 36, 20);
            case "gpt2-xl" -> of(50257, 1024, 1600, 48, 25);
            default -> throw new IllegalArgumentException("unknown standard config '" + name + "'; expected gpt2, gpt2-medium, gpt2-large or gpt2-xl");
        };
    }

    /** Total parameter count of the transformer (tied lm_head counted once). */
    public long parameterCount() {
        long e = nEmbd, l = nLayer;
        long perLayer = 2 * e + (e * 3 * e + 3 * e) + (e * e + e) + 2 * e + (e * (long) nInner + nInner) + ((long) nInner * e + e);
        long total = (long) vocabSize * e + (long) nPositions * e + l * perLayer + 2 * e;
        if (!tieWordEmbeddings) total += (long) vocabSize * e;
        return total;
    }
}
