package io.gpt2j.core.load;

import io.gpt2j.core.io.CheckpointException;
import io.gpt2j.core.io.Json;
import io.gpt2j.core.model.Gpt2Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Translates transformers' GPT-2 config.json to {@link Gpt2Config} and back, with transformers' defaults for
 * absent fields and errors that name the field, the expected and the actual type. No tensors here.
 */
public final class HfConfig {
    private HfConfig() {
    }

    /** Architectures whose head is a classifier: num_labels then defaults to 2 as in transformers. */
    public static final Set<String> CLASSIFICATION_ARCHITECTURES = Set.of(
            "GPT2ForSequenceClassification", "GPT2ForTokenClassification", "GPT2ForQuestionAnswering");

    private static final Set<String> KNOWN = Set.of("vocab_size", "n_positions", "n_ctx", "n_embd", "n_layer",
            "n_head", "n_inner", "layer_norm_epsilon", "activation_function", "scale_attn_weights",
            "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "tie_word_embeddings", "bos_token_id",
            "eos_token_id", "pad_token_id", "architectures", "num_labels", "id2label", "label2id", "problem_type",
            "model_type");

    private static final Set<String> PROBLEM_TYPES = Set.of("regression", "single_label_classification", "multi_label_classification");

    /** Reads and validates {@code file} (a config.json). */
    public static Gpt2Config read(Path file) {
        return fromJson(readJsonObject(file), file.toString());
    }

