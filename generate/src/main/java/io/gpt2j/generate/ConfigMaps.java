package io.gpt2j.generate;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Reads and writes {@link GenerationConfig} as a map with transformers' field names (generation_config.json or a
 * request's parameters). Type errors name the field, the value and the expected type; unknown names get a
 * "did you mean". It never guesses a value.
 */
final class ConfigMaps {
    private ConfigMaps() {
    }

    private static final Map<String, BiConsumer<GenerationConfig.Builder, Object>> SETTERS = new LinkedHashMap<>();
    /** Fields of generation_config.json that carry no generation semantics here; accepted and ignored. */
    private static final Set<String> IGNORED = Set.of("_from_model_config", "transformers_version", "use_cache",
            "output_scores", "output_attentions", "output_hidden_states", "return_dict_in_generate",
            "output_logits", "decoder_start_token_id", "is_assistant");
    /** transformers fields gpt2j does not implement: refused rather than silently ignored. */
    private static final Set<String> UNSUPPORTED = Set.of("constraints", "force_words_ids", "forced_bos_token_id",
            "forced_eos_token_id", "remove_invalid_values", "exponential_decay_length_penalty",
            "begin_suppress_tokens", "forced_decoder_ids", "guidance_scale", "low_memory", "num_assistant_tokens",
            "num_assistant_tokens_schedule", "encoder_repetition_penalty", "encoder_no_repeat_ngram_size",
            "prompt_lookup_num_tokens", "cache_implementation", "watermarking_config", "dola_layers");

    static {
        SETTERS.put("max_length", (b, v) -> b.maxLength(optInt("max_length", v)));
        SETTERS.put("max_new_tokens", (b, v) -> b.maxNewTokens(optInt("max_new_tokens", v)));
        SETTERS.put("min_length", (b, v) -> b.minLength(v == null ? 0 : integer("min_length", v)));
        SETTERS.put("min_new_tokens", (b, v) -> b.minNewTokens(optInt("min_new_tokens", v)));
        SETTERS.put("do_sample", (b, v) -> b.doSample(v != null && bool("do_sample", v)));
        SETTERS.put("num_beams", (b, v) -> b.numBeams(v == null ? 1 : integer("num_beams", v)));
        SETTERS.put("num_beam_groups", (b, v) -> b.numBeamGroups(v == null ? 1 : integer("num_beam_groups", v)));
        SETTERS.put("diversity_penalty", (b, v) -> b.diversityPenalty(v == null ? 0 : number("diversity_penalty", v)));
        SETTERS.put("penalty_alpha", (b, v) -> b.penaltyAlpha(v == null ? null : number("penalty_alpha", v)));
        SETTERS.put("temperature", (b, v) -> b.temperature(v == null ? 1.0 : number("temperature", v)));
        SETTERS.put("top_k", (b, v) -> b.topK(v == null ? 50 : integer("top_k", v)));
        SETTERS.put("top_p", (b, v) -> b.topP(v == null ? 1.0 : number("top_p", v)));
        SETTERS.put("min_p", (b, v) -> b.minP(v == null ? null : number("min_p", v)));
        SETTERS.put("typical_p", (b, v) -> b.typicalP(v == null ? 1.0 : number("typical_p", v)));
        SETTERS.put("epsilon_cutoff", (b, v) -> b.epsilonCutoff(v == null ? 0 : number("epsilon_cutoff", v)));
        SETTERS.put("eta_cutoff", (b, v) -> b.etaCutoff(v == null ? 0 : number("eta_cutoff", v)));
        SETTERS.put("repetition_penalty", (b, v) -> b.repetitionPenalty(v == null ? 1.0 : number("repetition_penalty", v)));
        SETTERS.put("no_repeat_ngram_size", (b, v) -> b.noRepeatNgramSize(v == null ? 0 : integer("no_repeat_ngram_size", v)));
        SETTERS.put("bad_words_ids", (b, v) -> b.badWordsIds(v == null ? null : idLists("bad_words_ids", v)));
        SETTERS.put("suppress_tokens", (b, v) -> b.suppressTokens(v == null ? null : idList("suppress_tokens", v)));
        SETTERS.put("sequence_bias", (b, v) -> b.sequenceBias(v == null ? null : sequenceBias(v)));
        SETTERS.put("length_penalty", (b, v) -> b.lengthPenalty(v == null ? 1.0 : number("length_penalty", v)));
        SETTERS.put("early_stopping", (b, v) -> b.earlyStopping(earlyStopping(v)));
        SETTERS.put("num_return_sequences", (b, v) -> b.numReturnSequences(v == null ? 1 : integer("num_return_sequences", v)));
        SETTERS.put("eos_token_id", (b, v) -> b.eosTokenId(v == null ? null
                : v instanceof List<?> ? idList("eos_token_id", v) : new int[]{integer("eos_token_id", v)}));
        SETTERS.put("pad_token_id", (b, v) -> b.padTokenId(optInt("pad_token_id", v)));
        SETTERS.put("bos_token_id", (b, v) -> b.bosTokenId(optInt("bos_token_id", v)));
        SETTERS.put("renormalize_logits", (b, v) -> b.renormalizeLogits(v != null && bool("renormalize_logits", v)));
        SETTERS.put("seed", (b, v) -> b.seed(v == null ? null : (long) longValue("seed", v)));
        SETTERS.put("stop_strings", (b, v) -> b.stopStrings(v == null ? null : strings("stop_strings", v)));
        SETTERS.put("max_time", (b, v) -> b.maxTime(v == null ? null : number("max_time", v)));
        SETTERS.put("prompt_overflow", (b, v) -> b.promptOverflow(promptOverflow(v)));
    }

