package io.gpt2j.generate;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Field names, defaults, types, value and combination checks of GenerationConfig.fromMap. */
class GenerationConfigTest {
    static GenerationConfigException fails(Map<String, Object> m) {
        return assertThrows(GenerationConfigException.class, () -> GenerationConfig.fromMap(null, m));
    }

    static void failsOn(String field, String valueShown, Map<String, Object> m) {
        GenerationConfigException e = fails(m);
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().contains(valueShown), "message should show " + valueShown + ": " + e.getMessage());
        assertTrue(e instanceof IllegalArgumentException);
    }

    @Test
    void defaultsAreTransformers() {
        GenerationConfig c = GenerationConfig.DEFAULT;
        assertNull(c.maxLength());
        assertEquals(20, c.effectiveMaxLength(5), "no length argument: 20 in total");
        assertEquals(0, c.minLength());
        assertEquals(1, c.numBeams());
        assertEquals(50, c.topK());
        assertEquals(1.0, c.topP());
        assertEquals(1.0, c.temperature());
        assertEquals(EarlyStopping.FALSE, c.earlyStopping());
        assertEquals(GenerationConfig.Mode.GREEDY, c.mode());
        assertEquals(Map.of(), c.toMap());
    }

    @Test
    void generationConfigJsonPlusOverrides() {
        Map<String, Object> file = Map.of("_from_model_config", true, "bos_token_id", 50256L, "eos_token_id", 50256L,
                "transformers_version", "4.38.2");
        GenerationConfig c = GenerationConfig.fromMap(file, Map.of("max_new_tokens", 10, "eos_token_id", List.of(1, 2)));
        assertArrayEquals(new int[]{1, 2}, c.eosTokenId());
        assertEquals(50256, c.bosTokenId());
        assertEquals(10, c.maxNewTokens());
        assertEquals(17, c.effectiveMaxLength(7));
        assertEquals(1, c.effectivePadTokenId(), "pad falls back to the first eos");
        assertEquals(c, GenerationConfig.fromMap(null, c.toMap()), "toMap round-trips");
        Map<String, Object> nulls = new HashMap<>();
        nulls.put("max_new_tokens", null);
        nulls.put("top_p", null);
        assertEquals(GenerationConfig.DEFAULT, GenerationConfig.fromMap(null, nulls), "null means unset");
    }

    @Test
    void modesFollowGetGenerationMode() {
        assertEquals(GenerationConfig.Mode.SAMPLE, GenerationConfig.fromMap(null, Map.of("do_sample", true)).mode());
        assertEquals(GenerationConfig.Mode.CONTRASTIVE, GenerationConfig.fromMap(null, Map.of("penalty_alpha", 0.6, "top_k", 4)).mode());
        assertEquals(GenerationConfig.Mode.GREEDY, GenerationConfig.fromMap(null, Map.of("penalty_alpha", 0.6, "top_k", 1)).mode());
        assertEquals(GenerationConfig.Mode.BEAM_SEARCH, GenerationConfig.fromMap(null, Map.of("num_beams", 2)).mode());
        assertEquals(GenerationConfig.Mode.BEAM_SAMPLE, GenerationConfig.fromMap(null, Map.of("num_beams", 2, "do_sample", true)).mode());
        assertEquals(GenerationConfig.Mode.GROUP_BEAM_SEARCH, GenerationConfig.fromMap(null, Map.of("num_beams", 4, "num_beam_groups", 2)).mode());
    }

    @Test
    void unknownNamesGetASuggestion() {
        GenerationConfigException e = fails(Map.of("max_new_token", 5));
        assertEquals("max_new_token", e.field());
        assertTrue(e.getMessage().contains("did you mean 'max_new_tokens'"), e.getMessage());
        assertTrue(fails(Map.of("temprature", 0.5)).getMessage().contains("'temperature'"));
        assertTrue(fails(Map.of("banana", 1)).getMessage().contains("unknown generation parameter 'banana'"));
        assertTrue(fails(Map.of("forced_eos_token_id", 1)).getMessage().contains("not supported"));
    }

    @Test
    void wrongTypesNameFieldAndValue() {
        failsOn("max_new_tokens", "\"ten\"", Map.of("max_new_tokens", "ten"));
        failsOn("max_new_tokens", "2.5", Map.of("max_new_tokens", 2.5));
        failsOn("do_sample", "\"yes\"", Map.of("do_sample", "yes"));
        failsOn("temperature", "true", Map.of("temperature", true));
        failsOn("eos_token_id", "\"x\"", Map.of("eos_token_id", List.of("x")));
        failsOn("bad_words_ids", "7", Map.of("bad_words_ids", List.of(7)));
        failsOn("early_stopping", "\"sometimes\"", Map.of("early_stopping", "sometimes"));
        assertEquals(5, GenerationConfig.fromMap(null, Map.of("max_new_tokens", 5.0)).maxNewTokens(), "5.0 is an integer");
    }

    @Test
    void invalidValuesAndCombinations() {
        failsOn("top_p", "0.0", Map.of("top_p", 0.0));
        failsOn("top_p", "1.5", Map.of("top_p", 1.5));
        failsOn("temperature", "0.0", Map.of("do_sample", true, "temperature", 0.0));
        GenerationConfig.fromMap(null, Map.of("temperature", 0.0)); // ignored without sampling, as in transformers
        failsOn("max_new_tokens", "0", Map.of("max_new_tokens", 0));
        failsOn("num_return_sequences", "5", Map.of("num_beams", 4, "num_return_sequences", 5));
        failsOn("num_return_sequences", "2", Map.of("num_return_sequences", 2));
        failsOn("num_beam_groups", "3", Map.of("num_beams", 4, "num_beam_groups", 3));
        failsOn("num_beam_groups", "2", Map.of("num_beams", 4, "num_beam_groups", 2, "do_sample", true));
        failsOn("repetition_penalty", "0.0", Map.of("repetition_penalty", 0.0));
        failsOn("typical_p", "0.0", Map.of("typical_p", 0.0));
        failsOn("epsilon_cutoff", "1.0", Map.of("epsilon_cutoff", 1.0));
        failsOn("top_k", "-1", Map.of("top_k", -1));
        failsOn("min_p", "2.0", Map.of("min_p", 2.0));
        failsOn("max_time", "0.0", Map.of("max_time", 0.0));
        failsOn("stop_strings", "[]", Map.of("stop_strings", List.of("")));
        failsOn("bad_words_ids", "[]", Map.of("bad_words_ids", List.of(List.of())));
        failsOn("prompt_overflow", "\"drop\"", Map.of("prompt_overflow", "drop"));
    }

    @Test
    void sequenceBiasAcceptsPairsOrStringKeys() {
        GenerationConfig a = GenerationConfig.fromMap(null, Map.of("sequence_bias", List.of(List.of(List.of(1, 2), -3.5))));
        GenerationConfig b = GenerationConfig.fromMap(null, Map.of("sequence_bias", Map.of("[1, 2]", -3.5)));
        assertEquals(Map.of(List.of(1, 2), -3.5), a.sequenceBias());
        assertEquals(a.sequenceBias(), b.sequenceBias());
        assertEquals(List.of("stop"), GenerationConfig.fromMap(null, Map.of("stop_strings", "stop")).stopStrings());
    }
}
