package io.gpt2j.core.load;

import io.gpt2j.core.io.CheckpointException;
import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.io.SafeTensorsWriter;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.model.WeightConversion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Writes a random-weight GPT-2 checkpoint in the Hugging Face layout (config.json, generation_config.json,
 * model.safetensors without lm_head when tied, optionally the tokenizer files), for benchmarks and tests.
 * Initialisation follows transformers' GPT2 _init_weights in spirit; values are streamed, never all in memory.
 */
public final class RandomCheckpoint {
    /** transformers' initializer_range. */
    public static final float STD = 0.02f;

    private RandomCheckpoint() {
    }

    /**
     * Writes the checkpoint into {@code outDir} (created if needed).
     *
     * @param dtype        F32, F16, BF16, or Q8_0 (matmul weights quantized from the F32 values, other tensors F32)
     * @param tokenizerDir directory holding vocab.json and merges.txt to copy, or null to write no tokenizer files
     */
    public static void write(Path outDir, Gpt2Config config, DType dtype, long seed, Path tokenizerDir) {
        String torchDtype = switch (dtype) {
            case F32, Q8_0 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> throw new IllegalArgumentException("random checkpoints are F32, F16, BF16 or Q8_0, not " + dtype);
        };
        try {
            Files.createDirectories(outDir);
            if (tokenizerDir != null) copyTokenizer(tokenizerDir, outDir, config);
            weights(config, dtype, seed).write(outDir.resolve(HfCheckpoint.SINGLE));
            writeString(outDir.resolve(HfCheckpoint.CONFIG), HfConfig.pretty(HfConfig.toJson(config, torchDtype)));
            writeString(outDir.resolve(HfCheckpoint.GENERATION_CONFIG), HfConfig.pretty(generationConfig(config)));
        } catch (IOException e) {
            throw new CheckpointException(outDir + ": cannot write checkpoint: " + e, e);
        }
    }

    /** What transformers writes to generation_config.json for a freshly built model. */
    static Map<String, Object> generationConfig(Gpt2Config c) {
        Map<String, Object> m = new TreeMap<>();
        m.put("_from_model_config", true);
        if (c.bosTokenId() >= 0) m.put("bos_token_id", c.bosTokenId());
        if (!c.eosTokenIds().isEmpty()) m.put("eos_token_id", c.eosTokenIds().size() == 1 ? c.eosTokenIds().get(0) : c.eosTokenIds());
        if (c.padTokenId() >= 0) m.put("pad_token_id", c.padTokenId());
        m.put("transformers_version", "4.38.2");
        return m;
    }

    /** The tensors, in transformers' sorted-name order, each drawn from its own seeded stream. */
    static SafeTensorsWriter weights(Gpt2Config c, DType dtype, long seed) {
        long e = c.nEmbd(), in = c.nInner(), v = c.vocabSize();
        float projStd = (float) (STD / Math.sqrt(2.0 * c.nLayer()));
        Map<String, Object[]> specs = new TreeMap<>(); // name -> {shape, mean, std}
        specs.put("transformer.wte.weight", spec(new long[]{v, e}, 0, STD));
        specs.put("transformer.wpe.weight", spec(new long[]{c.nPositions(), e}, 0, STD / 2));
        for (int i = 0; i < c.nLayer(); i++) {
            String p = "transformer.h." + i + ".";
            specs.put(p + "ln_1.weight", spec(new long[]{e}, 1, STD));
            specs.put(p + "ln_1.bias", spec(new long[]{e}, 0, STD / 2));
            specs.put(p + "attn.c_attn.weight", spec(new long[]{e, 3 * e}, 0, STD));
            specs.put(p + "attn.c_attn.bias", spec(new long[]{3 * e}, 0, STD / 2));
            specs.put(p + "attn.c_proj.weight", spec(new long[]{e, e}, 0, projStd));
            specs.put(p + "attn.c_proj.bias", spec(new long[]{e}, 0, STD / 2));
            specs.put(p + "ln_2.weight", spec(new long[]{e}, 1, STD));
            specs.put(p + "ln_2.bias", spec(new long[]{e}, 0, STD / 2));
            specs.put(p + "mlp.c_fc.weight", spec(new long[]{e, in}, 0, STD));
            specs.put(p + "mlp.c_fc.bias", spec(new long[]{in}, 0, STD / 2));
            specs.put(p + "mlp.c_proj.weight", spec(new long[]{in, e}, 0, projStd));
            specs.put(p + "mlp.c_proj.bias", spec(new long[]{e}, 0, STD / 2));
        }
        specs.put("transformer.ln_f.weight", spec(new long[]{e}, 1, STD));
        specs.put("transformer.ln_f.bias", spec(new long[]{e}, 0, STD / 2));
        if (!c.tieWordEmbeddings()) specs.put("lm_head.weight", spec(new long[]{v, e}, 0, STD));

        SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
        if (dtype == DType.Q8_0) {
            w.metadata(SafeTensors.FORMAT_KEY, SafeTensors.FORMAT_VERSION).metadata(SafeTensors.Q8_0_LAYOUT_KEY, SafeTensors.Q8_0_LAYOUT);
        }
        for (Map.Entry<String, Object[]> s : specs.entrySet()) {
            long[] shape = (long[]) s.getValue()[0];
            float mean = (float) s.getValue()[1], std = (float) s.getValue()[2];
            long streamSeed = seed * 0x9E3779B97F4A7C15L + s.getKey().hashCode();
            NormalSource values = new NormalSource(streamSeed, mean, std);
            if (dtype != DType.Q8_0) {
                w.addGenerated(s.getKey(), dtype, shape, values);
            } else if (shape.length == 2 && MATMUL.matcher(s.getKey()).matches()) {
                // the same values as the F32 checkpoint, quantized as --dtype q8_0 would at load
                // (Conv1D weights of the blocks as Q8_0_T, wte and lm_head as Q8_0)
                boolean conv1d = s.getKey().startsWith("transformer.h.") || s.getKey().startsWith("h.");
                DType as = conv1d && shape[0] % 32 == 0 ? DType.Q8_0_T : DType.Q8_0;
                w.addLazy(s.getKey(), as, shape, arena -> WeightConversion.to(f32(s.getKey(), shape, values, arena),
                        as, arena, null).data());
            } else {
                w.addGenerated(s.getKey(), DType.F32, shape, values);
            }
        }
        return w;
    }