    /** Reads a JSON object file, with errors naming the file. */
    static Map<String, Object> readJsonObject(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": file not found");
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e, e);
        }
        try {
            return Json.parseObject(text);
        } catch (Json.JsonException e) {
            throw new CheckpointException(file + ": " + e.getMessage());
        }
    }

    /** Builds a config from parsed config.json content; {@code source} names the file in errors. */
    public static Gpt2Config fromJson(Map<String, Object> json, String source) {
        Fields f = new Fields(json, source);
        String modelType = f.string("model_type", "gpt2");
        if (!"gpt2".equals(modelType)) {
            throw new CheckpointException(source + ": model_type '" + modelType + "' is not supported (expected gpt2)");
        }
        int nEmbd = f.integer("n_embd", 768);
        int nPositions = json.containsKey("n_positions") ? f.integer("n_positions", 1024) : f.integer("n_ctx", 1024);
        int nInner = f.integer("n_inner", -1);
        List<String> architectures = f.strings("architectures");
        List<String> id2label = f.id2label();
        int numLabels;
        if (!id2label.isEmpty()) {
            numLabels = id2label.size(); // transformers: id2label wins over num_labels
        } else {
            boolean classifier = architectures.stream().anyMatch(CLASSIFICATION_ARCHITECTURES::contains);
            numLabels = f.integer("num_labels", classifier ? 2 : 0);
            if (numLabels < 0) throw f.error("num_labels", "must not be negative, got " + numLabels);
            List<String> names = new ArrayList<>();
            for (int i = 0; i < numLabels; i++) names.add("LABEL_" + i);
            id2label = names;
        }
        String problemType = f.string("problem_type", null);
        if (problemType != null && !PROBLEM_TYPES.contains(problemType)) {
            throw f.error("problem_type", "must be one of " + new java.util.TreeSet<>(PROBLEM_TYPES) + ", got '" + problemType + "'");
        }
        Map<String, Object> extra = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : json.entrySet()) {
            // Gpt2Config.extra cannot hold nulls; a null unknown field means "default" in transformers anyway
            if (!KNOWN.contains(e.getKey()) && e.getValue() != null) extra.put(e.getKey(), e.getValue());
        }
        try {
            return new Gpt2Config(
                    f.integer("vocab_size", 50257), nPositions, nEmbd, f.integer("n_layer", 12), f.integer("n_head", 12),
                    nInner < 0 && json.get("n_inner") == null ? 4 * nEmbd : nInner,
                    f.number("layer_norm_epsilon", 1e-5),
                    f.string("activation_function", "gelu_new"),
                    f.bool("scale_attn_weights", true),
                    f.bool("scale_attn_by_inverse_layer_idx", false),
                    f.bool("reorder_and_upcast_attn", false),
                    f.bool("tie_word_embeddings", true),
                    f.tokenId("bos_token_id"),
                    f.eosIds(),
                    f.integer("pad_token_id", -1),
                    architectures, numLabels, id2label, problemType, extra);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(source + ": " + e.getMessage(), e);
        }
    }

    /** Typed access to config.json fields; null counts as absent where transformers allows None. */
    private record Fields(Map<String, Object> json, String source) {
        CheckpointException error(String field, String problem) {
            return new CheckpointException(source + ": field '" + field + "' " + problem);
        }

        CheckpointException wrongType(String field, String expected, Object actual) {
            return error(field, "must be " + expected + ", got " + Json.typeName(actual) + " " + Json.write(actual));
        }

        int integer(String field, int dflt) {
            Object v = json.get(field);
            if (v == null) return dflt;
            if (v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) return l.intValue();
            throw wrongType(field, "an integer", v);
        }

        float number(String field, double dflt) {
            Object v = json.get(field);
            if (v == null) return (float) dflt;
            if (v instanceof Number n) return n.floatValue();
            throw wrongType(field, "a number", v);
        }

        boolean bool(String field, boolean dflt) {
            Object v = json.get(field);
            if (v == null) return dflt;
            if (v instanceof Boolean b) return b;
            throw wrongType(field, "a boolean", v);
        }

        String string(String field, String dflt) {
            Object v = json.get(field);
            if (v == null) return dflt;
            if (v instanceof String s) return s;
            throw wrongType(field, "a string", v);
        }

        List<String> strings(String field) {
            Object v = json.get(field);
            if (v == null) return List.of();
            if (!(v instanceof List<?> l)) throw wrongType(field, "an array of strings", v);
            List<String> out = new ArrayList<>();
            for (Object x : l) {
                if (!(x instanceof String s)) throw wrongType(field, "an array of strings", v);
                out.add(s);
            }
            return out;
        }

        /** transformers' GPT-2 default (50256) when absent, unless it cannot fit this vocabulary; null means none. */
        private int defaultTokenId() {
            int vocab = integer("vocab_size", 50257);
            return 50256 < vocab ? 50256 : -1;
        }

        int tokenId(String field) {
            if (!json.containsKey(field)) return defaultTokenId();
            return integer(field, -1);
        }

        List<Integer> eosIds() {
            Object v = json.get("eos_token_id");
            if (!json.containsKey("eos_token_id")) return defaultTokenId() < 0 ? List.of() : List.of(defaultTokenId());
            if (v == null) return List.of();
            if (v instanceof Long) return List.of(integer("eos_token_id", -1));
            if (v instanceof List<?> l) {
                List<Integer> out = new ArrayList<>();
                for (Object x : l) {
                    if (!(x instanceof Long n) || n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
                        throw wrongType("eos_token_id", "an integer or an array of integers", v);
                    }
                    out.add(n.intValue());
                }
                return out;
            }
            throw wrongType("eos_token_id", "an integer or an array of integers", v);
        }

        List<String> id2label() {
            Object v = json.get("id2label");
            if (v == null) return List.of();
            if (!(v instanceof Map<?, ?> m)) throw wrongType("id2label", "an object", v);
            String[] names = new String[m.size()];
            for (Map.Entry<?, ?> e : m.entrySet()) {
                int idx;
                try {
                    idx = Integer.parseInt((String) e.getKey());
                } catch (NumberFormatException ex) {
                    throw error("id2label", "key '" + e.getKey() + "' is not an integer");
                }
                if (idx < 0 || idx >= names.length || names[idx] != null) {
                    throw error("id2label", "keys must be 0.." + (names.length - 1) + " without gaps, found '" + e.getKey() + "'");
                }
                if (!(e.getValue() instanceof String s)) throw wrongType("id2label." + e.getKey(), "a string", e.getValue());
                names[idx] = s;
            }
            return List.of(names);
        }
    }

    /**
     * The config.json content transformers 4.38 writes for this config (save_pretrained, sorted keys), plus
     * {@code torch_dtype}; extra fields from the loaded file are kept and win over the defaults written here.
     */
    public static Map<String, Object> toJson(Gpt2Config c, String torchDtype) {
        Map<String, Object> m = new TreeMap<>();
        m.put("activation_function", c.activationFunction());
        m.put("architectures", c.architectures().isEmpty() ? List.of("GPT2LMHeadModel") : c.architectures());
        m.put("attn_pdrop", 0.1);
        m.put("bos_token_id", c.bosTokenId() < 0 ? null : c.bosTokenId());
        m.put("embd_pdrop", 0.1);
        m.put("eos_token_id", c.eosTokenIds().size() == 1 ? c.eosTokenIds().get(0) : c.eosTokenIds().isEmpty() ? null : c.eosTokenIds());
        m.put("initializer_range", 0.02);
        m.put("layer_norm_epsilon", Double.parseDouble(Float.toString(c.layerNormEpsilon())));
        m.put("model_type", "gpt2");
        m.put("n_embd", c.nEmbd());
        m.put("n_head", c.nHead());
        m.put("n_inner", c.nInner() == 4 * c.nEmbd() ? null : c.nInner());
        m.put("n_layer", c.nLayer());
        m.put("n_positions", c.nPositions());
        m.put("reorder_and_upcast_attn", c.reorderAndUpcastAttn());
        m.put("resid_pdrop", 0.1);
        m.put("scale_attn_by_inverse_layer_idx", c.scaleAttnByInverseLayerIdx());
        m.put("scale_attn_weights", c.scaleAttnWeights());
        m.put("summary_activation", null);
        m.put("summary_first_dropout", 0.1);
        m.put("summary_proj_to_labels", true);
        m.put("summary_type", "cls_index");
        m.put("summary_use_proj", true);
        m.put("transformers_version", "4.38.2");
        m.put("use_cache", true);
        m.put("vocab_size", c.vocabSize());
        if (!c.tieWordEmbeddings()) m.put("tie_word_embeddings", false);
        if (c.padTokenId() >= 0) m.put("pad_token_id", c.padTokenId());
        if (c.problemType() != null) m.put("problem_type", c.problemType());
        if (c.numLabels() > 0) {
            Map<String, Object> id2label = new LinkedHashMap<>(), label2id = new TreeMap<>();
            for (int i = 0; i < c.id2label().size(); i++) {
                id2label.put(Integer.toString(i), c.id2label().get(i));
                label2id.put(c.id2label().get(i), i);
            }
            m.put("id2label", id2label);
            m.put("label2id", label2id);
        }
        m.putAll(c.extra());
        if (torchDtype != null) m.put("torch_dtype", torchDtype);
        return Collections.unmodifiableMap(m);
    }

    /** JSON with two-space indentation, like Python's json.dumps(indent=2), ending with a newline. */
    public static String pretty(Object v) {
        StringBuilder sb = new StringBuilder();
        pretty(sb, v, 0);
        return sb.append('\n').toString();
    }

    private static void pretty(StringBuilder sb, Object v, int indent) {
        if (v instanceof Map<?, ?> m && !m.isEmpty()) {
            sb.append("{\n");
            int i = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.repeat(' ', indent + 2);
                Json.quote(sb, String.valueOf(e.getKey()));
                sb.append(": ");
                pretty(sb, e.getValue(), indent + 2);
                sb.append(++i < m.size() ? ",\n" : "\n");
            }
            sb.repeat(' ', indent).append('}');
        } else if (v instanceof List<?> l && !l.isEmpty()) {
            sb.append("[\n");
            for (int i = 0; i < l.size(); i++) {
                sb.repeat(' ', indent + 2);
                pretty(sb, l.get(i), indent + 2);
                sb.append(i + 1 < l.size() ? ",\n" : "\n");
            }
            sb.repeat(' ', indent).append(']');
        } else {
            Json.write(sb, v);
        }
    }
}
