package io.gpt2j.core.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.CheckpointException;
import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.io.SafeTensorsWriter;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.model.Gpt2Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfCheckpointTest {
    @TempDir
    Path tmp;

    static Path golden(String name) {
        return Path.of(System.getProperty("gpt2j.testdata"), "golden", "checkpoints", name);
    }

    /** Copies the golden v1000 checkpoint's JSON files into {@code dir}, editing config.json with {@code edit}. */
    static Path copyJson(Path dir, UnaryOperator<String> edit) throws IOException {
        Files.createDirectories(dir);
        Path src = golden("tiny-gpt2-v1000");
        Files.writeString(dir.resolve("config.json"), edit.apply(Files.readString(src.resolve("config.json"))));
        Files.copy(src.resolve("generation_config.json"), dir.resolve("generation_config.json"));
        return dir;
    }

    /** Rewrites the golden v1000 weights: {@code rename} maps each name to a new one, or null to drop it. */
    static void rewrite(Path out, UnaryOperator<String> rename, Map<String, Tensor> add) {
        try (SafeTensors st = SafeTensors.open(golden("tiny-gpt2-v1000/model.safetensors"))) {
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
            for (Tensor t : st.tensors().values()) {
                String n = rename.apply(t.name());
                if (n != null) w.addTensor(n, t, t.dtype());
            }
            add.forEach((n, t) -> w.addTensor(n, t, t.dtype()));
            w.write(out);
        }
    }

    static void assertSameWeights(Gpt2Weights a, Gpt2Weights b) {
        assertSameBytes(a.wte(), b.wte());
        assertSameBytes(a.wpe(), b.wpe());
        assertSameBytes(a.lnFWeight(), b.lnFWeight());
        assertSameBytes(a.lnFBias(), b.lnFBias());
        assertSameBytes(a.lmHead(), b.lmHead());
        assertEquals(a.h().size(), b.h().size());
        for (int i = 0; i < a.h().size(); i++) {
            Gpt2Weights.Layer x = a.h().get(i), y = b.h().get(i);
            assertSameBytes(x.ln1Weight(), y.ln1Weight());
            assertSameBytes(x.cAttnWeight(), y.cAttnWeight());
            assertSameBytes(x.cAttnBias(), y.cAttnBias());
            assertSameBytes(x.attnCProjWeight(), y.attnCProjWeight());
            assertSameBytes(x.ln2Bias(), y.ln2Bias());
            assertSameBytes(x.cFcWeight(), y.cFcWeight());
            assertSameBytes(x.mlpCProjWeight(), y.mlpCProjWeight());
            assertSameBytes(x.mlpCProjBias(), y.mlpCProjBias());
        }
    }

    static void assertSameBytes(Tensor a, Tensor b) {
        assertEquals(a.dtype(), b.dtype());
        assertArrayEquals(a.shape(), b.shape(), a.name());
        assertEquals(-1, a.data().mismatch(b.data()), a.name() + " differs");
    }

    static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should mention '" + part + "': " + e.getMessage());
        }
        assertFalse(e.getMessage().contains("\n"), "one-line message expected: " + e.getMessage());
    }

    @Test
    void loadsGoldenF16Checkpoint() {
        try (LoadedCheckpoint ck = HfCheckpoint.load(golden("tiny-gpt2"))) {
            Gpt2Config c = ck.config();
            assertEquals(50257, c.vocabSize());
            assertEquals(128, c.nPositions());
            assertEquals(64, c.nEmbd());
            assertEquals(2, c.nLayer());
            assertEquals(4, c.nHead());
            assertEquals(256, c.nInner());
            assertEquals(1e-5f, c.layerNormEpsilon());
            assertEquals("gelu_new", c.activationFunction());
            assertTrue(c.scaleAttnWeights());
            assertFalse(c.scaleAttnByInverseLayerIdx());
            assertFalse(c.reorderAndUpcastAttn());
            assertTrue(c.tieWordEmbeddings());
            assertEquals(50256, c.bosTokenId());
            assertEquals(List.of(50256), c.eosTokenIds());
            assertEquals(-1, c.padTokenId());
            assertEquals(List.of("GPT2LMHeadModel"), c.architectures());
            assertEquals(0, c.numLabels());
            assertEquals(List.of(), c.id2label());
            assertNull(c.problemType());
            assertEquals("float16", c.extra().get("torch_dtype"));
            assertEquals(0.15, c.extra().get("initializer_range"));
            assertEquals(Boolean.TRUE, ck.generationConfig().get("_from_model_config"));
            assertEquals(50256L, ck.generationConfig().get("eos_token_id"));

            Gpt2Weights w = ck.weights();
            assertEquals(DType.F16, w.wte().dtype());
            assertArrayEquals(new long[]{50257, 64}, w.wte().shape());
            assertArrayEquals(new long[]{128, 64}, w.wpe().shape());
            assertEquals(2, w.h().size());
            assertArrayEquals(new long[]{64, 192}, w.h().get(0).cAttnWeight().shape());
            assertArrayEquals(new long[]{64, 256}, w.h().get(1).cFcWeight().shape());
            assertArrayEquals(new long[]{256, 64}, w.h().get(1).mlpCProjWeight().shape());
            assertTrue(w.tied());
            assertSame(w.wte(), w.lmHead());
            assertEquals(-0.074462890625f, w.wte().getFloat(1));
            assertEquals(-0.153564453125f, w.lmHead().getFloat(50257L * 64 - 1));
            assertEquals(-0.0012922286987304688f, w.h().get(1).mlpCProjBias().getFloat(5));
            assertEquals(0.9765625f, w.lnFWeight().getFloat(1));
            assertEquals(Map.of(), ck.extraTensors());
            assertEquals(List.of(golden("tiny-gpt2").resolve("model.safetensors")), ck.files());
        }
    }

    @Test
    void loadsGoldenF32Checkpoint() {
        try (LoadedCheckpoint ck = HfCheckpoint.load(golden("tiny-gpt2-v1000"))) {
            Gpt2Config c = ck.config();
            assertEquals(1000, c.vocabSize());
            assertEquals(64, c.nPositions());
            assertEquals(48, c.nEmbd());
            assertEquals(3, c.nLayer());
            assertEquals(2, c.nHead());
            assertEquals(24, c.headSize());
            assertEquals(192, c.nInner());
            assertEquals(999, c.bosTokenId());
            assertEquals(999, c.eosTokenId());
            assertEquals(999L, ck.generationConfig().get("bos_token_id"));
            Gpt2Weights w = ck.weights();
            assertEquals(DType.F32, w.wte().dtype());
            assertEquals(3, w.h().size());
            assertTrue(w.tied());
            assertEquals(0.07222001999616623f, w.wte().getFloat(0));
            assertEquals(0.12618499994277954f, w.wte().getFloat(1000L * 48 - 1));
            assertEquals(0.023142056539654732f, w.h().get(1).mlpCProjBias().getFloat(0));
            assertEquals(1.0144479274749756f, w.lnFWeight().getFloat(0));
            assertEquals(c.parameterCount(), 135_984);
        }
    }

    @Test
    void shardedCheckpointLoadsIdentically() throws IOException {
        Path dir = copyJson(tmp.resolve("sharded"), s -> s);
        List<String> names = new ArrayList<>();
        StringBuilder index = new StringBuilder("{\"metadata\": {\"total_size\": 543936}, \"weight_map\": {");
        try (SafeTensors st = SafeTensors.open(golden("tiny-gpt2-v1000/model.safetensors"))) {
            names.addAll(st.tensors().keySet());
            SafeTensorsWriter[] shards = {new SafeTensorsWriter().metadata("format", "pt"), new SafeTensorsWriter().metadata("format", "pt")};
            for (int i = 0; i < names.size(); i++) {
                int s = i < names.size() / 2 ? 0 : 1;
                shards[s].addTensor(st.get(names.get(i)));
                index.append(i == 0 ? "" : ", ").append('"').append(names.get(i)).append("\": \"model-0000")
                        .append(s + 1).append("-of-00002.safetensors\"");
            }
            shards[0].write(dir.resolve("model-00001-of-00002.safetensors"));
            shards[1].write(dir.resolve("model-00002-of-00002.safetensors"));
        }
        Files.writeString(dir.resolve("model.safetensors.index.json"), index.append("}}").toString());
        try (LoadedCheckpoint a = HfCheckpoint.load(golden("tiny-gpt2-v1000")); LoadedCheckpoint b = HfCheckpoint.load(dir)) {
            assertEquals(2, b.files().size());
            assertEquals(a.config(), b.config());
            assertSameWeights(a.weights(), b.weights());
        }
    }

    @Test
    void namesWithoutTransformerPrefixLoad() throws IOException {
        Path dir = copyJson(tmp.resolve("noprefix"), s -> s);
        rewrite(dir.resolve("model.safetensors"), n -> n.replace("transformer.", ""), Map.of());
        try (LoadedCheckpoint a = HfCheckpoint.load(golden("tiny-gpt2-v1000")); LoadedCheckpoint b = HfCheckpoint.load(dir)) {
            assertFalse(b.files().isEmpty());
            assertSameWeights(a.weights(), b.weights());
        }
    }

    @Test
    void untiedLmHeadLoads() throws IOException {
        Path dir = copyJson(tmp.resolve("untied"), s -> s.replace("\"use_cache\": true", "\"tie_word_embeddings\": false, \"use_cache\": true"));
        try (SafeTensors st = SafeTensors.open(golden("tiny-gpt2-v1000/model.safetensors"))) {
            Tensor source = st.get("transformer.h.0.attn.c_attn.weight"); // values unlike wte's, cycled to [1000, 48]
            float[] head = new float[1000 * 48];
            for (int i = 0; i < head.length; i++) head[i] = source.getFloat(i % (48 * 144)) * 3;
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
            for (Tensor t : st.tensors().values()) w.addTensor(t);
            w.addFloats("lm_head.weight", DType.F32, new long[]{1000, 48}, head);
            w.write(dir.resolve("model.safetensors"));
            try (LoadedCheckpoint ck = HfCheckpoint.load(dir)) {
                Gpt2Weights weights = ck.weights();
                assertFalse(ck.config().tieWordEmbeddings());
                assertFalse(weights.tied());
                assertNotSame(weights.wte(), weights.lmHead());
                assertArrayEquals(new long[]{1000, 48}, weights.lmHead().shape());
                assertEquals(head[12345], weights.lmHead().getFloat(12345));
                assertFalse(ck.extraTensors().containsKey("lm_head.weight"));
            }
        }
    }

    @Test
    void headTensorsAreKeptAndAttentionBuffersIgnored() throws IOException {
        Path dir = copyJson(tmp.resolve("heads"), s -> s);
        float[] score = new float[2 * 48];
        score[7] = 0.5f;
        try (SafeTensors st = SafeTensors.open(golden("tiny-gpt2-v1000/model.safetensors"))) {
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
            for (Tensor t : st.tensors().values()) w.addTensor(t);
            w.addFloats("score.weight", DType.F32, new long[]{2, 48}, score);
            w.addFloats("transformer.h.0.attn.bias", DType.F32, new long[]{1, 1, 2, 2}, new float[]{1, 0, 1, 1});
            w.addFloats("transformer.h.0.attn.masked_bias", DType.F32, new long[]{}, new float[]{-1e4f});
            w.addTensor("lm_head.weight", st.get("transformer.wte.weight"), DType.F32);
            w.write(dir.resolve("model.safetensors"));
        }
        try (LoadedCheckpoint ck = HfCheckpoint.load(dir)) {
            assertEquals(List.of("score.weight", "lm_head.weight"), List.copyOf(ck.extraTensors().keySet()));
            assertEquals(0.5f, ck.extraTensors().get("score.weight").getFloat(7));
            assertTrue(ck.weights().tied(), "tie_word_embeddings (default true) wins over a saved lm_head copy");
        }
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path dir = copyJson(tmp.resolve("missing"), s -> s);
        rewrite(dir.resolve("model.safetensors"), n -> n.equals("transformer.h.1.mlp.c_fc.bias") ? null : n, Map.of());
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.load(dir));
        assertMentions(e, dir.resolve("model.safetensors").toString(), "'h.1.mlp.c_fc.bias'", "transformer.h.1.mlp.c_fc.bias", "missing");
    }

    @Test
    void shapeDisagreeingWithConfigIsNamed() throws IOException {
        Path dir = copyJson(tmp.resolve("shape"), s -> s.replace("\"n_positions\": 64", "\"n_positions\": 32"));
        Files.copy(golden("tiny-gpt2-v1000/model.safetensors"), dir.resolve("model.safetensors"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.load(dir));
        assertMentions(e, "'wpe.weight'", "has shape [64, 48]", "implies [32, 48]", dir.resolve("config.json").toString());
    }

    @Test
    void configFieldOfWrongTypeIsNamed() throws IOException {
        Path dir = copyJson(tmp.resolve("type"), s -> s.replace("\"n_embd\": 48", "\"n_embd\": \"48\""));
        Files.copy(golden("tiny-gpt2-v1000/model.safetensors"), dir.resolve("model.safetensors"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.load(dir));
        assertMentions(e, dir.resolve("config.json").toString(), "field 'n_embd'", "must be an integer", "got string \"48\"");
    }

    static Gpt2Config withoutExtra(Gpt2Config c) {
        return new Gpt2Config(c.vocabSize(), c.nPositions(), c.nEmbd(), c.nLayer(), c.nHead(), c.nInner(),
                c.layerNormEpsilon(), c.activationFunction(), c.scaleAttnWeights(), c.scaleAttnByInverseLayerIdx(),
                c.reorderAndUpcastAttn(), c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenIds(), c.padTokenId(),
                c.architectures(), c.numLabels(), c.id2label(), c.problemType(), Map.of());
    }

    @Test
    void randomCheckpointLoadsBack() throws IOException {
        Gpt2Config c = new Gpt2Config(1000, 32, 40, 2, 5, 4 * 40, 1e-5f, "gelu_new", true, false, false, true,
                999, List.of(999), -1, List.of("GPT2LMHeadModel"), 0, List.of(), null, Map.of());
        Path dir = tmp.resolve("random");
        RandomCheckpoint.write(dir, c, DType.BF16, 42, golden("tiny-gpt2-v1000"));
        try (LoadedCheckpoint ck = HfCheckpoint.load(dir)) {
            assertEquals(c, withoutExtra(ck.config()), "everything that changes the math round-trips");
            assertEquals("bfloat16", ck.config().extra().get("torch_dtype"));
            assertEquals(999L, ck.generationConfig().get("eos_token_id"));
            Gpt2Weights w = ck.weights();
            assertEquals(DType.BF16, w.wte().dtype());
            assertTrue(w.tied());
            assertEquals(List.of("model.safetensors"), ck.files().stream().map(p -> p.getFileName().toString()).toList());
            float[] wte = w.wte().toFloatArray();
            double sum = 0, sq = 0;
            for (float x : wte) {
                sum += x;
                sq += x * x;
            }
            double mean = sum / wte.length, std = Math.sqrt(sq / wte.length - mean * mean);
            assertEquals(0, mean, 0.002);
            assertEquals(0.02, std, 0.002);
            float[] gamma = w.h().get(1).ln2Weight().toFloatArray();
            for (float g : gamma) assertEquals(1f, g, 0.1f);
            assertFalse(w.h().get(0).cAttnBias().getFloat(0) == w.h().get(1).cAttnBias().getFloat(0));
        }
        assertEquals(-1, Files.mismatch(golden("tiny-gpt2-v1000/vocab.json"), dir.resolve("vocab.json")));
        assertEquals(-1, Files.mismatch(golden("tiny-gpt2-v1000/merges.txt"), dir.resolve("merges.txt")));
        assertTrue(Files.readString(dir.resolve("tokenizer_config.json")).contains("\"999\""));

        Path again = tmp.resolve("again"), other = tmp.resolve("other");
        RandomCheckpoint.write(again, c, DType.BF16, 42, null);
        RandomCheckpoint.write(other, c, DType.BF16, 43, null);
        assertEquals(-1, Files.mismatch(dir.resolve("model.safetensors"), again.resolve("model.safetensors")), "same seed, same bytes");
        assertTrue(Files.mismatch(dir.resolve("model.safetensors"), other.resolve("model.safetensors")) >= 0);
        assertFalse(Files.exists(again.resolve("vocab.json")));
    }
}