    /** The names {@link GenerationConfig#fromMap} accepts with meaning. */
    static Set<String> knownNames() {
        return SETTERS.keySet();
    }

    static GenerationConfig fromMap(Map<String, ?> defaults, Map<String, ?> overrides) {
        GenerationConfig.Builder b = GenerationConfig.builder();
        apply(b, defaults);
        apply(b, overrides);
        return b.build();
    }

    private static void apply(GenerationConfig.Builder b, Map<String, ?> m) {
        if (m == null) return;
        for (Map.Entry<String, ?> e : m.entrySet()) {
            String k = e.getKey();
            BiConsumer<GenerationConfig.Builder, Object> setter = SETTERS.get(k);
            if (setter != null) {
                setter.accept(b, e.getValue());
            } else if (UNSUPPORTED.contains(k)) {
                throw new GenerationConfigException(k, "generation parameter '" + k + "' is not supported by gpt2j");
            } else if (!IGNORED.contains(k)) {
                String hint = suggest(k);
                throw new GenerationConfigException(k, "unknown generation parameter '" + k + "'"
                        + (hint == null ? "" : " (did you mean '" + hint + "'?)"));
            }
        }
    }

    static String suggest(String name) {
        String n = name.toLowerCase().replace('-', '_');
        return SETTERS.keySet().stream()
                .map(k -> Map.entry(k, k.equals(n) ? 0 : distance(n, k)))
                .filter(e -> e.getValue() <= Math.max(2, e.getKey().length() / 4))
                .min(Comparator.comparingInt(Map.Entry::getValue)).map(Map.Entry::getKey).orElse(null);
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }

    private static String show(Object v) {
        return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
    }

    private static GenerationConfigException type(String field, Object v, String expected) {
        return new GenerationConfigException(field, "invalid " + field + "=" + show(v) + ": expected " + expected
                + ", got " + (v == null ? "null" : v instanceof List ? "a list" : v instanceof Map ? "an object"
                : v.getClass().getSimpleName().toLowerCase()));
    }

    private static Integer optInt(String f, Object v) {
        return v == null ? null : integer(f, v);
    }

