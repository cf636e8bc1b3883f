package io.gpt2j.core.load;

import io.gpt2j.core.io.CheckpointException;
import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.model.Gpt2Weights;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads a Hugging Face GPT-2 directory (config.json, optional generation_config.json, model.safetensors or
 * sharded model-*.safetensors + model.safetensors.index.json). The only place that knows HF tensor names:
 * optional {@code transformer.} prefix, tied lm_head, ignored attention buffers. Weights stay memory-mapped.
 */
public final class HfCheckpoint {
    public static final String CONFIG = "config.json";
    public static final String GENERATION_CONFIG = "generation_config.json";
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private static final Pattern LAYER = Pattern.compile("h\\.(\\d+)\\.(.+)");
    private static final Set<DType> FLOAT_DTYPES = Set.of(DType.F32, DType.F16, DType.BF16);
    /** Matmul weights (Conv1D weights, wte, lm_head) may also be Q8_0: the kernels compute on its blocks directly. */
    private static final Set<DType> MATMUL_DTYPES = Set.of(DType.F32, DType.F16, DType.BF16, DType.Q8_0);
    /**
     * Conv1D weights may also be stored transposed (gpt2j quantize's decode layout): Q8_0_T (blocks along the input
     * dimension), F16_T, BF16_T.
     */
    private static final Set<DType> CONV1D_DTYPES = Set.of(DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q8_0_T,
            DType.F16_T, DType.BF16_T);

    private HfCheckpoint() {
    }

    /** Loads {@code dir}; each file gets its own shared arena, released by {@link LoadedCheckpoint#close()}. */
    public static LoadedCheckpoint load(Path dir) {
        return load(dir, null);
    }

    /** Loads {@code dir} mapping every file into {@code arena} (e.g. {@code Arena.ofAuto()}), which the caller owns. */
    public static LoadedCheckpoint load(Path dir, Arena arena) {
        if (!Files.isDirectory(dir)) throw new CheckpointException(dir + ": not a directory");
        Gpt2Config config = HfConfig.read(dir.resolve(CONFIG));
        Path gen = dir.resolve(GENERATION_CONFIG);
        Map<String, Object> generationConfig = Files.exists(gen)
                ? Collections.unmodifiableMap(HfConfig.readJsonObject(gen)) : Map.of();
        List<SafeTensors> files = new ArrayList<>();
        try {
            Map<String, Tensor> byName = openWeights(dir, arena, files);
            Map<String, Tensor> extra = new LinkedHashMap<>();
            Gpt2Weights weights = new Assembler(dir, config, byName, files, extra).weights();
            return new LoadedCheckpoint(dir, config, generationConfig, weights, Collections.unmodifiableMap(extra), files);
        } catch (RuntimeException e) {
            for (SafeTensors f : files) f.close();
            throw e;
        }
    }