    private static final Pattern MATMUL = Pattern.compile(
            "transformer\\.wte\\.weight|lm_head\\.weight|transformer\\.h\\.\\d+\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)\\.weight");

    /** The whole tensor drawn from {@code values} in the writer's chunk order, as F32 in {@code arena}. */
    private static Tensor f32(String name, long[] shape, NormalSource values, Arena arena) {
        long n = shape[0] * shape[1];
        MemorySegment m = arena.allocate(4 * n, 64);
        float[] buf = new float[1 << 16];
        for (long off = 0; off < n; off += buf.length) {
            int k = (int) Math.min(buf.length, n - off);
            values.fill(off, buf, k);
            MemorySegment.copy(buf, 0, m, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4 * off, k);
        }
        return new Tensor(name, DType.F32, shape, m);
    }

    private static Object[] spec(long[] shape, float mean, float std) {
        return new Object[]{shape, mean, std};
    }

    /**
     * Approximately normal values, sequentially: the sum of four 16-bit uniforms from one nextLong (Irwin-Hall),
     * centred and scaled to unit variance; bounded at ±3.46σ, which is fine for random weights and ~10× faster
     * than nextGaussian. Chunks are requested in order, so one stream per tensor gives a deterministic file.
     */
    static final class NormalSource implements SafeTensorsWriter.FloatSource {
        private static final float SCALE = (float) (Math.sqrt(3.0) / 65536.0);
        private final SplittableRandom rng;
        private final float mean, std;

        NormalSource(long seed, float mean, float std) {
            this.rng = new SplittableRandom(seed);
            this.mean = mean;
            this.std = std;
        }

        @Override
        public void fill(long offset, float[] buf, int n) {
            float k = SCALE * std;
            for (int i = 0; i < n; i++) {
                long r = rng.nextLong();
                long sum = (r & 0xffff) + ((r >>> 16) & 0xffff) + ((r >>> 32) & 0xffff) + (r >>> 48);
                buf[i] = mean + (sum - 2 * 65535f) * k;
            }
        }
    }

    /** Copies vocab.json and merges.txt, checking that every token id fits the model's vocabulary. */
    static void copyTokenizer(Path from, Path outDir, Gpt2Config c) throws IOException {
        Path vocab = from.resolve("vocab.json"), merges = from.resolve("merges.txt");
        for (Path p : new Path[]{vocab, merges}) {
            if (!Files.isRegularFile(p)) throw new CheckpointException(p + ": tokenizer file not found");
        }
        int maxId = -1;
        Map<String, Object> ids = HfConfig.readJsonObject(vocab);
        for (Object id : ids.values()) {
            if (!(id instanceof Long l)) throw new CheckpointException(vocab + ": ids must be integers, found " + id);
            maxId = (int) Math.max(maxId, l);
        }
        if (maxId >= c.vocabSize()) {
            throw new CheckpointException(vocab + ": token id " + maxId + " does not fit vocab_size " + c.vocabSize()
                    + " (use a matching --tokenizer or a larger --vocab-size)");
        }
        Files.copy(vocab, outDir.resolve("vocab.json"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(merges, outDir.resolve("merges.txt"), StandardCopyOption.REPLACE_EXISTING);
        String eos = "<|endoftext|>";
        Object eosId = ids.get(eos);
        Map<String, Object> tc = new TreeMap<>();
        tc.put("add_bos_token", false);
        tc.put("add_prefix_space", false);
        if (eosId != null) {
            Map<String, Object> added = new LinkedHashMap<>();
            added.put("content", eos);
            added.put("lstrip", false);
            added.put("normalized", true);
            added.put("rstrip", false);
            added.put("single_word", false);
            added.put("special", true);
            tc.put("added_tokens_decoder", Map.of(eosId.toString(), added));
        }
        String special = eosId == null ? null : eos;
        tc.put("bos_token", special);
        tc.put("clean_up_tokenization_spaces", true);
        tc.put("eos_token", special);
        tc.put("errors", "replace");
        tc.put("model_max_length", c.nPositions());
        tc.put("pad_token", null);
        tc.put("tokenizer_class", "GPT2Tokenizer");
        tc.put("unk_token", special);
        writeString(outDir.resolve("tokenizer_config.json"), HfConfig.pretty(tc));
    }

    /** The id of {@code <|endoftext|>} in {@code tokenizerDir}/vocab.json, or -1 when it has none. */
    public static int endOfTextId(Path tokenizerDir) {
        Object id = HfConfig.readJsonObject(tokenizerDir.resolve("vocab.json")).get("<|endoftext|>");
        return id instanceof Long l ? Math.toIntExact(l) : -1;
    }

    private static void writeString(Path p, String s) throws IOException {
        Path tmp = p.resolveSibling("." + p.getFileName() + ".tmp");
        Files.writeString(tmp, s, StandardCharsets.UTF_8);
        Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
