package io.gpt2j.core.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.CheckpointException;
import io.gpt2j.core.io.Json;
import io.gpt2j.core.model.Gpt2Config;
import java.util.List;
import org.junit.jupiter.api.Test;

class HfConfigTest {
    static Gpt2Config parse(String json) {
        return HfConfig.fromJson(Json.parseObject(json), "test/config.json");
    }

    @Test
    void absentFieldsTakeTransformersDefaults() {
        Gpt2Config c = parse("{}");
        assertEquals(Gpt2Config.standard("gpt2").vocabSize(), c.vocabSize());
        assertEquals(1024, c.nPositions());
        assertEquals(768, c.nEmbd());
        assertEquals(12, c.nLayer());
        assertEquals(12, c.nHead());
        assertEquals(3072, c.nInner());
        assertEquals(1e-5f, c.layerNormEpsilon());
        assertEquals("gelu_new", c.activationFunction());
        assertTrue(c.scaleAttnWeights());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(50256, c.bosTokenId());
        assertEquals(List.of(50256), c.eosTokenIds());
        assertEquals(-1, c.padTokenId());
        assertEquals(0, c.numLabels());

        Gpt2Config small = parse("{\"vocab_size\": 1000, \"bos_token_id\": null}");
        assertEquals(-1, small.bosTokenId(), "null means no bos");
        assertEquals(List.of(), small.eosTokenIds(), "the default 50256 does not fit a 1000-token vocabulary");
    }

    @Test
    void readsEveryFieldThatChangesTheMath() {
        Gpt2Config c = parse("""
                {"n_embd": 32, "n_layer": 1, "n_head": 2, "n_ctx": 16, "vocab_size": 100, "n_inner": 50,
                 "layer_norm_epsilon": 1e-6, "activation_function": "relu", "scale_attn_weights": false,
                 "scale_attn_by_inverse_layer_idx": true, "reorder_and_upcast_attn": true, "tie_word_embeddings": false,
                 "bos_token_id": 1, "eos_token_id": [2, 3], "pad_token_id": 0, "summary_activation": null,
                 "architectures": ["GPT2ForSequenceClassification"], "id2label": {"1": "pos", "0": "neg", "2": "mixed"},
                 "label2id": {"neg": 0, "pos": 1, "mixed": 2}, "num_labels": 2, "problem_type": "single_label_classification",
                 "custom": {"x": [1, 2]}}""");
        assertEquals(16, c.nPositions(), "n_ctx is the fallback for n_positions");
        assertEquals(50, c.nInner());
        assertEquals(1e-6f, c.layerNormEpsilon());
        assertEquals("relu", c.activationFunction());
        assertFalse(c.scaleAttnWeights());
        assertTrue(c.scaleAttnByInverseLayerIdx());
        assertTrue(c.reorderAndUpcastAttn());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(List.of(2, 3), c.eosTokenIds());
        assertEquals(2, c.eosTokenId());
        assertEquals(0, c.padTokenId());
        assertEquals(List.of("neg", "pos", "mixed"), c.id2label(), "id2label keys are indices; id2label wins over num_labels");
        assertEquals(3, c.numLabels());
        assertEquals("single_label_classification", c.problemType());
        assertTrue(c.extra().containsKey("custom"));
        assertFalse(c.extra().containsKey("summary_activation"));

        Gpt2Config back = HfConfig.fromJson(Json.parseObject(Json.write(HfConfig.toJson(c, "float32"))), "again");
        assertEquals(HfCheckpointTest.withoutExtra(c), HfCheckpointTest.withoutExtra(back));
    }

    @Test
    void classifierArchitectureDefaultsToTwoLabels() {
        Gpt2Config c = parse("{\"architectures\": [\"GPT2ForTokenClassification\"]}");
        assertEquals(2, c.numLabels());
        assertEquals(List.of("LABEL_0", "LABEL_1"), c.id2label());
        assertNull(c.problemType());
        assertEquals(5, parse("{\"num_labels\": 5}").numLabels());
    }

    @Test
    void badValuesNameTheField() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> parse("{\"eos_token_id\": [1, \"2\"]}"));
        assertTrue(e.getMessage().contains("test/config.json: field 'eos_token_id' must be an integer or an array of integers"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> parse("{\"tie_word_embeddings\": \"yes\"}"));
        assertTrue(e.getMessage().contains("field 'tie_word_embeddings' must be a boolean, got string \"yes\""), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> parse("{\"n_embd\": 100, \"n_head\": 3}"));
        assertTrue(e.getMessage().startsWith("test/config.json: config: n_embd (100) must be divisible by n_head (3)"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> parse("{\"model_type\": \"llama\"}"));
        assertTrue(e.getMessage().contains("model_type 'llama' is not supported"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> parse("{\"n_layer\": 2.5}"));
        assertTrue(e.getMessage().contains("field 'n_layer' must be an integer, got number 2.5"), e.getMessage());
    }
}