    static int integer(String f, Object v) {
        long l = longValue(f, v);
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) throw type(f, v, "an integer in the int range");
        return (int) l;
    }

    private static long longValue(String f, Object v) {
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
        if (v instanceof java.math.BigInteger bi && bi.bitLength() < 64) return bi.longValue();
        if (v instanceof Number n) {
            double d = n.doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 9e15) return (long) d;
        }
        throw type(f, v, "an integer");
    }

    private static double number(String f, Object v) {
        if (v instanceof Number n && !(v instanceof Boolean)) return n.doubleValue();
        throw type(f, v, "a number");
    }

    private static boolean bool(String f, Object v) {
        if (v instanceof Boolean b) return b;
        throw type(f, v, "true or false");
    }

    private static int[] idList(String f, Object v) {
        if (!(v instanceof List<?> l)) throw type(f, v, "a list of token ids");
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = integer(f, l.get(i));
        return out;
    }

    private static List<int[]> idLists(String f, Object v) {
        if (!(v instanceof List<?> l)) throw type(f, v, "a list of lists of token ids");
        List<int[]> out = new ArrayList<>();
        for (Object o : l) out.add(idList(f, o));
        return out;
    }

    private static List<String> strings(String f, Object v) {
        if (v instanceof String s) return List.of(s);
        if (!(v instanceof List<?> l)) throw type(f, v, "a string or a list of strings");
        List<String> out = new ArrayList<>();
        for (Object o : l) {
            if (!(o instanceof String s)) throw type(f, o, "a string");
            out.add(s);
        }
        return out;
    }

    /**
     * sequence_bias: transformers takes {tuple(ids): bias}, which JSON cannot express; accepted forms are a list of
     * [[ids...], bias] pairs, or an object whose keys are ids separated by commas ("1,2" or "[1, 2]").
     */
    private static Map<List<Integer>, Double> sequenceBias(Object v) {
        Map<List<Integer>, Double> out = new LinkedHashMap<>();
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String key = String.valueOf(e.getKey()).replace("[", "").replace("]", "").replace("(", "").replace(")", "").trim();
                List<Integer> ids = new ArrayList<>();
                for (String part : key.split(",")) {
                    if (part.isBlank()) continue;
                    try {
                        ids.add(Integer.parseInt(part.trim()));
                    } catch (NumberFormatException ex) {
                        throw type("sequence_bias", e.getKey(), "a key of comma-separated token ids");
                    }
                }
                out.put(List.copyOf(ids), number("sequence_bias", e.getValue()));
            }
            return out;
        }
        if (!(v instanceof List<?> l)) throw type("sequence_bias", v, "a list of [[ids...], bias] pairs or an object");
        for (Object o : l) {
            if (!(o instanceof List<?> pair) || pair.size() != 2) throw type("sequence_bias", o, "a [[ids...], bias] pair");
            List<Integer> ids = new ArrayList<>();
            for (int id : idList("sequence_bias", pair.get(0))) ids.add(id);
            out.put(List.copyOf(ids), number("sequence_bias", pair.get(1)));
        }
        return out;
    }

    private static EarlyStopping earlyStopping(Object v) {
        if (v == null || Boolean.FALSE.equals(v)) return EarlyStopping.FALSE;
        if (Boolean.TRUE.equals(v)) return EarlyStopping.TRUE;
        if ("never".equals(v)) return EarlyStopping.NEVER;
        throw new GenerationConfigException("early_stopping", "invalid early_stopping=" + show(v)
                + ": expected true, false or \"never\"");
    }

    private static GenerationConfig.PromptOverflow promptOverflow(Object v) {
        if (v == null || "error".equals(v)) return GenerationConfig.PromptOverflow.ERROR;
        if ("truncate_left".equals(v)) return GenerationConfig.PromptOverflow.TRUNCATE_LEFT;
        throw new GenerationConfigException("prompt_overflow", "invalid prompt_overflow=" + show(v)
                + ": expected \"error\" or \"truncate_left\"");
    }

    static Map<String, Object> toMap(GenerationConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        putIf(m, "max_length", c.maxLength(), null);
        putIf(m, "max_new_tokens", c.maxNewTokens(), null);
        putIf(m, "min_length", c.minLength(), 0);
        putIf(m, "min_new_tokens", c.minNewTokens(), null);
        putIf(m, "do_sample", c.doSample(), false);
        putIf(m, "num_beams", c.numBeams(), 1);
        putIf(m, "num_beam_groups", c.numBeamGroups(), 1);
        putIf(m, "diversity_penalty", c.diversityPenalty(), 0.0);
        putIf(m, "penalty_alpha", c.penaltyAlpha(), null);
        putIf(m, "temperature", c.temperature(), 1.0);
        putIf(m, "top_k", c.topK(), 50);
        putIf(m, "top_p", c.topP(), 1.0);
        putIf(m, "min_p", c.minP(), null);
        putIf(m, "typical_p", c.typicalP(), 1.0);
        putIf(m, "epsilon_cutoff", c.epsilonCutoff(), 0.0);
        putIf(m, "eta_cutoff", c.etaCutoff(), 0.0);
        putIf(m, "repetition_penalty", c.repetitionPenalty(), 1.0);
        putIf(m, "no_repeat_ngram_size", c.noRepeatNgramSize(), 0);
        if (c.badWordsIds() != null) m.put("bad_words_ids", c.badWordsIds().stream().map(ConfigMaps::boxed).toList());
        if (c.suppressTokens() != null) m.put("suppress_tokens", boxed(c.suppressTokens()));
        if (c.sequenceBias() != null) {
            List<Object> pairs = new ArrayList<>();
            c.sequenceBias().forEach((k, v) -> pairs.add(List.of(k, v)));
            m.put("sequence_bias", pairs);
        }
        putIf(m, "length_penalty", c.lengthPenalty(), 1.0);
        if (c.earlyStopping() != EarlyStopping.FALSE) m.put("early_stopping", c.earlyStopping() == EarlyStopping.TRUE ? (Object) true : "never");
        putIf(m, "num_return_sequences", c.numReturnSequences(), 1);
        if (c.eosTokenId() != null) m.put("eos_token_id", c.eosTokenId().length == 1 ? (Object) c.eosTokenId()[0] : boxed(c.eosTokenId()));
        putIf(m, "pad_token_id", c.padTokenId(), null);
        putIf(m, "bos_token_id", c.bosTokenId(), null);
        putIf(m, "renormalize_logits", c.renormalizeLogits(), false);
        putIf(m, "seed", c.seed(), null);
        putIf(m, "stop_strings", c.stopStrings(), null);
        putIf(m, "max_time", c.maxTime(), null);
        if (c.promptOverflow() != GenerationConfig.PromptOverflow.ERROR) m.put("prompt_overflow", "truncate_left");
        return m;
    }

    private static List<Integer> boxed(int[] a) {
        List<Integer> l = new ArrayList<>(a.length);
        for (int x : a) l.add(x);
        return l;
    }

    private static void putIf(Map<String, Object> m, String k, Object v, Object dflt) {
        if (v != null && !v.equals(dflt)) m.put(k, v);
    }
}
