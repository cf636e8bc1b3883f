package io.gpt2j.core.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.CheckpointException;
import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.io.SafeTensorsWriter;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.model.Gpt2Weights;
import io.gpt2j.core.model.TestModels;
import io.gpt2j.core.model.WeightConversion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints rewritten with their matmul weights in another dtype (what {@code gpt2j quantize} writes): loaded
 * back, every matmul weight holds exactly the bytes load-time conversion of the original produces, so the same
 * kernels run on the same data; every other tensor is copied byte for byte; Q8_0 is used straight from the file
 * mapping. Logits are compared at 1e-5 rather than bit for bit: the same forward pass on the same weights differs
 * by ~1e-7 between interpreted and JIT-compiled kernels within one JVM (a run-to-run property of the engine).
 */
class ConvertedCheckpointTest {
    static final Parallel POOL = new Parallel(2);
    static final DType[] TARGETS = {DType.Q8_0, DType.F16, DType.BF16, DType.F32};
    static final double LOGIT_TOL = 1e-5;

    @TempDir
    Path tmp;

    @AfterAll
    static void close() {
        POOL.close();
    }

    static Path golden(String name) {
        return Path.of(System.getProperty("gpt2j.testdata"), "golden", "checkpoints", name);
    }

    static float[] logits(Gpt2Config c, Gpt2Weights w) {
        Gpt2 m = new Gpt2(c, w, TestModels.POOL);
        int T = 24, V = c.vocabSize();
        SplittableRandom r = new SplittableRandom(17);
        float[] all = new float[3 * T * V];
        for (int s = 0; s < 3; s++) {
            int[] seq = new int[T];
            for (int i = 0; i < T; i++) seq[i] = r.nextInt(V);
            float[] l = new float[T * V];
            m.forward(m.newState(1, T), new int[][] {seq}, null, null, l, null, true);
            System.arraycopy(l, 0, all, s * T * V, T * V);
        }
        return all;
    }