    /** Opens model.safetensors or the shards listed by the index; returns every tensor by its name in the file. */
    private static Map<String, Tensor> openWeights(Path dir, Arena arena, List<SafeTensors> files) {
        Path single = dir.resolve(SINGLE), index = dir.resolve(INDEX);
        Map<String, Tensor> all = new LinkedHashMap<>();
        if (Files.exists(single)) {
            SafeTensors st = open(single, arena);
            files.add(st);
            all.putAll(st.tensors());
            return all;
        }
        if (!Files.exists(index)) {
            String hint = Files.exists(dir.resolve("pytorch_model.bin"))
                    ? " (pytorch_model.bin is not supported: convert it to safetensors)" : "";
            throw new CheckpointException(dir + ": no " + SINGLE + " or " + INDEX + hint);
        }
        Map<String, Object> json = HfConfig.readJsonObject(index);
        if (!(json.get("weight_map") instanceof Map<?, ?> weightMap)) {
            throw new CheckpointException(index + ": field 'weight_map' must be an object");
        }
        Map<String, SafeTensors> shards = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : weightMap.entrySet()) {
            String name = (String) e.getKey();
            if (!(e.getValue() instanceof String shardName) || shardName.contains("/") || shardName.contains("\\")) {
                throw new CheckpointException(index + ": weight_map entry for '" + name + "' must be a file name in " + dir);
            }
            SafeTensors shard = shards.get(shardName);
            if (shard == null) {
                Path p = dir.resolve(shardName);
                if (!Files.exists(p)) throw new CheckpointException(index + ": shard " + shardName + " (for tensor '" + name + "') does not exist");
                shard = open(p, arena);
                shards.put(shardName, shard);
                files.add(shard);
            }
            Tensor t = shard.get(name);
            if (t == null) throw new CheckpointException(shard.path() + ": tensor '" + name + "' listed in " + INDEX + " is missing from the shard");
            all.put(name, t);
        }
        return all;
    }

    private static SafeTensors open(Path p, Arena arena) {
        return arena == null ? SafeTensors.open(p) : SafeTensors.open(p, arena);
    }

    /** Matches file tensors to Gpt2Weights fields, checking presence, dtype and shape against the config. */
    private static final class Assembler {
        private final Path dir;
        private final Gpt2Config c;
        private final Map<String, Tensor> body = new LinkedHashMap<>(); // canonical name (no prefix) -> tensor
        private final Set<String> used = new TreeSet<>();
        private final String where;
        private final Map<String, Tensor> extra;

        Assembler(Path dir, Gpt2Config config, Map<String, Tensor> byName, List<SafeTensors> files, Map<String, Tensor> extra) {
            this.dir = dir;
            this.c = config;
            this.extra = extra;
            this.where = files.size() == 1 ? files.get(0).path().toString()
                    : dir + " (" + files.size() + " shards: " + files.stream().map(f -> f.path().getFileName().toString()).toList() + ")";
            for (Map.Entry<String, Tensor> e : byName.entrySet()) {
                String name = e.getKey();
                String canonical = name.startsWith("transformer.") ? name.substring("transformer.".length()) : name;
                if (isBody(canonical)) {
                    if (body.put(canonical, e.getValue()) != null) {
                        throw new CheckpointException(where + ": tensor '" + canonical + "' appears both with and without the 'transformer.' prefix");
                    }
                } else if (!isBuffer(canonical)) {
                    extra.put(name, e.getValue());
                }
            }
        }

        private boolean isBody(String n) {
            if (n.startsWith("wte.") || n.startsWith("wpe.") || n.startsWith("ln_f.")) return true;
            Matcher m = LAYER.matcher(n);
            if (!m.matches() || isBuffer(n)) return false;
            long layer = Long.parseLong(m.group(1));
            if (layer >= c.nLayer()) {
                throw new CheckpointException(where + ": tensor '" + n + "' belongs to layer " + layer + " but "
                        + dir.resolve(CONFIG) + " has n_layer " + c.nLayer() + " (config and weights disagree)");
            }
            return true;
        }

        private static boolean isBuffer(String n) {
            return n.matches("h\\.\\d+\\.attn\\.(bias|masked_bias)");
        }

        Gpt2Weights weights() {
            long e = c.nEmbd(), in = c.nInner(), v = c.vocabSize();
            Tensor wte = takeMatmul("wte.weight", v, e);
            Tensor wpe = take("wpe.weight", c.nPositions(), e);
            List<Gpt2Weights.Layer> layers = new ArrayList<>();
            for (int i = 0; i < c.nLayer(); i++) {
                String p = "h." + i + ".";
                layers.add(new Gpt2Weights.Layer(
                        take(p + "ln_1.weight", e), take(p + "ln_1.bias", e),
                        takeConv1d(p + "attn.c_attn.weight", e, 3 * e), take(p + "attn.c_attn.bias", 3 * e),
                        takeConv1d(p + "attn.c_proj.weight", e, e), take(p + "attn.c_proj.bias", e),
                        take(p + "ln_2.weight", e), take(p + "ln_2.bias", e),
                        takeConv1d(p + "mlp.c_fc.weight", e, in), take(p + "mlp.c_fc.bias", in),
                        takeConv1d(p + "mlp.c_proj.weight", in, e), take(p + "mlp.c_proj.bias", e)));
            }
            Tensor lnFW = take("ln_f.weight", e), lnFB = take("ln_f.bias", e);
            for (String n : body.keySet()) {
                if (!used.contains(n)) throw new CheckpointException(where + ": unexpected tensor '" + n + "'");
            }
            Tensor lmHead = extra.get("lm_head.weight");
            if (c.tieWordEmbeddings()) {
                lmHead = wte; // transformers re-ties it even when the file has a copy; the copy stays in extraTensors
            } else {
                if (lmHead == null) {
                    throw new CheckpointException(where + ": tensor 'lm_head.weight' is missing and " + dir.resolve(CONFIG)
                            + " sets tie_word_embeddings false (add lm_head.weight, or set tie_word_embeddings true)");
                }
                check("lm_head.weight", lmHead, MATMUL_DTYPES, v, e);
                extra.remove("lm_head.weight");
            }
            return new Gpt2Weights(wte, wpe, layers, lnFW, lnFB, lmHead);
        }

        private Tensor take(String name, long... shape) {
            return take(name, FLOAT_DTYPES, shape);
        }

        private Tensor takeMatmul(String name, long... shape) {
            return take(name, MATMUL_DTYPES, shape);
        }

        private Tensor takeConv1d(String name, long... shape) {
            return take(name, CONV1D_DTYPES, shape);
        }

        private Tensor take(String name, Set<DType> dtypes, long... shape) {
            Tensor t = body.get(name);
            if (t == null) {
                throw new CheckpointException(where + ": tensor '" + name + "' (or 'transformer." + name + "') is missing");
            }
            used.add(name);
            check(name, t, dtypes, shape);
            return t;
        }

        private void check(String name, Tensor t, Set<DType> dtypes, long... shape) {
            if (!Arrays.equals(t.shape(), shape)) {
                throw new CheckpointException(where + ": tensor '" + name + "' has shape " + t.shapeString() + " but "
                        + dir.resolve(CONFIG) + " implies " + Arrays.toString(shape) + " (config and weights disagree)");
            }
            if (!dtypes.contains(t.dtype())) {
                throw new CheckpointException(where + ": tensor '" + name + "' has dtype " + t.dtype() + "; expected F32, F16, BF16"
                        + (dtypes.contains(DType.Q8_0_T) ? ", Q8_0, Q8_0_T, F16_T or BF16_T"
                        : dtypes.contains(DType.Q8_0) ? " or Q8_0 (Q8_0_T, F16_T and BF16_T are for Conv1D weights only)"
                        : " (Q8_0 is for matmul weights only)"));
            }
        }
    }
}
