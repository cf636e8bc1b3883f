package io.gpt2j.generate;

/**
 * The value and combination checks of a {@link GenerationConfig}: where transformers 4.38 raises (or would build a
 * processor that raises), so do we, naming the field and the value. Checks that need the vocabulary size happen at
 * generation time in the processors. It must not silently fix values.
 */
final class ConfigValidation {
    private ConfigValidation() {
    }

    static void validate(GenerationConfig.Builder c) {
        if (c.maxLength != null && c.maxLength <= 0) bad("max_length", c.maxLength, "must be a positive integer");
        if (c.maxNewTokens != null && c.maxNewTokens <= 0) bad("max_new_tokens", c.maxNewTokens, "must be greater than 0");
        if (c.minLength < 0) bad("min_length", c.minLength, "must be a non-negative integer");
        if (c.minNewTokens != null && c.minNewTokens < 0) bad("min_new_tokens", c.minNewTokens, "must be a non-negative integer");
        if (c.numBeams < 1) bad("num_beams", c.numBeams, "must be a positive integer");
        if (c.numBeamGroups < 1) bad("num_beam_groups", c.numBeamGroups, "must be a positive integer");
        if (c.numBeams % c.numBeamGroups != 0) {
            throw new GenerationConfigException("num_beam_groups", "num_beams (=" + c.numBeams
                    + ") must be divisible by num_beam_groups (=" + c.numBeamGroups + ")");
        }
        if (c.numBeamGroups > 1 && c.doSample) {
            throw new GenerationConfigException("num_beam_groups", "diverse beam search (num_beam_groups="
                    + c.numBeamGroups + ") cannot be used with do_sample=true");
        }
        finite("diversity_penalty", c.diversityPenalty);
        if (c.diversityPenalty < 0) bad("diversity_penalty", c.diversityPenalty, "must be >= 0");
        if (c.penaltyAlpha != null && !(c.penaltyAlpha >= 0 && c.penaltyAlpha <= 1)) {
            bad("penalty_alpha", c.penaltyAlpha, "must be in [0, 1]");
        }
        finite("temperature", c.temperature);
        if (c.doSample && c.temperature <= 0) {
            bad("temperature", c.temperature, "has to be a strictly positive float when do_sample=true"
                    + " (for greedy decoding set do_sample=false)");
        }
        if (c.temperature < 0) bad("temperature", c.temperature, "must be >= 0");
        if (c.topK < 0) bad("top_k", c.topK, "must be a non-negative integer (0 disables it)");
        if (!(c.topP > 0 && c.topP <= 1)) bad("top_p", c.topP, "must be in (0, 1]");
        if (c.minP != null && !(c.minP >= 0 && c.minP <= 1)) bad("min_p", c.minP, "must be in [0, 1]");
        if (!(c.typicalP > 0 && c.typicalP <= 1)) bad("typical_p", c.typicalP, "must be in (0, 1]");
        if (!(c.epsilonCutoff >= 0 && c.epsilonCutoff < 1)) bad("epsilon_cutoff", c.epsilonCutoff, "must be in [0, 1)");
        if (!(c.etaCutoff >= 0 && c.etaCutoff < 1)) bad("eta_cutoff", c.etaCutoff, "must be in [0, 1)");
        finite("repetition_penalty", c.repetitionPenalty);
        if (c.repetitionPenalty <= 0) bad("repetition_penalty", c.repetitionPenalty, "has to be a strictly positive float");
        if (c.noRepeatNgramSize < 0) bad("no_repeat_ngram_size", c.noRepeatNgramSize, "must be a non-negative integer");
        finite("length_penalty", c.lengthPenalty);
        if (c.numReturnSequences < 1) bad("num_return_sequences", c.numReturnSequences, "must be a positive integer");
        GenerationConfig.Mode mode = c.mode();
        if ((mode == GenerationConfig.Mode.GREEDY || mode == GenerationConfig.Mode.CONTRASTIVE) && c.numReturnSequences > 1) {
            throw new GenerationConfigException("num_return_sequences", "num_return_sequences has to be 1 when doing "
                    + mode.name().toLowerCase() + " search, but is " + c.numReturnSequences
                    + " (set do_sample=true or num_beams >= num_return_sequences)");
        }
        if (c.numBeams > 1 && c.numReturnSequences > c.numBeams) {
            throw new GenerationConfigException("num_return_sequences", "num_return_sequences (=" + c.numReturnSequences
                    + ") has to be smaller or equal to num_beams (=" + c.numBeams + ")");
        }
        if (c.eosTokenId != null) {
            if (c.eosTokenId.length == 0) bad("eos_token_id", "[]", "must be an id or a non-empty list of ids");
            for (int id : c.eosTokenId) if (id < 0) bad("eos_token_id", GenerationConfig.ids(c.eosTokenId), "ids must be >= 0");
        }
        if (c.padTokenId != null && c.padTokenId < 0) bad("pad_token_id", c.padTokenId, "must be >= 0");
        if (c.bosTokenId != null && c.bosTokenId < 0) bad("bos_token_id", c.bosTokenId, "must be >= 0");
        if (c.badWordsIds != null) {
            for (int[] seq : c.badWordsIds) {
                if (seq.length == 0) bad("bad_words_ids", "[]", "entries must be non-empty lists of token ids");
                for (int id : seq) if (id < 0) bad("bad_words_ids", GenerationConfig.ids(seq), "token ids must be >= 0");
            }
        }
        if (c.suppressTokens != null) {
            for (int id : c.suppressTokens) if (id < 0) bad("suppress_tokens", GenerationConfig.ids(c.suppressTokens), "token ids must be >= 0");
        }
        if (c.sequenceBias != null) {
            c.sequenceBias.forEach((k, v) -> {
                if (k.isEmpty()) bad("sequence_bias", k, "sequences must be non-empty");
                for (int id : k) if (id < 0) bad("sequence_bias", k, "token ids must be >= 0");
                if (v == null || Double.isNaN(v)) bad("sequence_bias", k + ": " + v, "biases must be numbers");
            });
        }
        if (c.stopStrings != null) {
            for (String s : c.stopStrings) if (s == null || s.isEmpty()) bad("stop_strings", c.stopStrings, "entries must be non-empty strings");
        }
        if (c.maxTime != null && !(c.maxTime > 0)) bad("max_time", c.maxTime, "must be a positive number of seconds");
    }

    private static void finite(String field, double v) {
        if (!Double.isFinite(v)) bad(field, v, "must be a finite number");
    }

    static void bad(String field, Object value, String why) {
        throw new GenerationConfigException(field, "invalid " + field + "=" + value + ": " + why);
    }
}