    static List<String> matmulNames(int layers) {
        List<String> n = new ArrayList<>(List.of("transformer.wte.weight"));
        for (int i = 0; i < layers; i++) {
            for (String s : new String[] {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"}) n.add("transformer.h." + i + "." + s + ".weight");
        }
        return n;
    }

    @Test
    void everyDtypeReloadsBitIdenticalToLoadTimeConversion() throws IOException {
        Path src = golden("tiny-gpt2-v1000");
        try (LoadedCheckpoint ck = HfCheckpoint.load(src); SafeTensors in = SafeTensors.open(src.resolve("model.safetensors"))) {
            List<String> matmul = matmulNames(ck.config().nLayer());
            for (DType dt : TARGETS) {
                Path out = tmp.resolve(dt.name());
                ConvertedCheckpoint.Summary s = ConvertedCheckpoint.write(ck, dt, out, POOL);
                assertEquals(matmul.size(), s.converted());
                assertEquals(in.tensors().size() - matmul.size(), s.kept());
                Gpt2Weights converted = WeightConversion.convert(ck.weights(), dt);
                float[] want = logits(ck.config(), converted);
                try (LoadedCheckpoint q = HfCheckpoint.load(out); SafeTensors file = SafeTensors.open(out.resolve("model.safetensors"))) {
                    assertEquals(-1, converted.wte().data().mismatch(q.weights().wte().data()), dt + ": wte bytes");
                    for (int i = 0; i < ck.config().nLayer(); i++) {
                        Gpt2Weights.Layer x = converted.h().get(i), y = q.weights().h().get(i);
                        for (Tensor[] p : new Tensor[][] {{x.cAttnWeight(), y.cAttnWeight()}, {x.attnCProjWeight(), y.attnCProjWeight()},
                                {x.cFcWeight(), y.cFcWeight()}, {x.mlpCProjWeight(), y.mlpCProjWeight()}}) {
                            if (p[0].dtype() == p[1].dtype()) {
                                assertEquals(-1, p[0].data().mismatch(p[1].data()), dt + ": " + p[1].name() + " bytes");
                            } else { // load-time F16/BF16 is stored transposed (F16_T/BF16_T); the file keeps HF's layout
                                assertEquals(p[0].dtype().base(), p[1].dtype(), p[1].name());
                                for (long k = 0; k < p[0].numel(); k++) {
                                    assertEquals(Float.floatToRawIntBits(p[0].getFloat(k)), Float.floatToRawIntBits(p[1].getFloat(k)), p[1].name() + " element " + k);
                                }
                            }
                        }
                    }
                    float[] got = logits(q.config(), q.weights());
                    double maxAbs = 0;
                    for (int i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(want[i] - got[i]));
                    System.out.printf("%s file vs load-time conversion: logits max-abs %.2e (bound %.0e)%n", dt, maxAbs, LOGIT_TOL);
                    assertTrue(maxAbs <= LOGIT_TOL, dt + ": logits max-abs " + maxAbs);
                    assertEquals(in.tensors().keySet(), file.tensors().keySet(), "same tensor names, same order");
                    long expectedSize = file.dataStart();
                    for (Tensor a : in.tensors().values()) {
                        Tensor b = file.get(a.name());
                        assertArrayEquals(a.shape(), b.shape(), a.name());
                        if (matmul.contains(a.name())) {
                            // Q8_0 stores the blocks' Conv1D weights transposed (Q8_0_T); wte stays Q8_0
                            boolean conv1d = a.name().contains(".h.");
                            assertEquals(conv1d ? WeightConversion.conv1dFileStorage(a, dt, dt == DType.Q8_0) : dt, b.dtype(), a.name());
                        } else {
                            assertEquals(a.dtype(), b.dtype(), a.name());
                            assertEquals(-1, a.data().mismatch(b.data()), a.name() + " must be copied byte for byte");
                        }
                        expectedSize += b.dtype().byteSize(b.numel());
                    }
                    assertEquals(expectedSize, Files.size(out.resolve("model.safetensors")), dt + ": header plus tensors, nothing else");
                    assertEquals(s.bytes(), expectedSize);
                    Map<String, String> meta = file.metadata();
                    assertEquals("pt", meta.get("format"));
                    assertEquals("1", meta.get("gpt2j.format"));
                    assertEquals(dt == DType.Q8_0 ? "conv1d-blocks-along-last-axis" : null, meta.get("gpt2j.q8_0_layout"));
                }
                for (String f : List.of("config.json", "generation_config.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json")) {
                    assertEquals(-1, Files.mismatch(src.resolve(f), out.resolve(f)), f + " copied unchanged");
                }
                try (var left = Files.list(out)) {
                    assertTrue(left.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp files left behind");
                }
            }
        }
    }

    /** Address ranges of the process's mappings of {@code file} (Linux /proc/self/maps). */
    static List<long[]> mappingsOf(Path file) throws IOException {
        String real = file.toRealPath().toString();
        List<long[]> ranges = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            if (!line.endsWith(" " + real)) continue;
            String[] range = line.substring(0, line.indexOf(' ')).split("-");
            ranges.add(new long[] {Long.parseUnsignedLong(range[0], 16), Long.parseUnsignedLong(range[1], 16)});
        }
        return ranges;
    }

    static boolean inside(List<long[]> ranges, Tensor t) {
        long a = t.data().address(), b = a + t.data().byteSize();
        return ranges.stream().anyMatch(r -> a >= r[0] && b <= r[1]);
    }

    @Test
    void q8CheckpointIsComputedOnStraightFromTheFileMapping() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs Linux /proc/self/maps");
        Path out = tmp.resolve("q8");
        try (LoadedCheckpoint ck = HfCheckpoint.load(golden("tiny-gpt2-v1000"))) {
            ConvertedCheckpoint.write(ck, DType.Q8_0, out, POOL);
        }
        Path file = out.resolve("model.safetensors");
        try (LoadedCheckpoint q = HfCheckpoint.load(out)) {
            List<long[]> maps = mappingsOf(file);
            assertFalse(maps.isEmpty(), file + " should be mapped while the checkpoint is open");
            Gpt2Weights w = q.weights();
            List<Tensor> matmul = new ArrayList<>(List.of(w.wte()));
            for (Gpt2Weights.Layer l : w.h()) matmul.addAll(List.of(l.cAttnWeight(), l.attnCProjWeight(), l.cFcWeight(), l.mlpCProjWeight()));
            for (Tensor t : matmul) {
                assertEquals(t == w.wte() ? DType.Q8_0 : WeightConversion.conv1dStorage(t, DType.Q8_0), t.dtype(), t.name());
                assertTrue(inside(maps, t), t.name() + " must be a view of the mapped file, not a copy");
            }
            // the check can fail: a converted copy lives outside the mapping
            Tensor copy = WeightConversion.to(w.wte(), DType.F16, java.lang.foreign.Arena.ofAuto(), null);
            assertFalse(inside(maps, copy));
            assertTrue(WeightConversion.storedAs(w, DType.Q8_0), "--dtype q8_0 finds nothing to convert");
            assertFalse(WeightConversion.storedAs(w, DType.F32));
        }
        assertTrue(mappingsOf(file).isEmpty(), "closing the checkpoint unmaps the file");
    }

    @Test
    void q8CheckpointConvertedToF32AtLoadIsItsDequantization() throws IOException {
        Path out = tmp.resolve("q8");
        try (LoadedCheckpoint ck = HfCheckpoint.load(golden("tiny-gpt2-v1000"))) {
            ConvertedCheckpoint.write(ck, DType.Q8_0, out, POOL);
        }
        try (LoadedCheckpoint q = HfCheckpoint.load(out)) {
            Gpt2Weights f = WeightConversion.convert(q.weights(), DType.F32);
            Tensor qa = q.weights().h().get(1).cFcWeight(), fa = f.h().get(1).cFcWeight();
            assertEquals(DType.F32, fa.dtype());
            for (long i = 0; i < qa.numel(); i++) assertEquals(qa.getFloat(i), fa.getFloat(i), 0f, "element " + i);
            // and back to Q8_0 reproduces the file's blocks (re-quantizing d * q gives d and q again)
            Path again = tmp.resolve("q8-again");
            ConvertedCheckpoint.write(q, DType.F32, tmp.resolve("f32"), POOL);
            try (LoadedCheckpoint f32 = HfCheckpoint.load(tmp.resolve("f32"))) {
                ConvertedCheckpoint.write(f32, DType.Q8_0, again, POOL);
            }
            assertEquals(-1, Files.mismatch(out.resolve("model.safetensors"), again.resolve("model.safetensors")));
        }
    }

    @Test
    void untiedLmHeadIsConvertedAndHeadTensorsKept() throws IOException {
        Path dir = HfCheckpointTest.copyJson(tmp.resolve("untied"), s -> s.replace("\"use_cache\": true", "\"tie_word_embeddings\": false, \"use_cache\": true"));
        float[] score = new float[2 * 48];
        score[5] = 0.25f;
        try (SafeTensors st = SafeTensors.open(golden("tiny-gpt2-v1000/model.safetensors"))) {
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
            for (Tensor t : st.tensors().values()) w.addTensor(t);
            w.addTensor("lm_head.weight", st.get("transformer.wte.weight"), DType.F32);
            w.addFloats("score.weight", DType.F32, new long[] {2, 48}, score);
            w.write(dir.resolve("model.safetensors"));
        }
        Path out = tmp.resolve("untied-q8");
        try (LoadedCheckpoint ck = HfCheckpoint.load(dir)) {
            ConvertedCheckpoint.Summary s = ConvertedCheckpoint.write(ck, DType.Q8_0, out, POOL);
            assertEquals(1 + 4 * 3 + 1, s.converted(), "wte, 4 per block, lm_head");
        }
        try (LoadedCheckpoint q = HfCheckpoint.load(out)) {
            assertFalse(q.weights().tied());
            assertEquals(DType.Q8_0, q.weights().lmHead().dtype());
            assertEquals(DType.F32, q.extraTensors().get("score.weight").dtype());
            assertEquals(0.25f, q.extraTensors().get("score.weight").getFloat(5));
        }
    }

    /** Rewrites {@code from}'s tensors into {@code dir}/model.safetensors with exactly {@code meta} as metadata. */
    static Path rewriteWithMetadata(Path from, Path dir, Map<String, String> meta) throws IOException {
        HfCheckpointTest.copyJson(dir, s -> s);
        try (SafeTensors st = SafeTensors.open(from.resolve("model.safetensors"))) {
            SafeTensorsWriter w = new SafeTensorsWriter();
            meta.forEach(w::metadata);
            for (Tensor t : st.tensors().values()) w.addTensor(t);
            w.write(dir.resolve("model.safetensors"));
        }
        return dir.resolve("model.safetensors");
    }

    @Test
    void q8WithoutOrWithUnknownLayoutIsRefused() throws IOException {
        Path out = tmp.resolve("q8");
        try (LoadedCheckpoint ck = HfCheckpoint.load(golden("tiny-gpt2-v1000"))) {
            ConvertedCheckpoint.write(ck, DType.Q8_0, out, POOL);
        }
        Path none = rewriteWithMetadata(out, tmp.resolve("no-layout"), Map.of("format", "pt"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.load(none.getParent()).close());
        HfCheckpointTest.assertMentions(e, none.toString(), "is Q8_0", "'gpt2j.q8_0_layout'", "conv1d-blocks-along-last-axis");
        Path other = rewriteWithMetadata(out, tmp.resolve("other-layout"), Map.of("format", "pt", "gpt2j.q8_0_layout", "rows-v2"));
        e = assertThrows(CheckpointException.class, () -> HfCheckpoint.load(other.getParent()).close());
        HfCheckpointTest.assertMentions(e, other.toString(), "layout 'rows-v2'", "'gpt2j.q8_0_layout'", "cannot read");
    }

    @Test
    void q8OutsideMatmulWeightsIsRefused() throws IOException {
        Path dir = HfCheckpointTest.copyJson(tmp.resolve("q8-bias"), s -> s);
        try (SafeTensors st = SafeTensors.open(golden("tiny-gpt2-v1000/model.safetensors"))) {
            SafeTensorsWriter w = new SafeTensorsWriter().metadata(SafeTensors.Q8_0_LAYOUT_KEY, SafeTensors.Q8_0_LAYOUT);
            for (Tensor t : st.tensors().values()) {
                if (t.name().equals("transformer.h.0.mlp.c_fc.bias")) {
                    w.addRaw(t.name(), DType.Q8_0, t.shape(), WeightConversion.to(t, DType.Q8_0, java.lang.foreign.Arena.ofAuto()).data());
                } else {
                    w.addTensor(t);
                }
            }
            w.write(dir.resolve("model.safetensors"));
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.load(dir).close());
        HfCheckpointTest.assertMentions(e, "'h.0.mlp.c_fc.bias'", "dtype Q8_0", "matmul weights only");
    }

    /** Q8_0_T is a Conv1D arrangement: a file that stores wte [V, E] so is refused, naming the tensor and the rule. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = DType.class, names = {"Q8_0_T", "F16_T"})
    void transposedOutsideConv1dWeightsIsRefused(DType transposed) throws IOException {
        Path dir = HfCheckpointTest.copyJson(tmp.resolve(transposed + "-wte"), s -> s);
        try (SafeTensors st = SafeTensors.open(golden("tiny-gpt2-v1000/model.safetensors"))) {
            SafeTensorsWriter w = new SafeTensorsWriter().metadata(SafeTensors.Q8_0_LAYOUT_KEY, SafeTensors.Q8_0_LAYOUT);
            for (Tensor t : st.tensors().values()) {
                if (t.name().equals("transformer.wte.weight")) { // the base encoding's bytes: the same size
                    w.addRaw(t.name(), transposed, t.shape(), WeightConversion.to(t, transposed.base(), java.lang.foreign.Arena.ofAuto()).data());
                } else {
                    w.addTensor(t);
                }
            }
            w.write(dir.resolve("model.safetensors"));
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.load(dir).close());
        HfCheckpointTest.assertMentions(e, "'wte.weight'", "dtype " + transposed, "are for Conv1D weights only");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = DType.class, names = {"F16", "BF16"})
    void decodeLayoutFileIsTheLoadTimeConversionMapped(DType dt) throws IOException {
        // quantize --layout decode: the Conv1D weights in the file are the very bytes and dtype (F16_T/BF16_T) that
        // --dtype builds at load, so the model computes the same logits bit for bit, straight from the mapping
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs Linux /proc/self/maps");
        Path out = tmp.resolve(dt + "-decode");
        try (LoadedCheckpoint ck = HfCheckpoint.load(golden("tiny-gpt2-v1000"))) {
            ConvertedCheckpoint.write(ck, dt, true, out, POOL);
            Gpt2Weights converted = WeightConversion.convert(ck.weights(), dt);
            float[] want = logits(ck.config(), converted);
            Path file = out.resolve("model.safetensors");
            try (LoadedCheckpoint q = HfCheckpoint.load(out)) {
                List<long[]> maps = mappingsOf(file);
                Gpt2Weights w = q.weights();
                assertEquals(dt, w.wte().dtype(), "wte keeps the plain layout");
                for (int i = 0; i < w.h().size(); i++) {
                    Gpt2Weights.Layer x = converted.h().get(i), y = w.h().get(i);
                    for (Tensor[] p : new Tensor[][] {{x.cAttnWeight(), y.cAttnWeight()}, {x.attnCProjWeight(), y.attnCProjWeight()},
                            {x.cFcWeight(), y.cFcWeight()}, {x.mlpCProjWeight(), y.mlpCProjWeight()}}) {
                        assertEquals(p[0].dtype(), p[1].dtype(), p[1].name());
                        assertTrue(p[1].dtype().transposed(), p[1].name() + " stored transposed");
                        assertEquals(-1, p[0].data().mismatch(p[1].data()), p[1].name() + " bytes");
                        assertTrue(inside(maps, p[1]), p[1].name() + " must be a view of the mapped file, not a copy");
                    }
                }
                assertTrue(WeightConversion.storedAs(w, dt), "--dtype " + dt + " finds nothing to convert");
                float[] got = logits(q.config(), w);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "logit " + i);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> ConvertedCheckpoint.write(ck, DType.F32, true, tmp.resolve("f32-decode"), POOL));
            assertThrows(IllegalArgumentException.class, () -> ConvertedCheckpoint.write(ck, DType.Q8_0, false, tmp.resolve("q8-hf"), POOL));
        }
    }

    @Test
    void matmulWeightsAreFoundByIdentity() {
        try (LoadedCheckpoint ck = HfCheckpoint.load(golden("tiny-gpt2-v1000"))) {
            Set<Tensor> m = ConvertedCheckpoint.matmulWeights(ck.weights());
            assertEquals(13, m.size());
            assertTrue(m.contains(ck.fileTensors().get("transformer.h.2.mlp.c_proj.weight")));
            assertFalse(m.contains(ck.fileTensors().get("transformer.h.2.mlp.c_proj.bias")));
            assertNull(ck.fileTensors().get("lm_head.weight"));
        }
    }
}
