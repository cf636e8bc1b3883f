package io.gpt2j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Immutable, validated generation parameters with transformers 4.38's names, defaults and meaning (every
 * GenerationConfig field that applies to GPT-2, plus {@code min_p}/{@code stop_strings} from later versions and
 * two gpt2j extensions, {@code seed} and {@code prompt_overflow}). It only describes a request; it runs nothing.
 * Nullable components mean "not set" exactly where transformers uses None.
 */
public record GenerationConfig(
        Integer maxLength, Integer maxNewTokens, int minLength, Integer minNewTokens,
        boolean doSample, int numBeams, int numBeamGroups, double diversityPenalty, Double penaltyAlpha,
        double temperature, int topK, double topP, Double minP, double typicalP, double epsilonCutoff,
        double etaCutoff, double repetitionPenalty, int noRepeatNgramSize, List<int[]> badWordsIds,
        int[] suppressTokens, Map<List<Integer>, Double> sequenceBias, double lengthPenalty,
        EarlyStopping earlyStopping, int numReturnSequences, int[] eosTokenId, Integer padTokenId,
        Integer bosTokenId, boolean renormalizeLogits, Long seed, List<String> stopStrings, Double maxTime,
        PromptOverflow promptOverflow) {

    /** What to do when prompt + requested new tokens do not fit the model's context (gpt2j extension). */
    public enum PromptOverflow {
        /** Refuse with a {@link GenerationConfigException} (default). */
        ERROR,
        /** Drop the oldest prompt tokens until prompt + new tokens fit. */
        TRUNCATE_LEFT
    }

    /** transformers' defaults: max_length 20 (prompt included), greedy, no eos. */
    public static final GenerationConfig DEFAULT = new Builder().build();

    public GenerationConfig {
        badWordsIds = badWordsIds == null ? null : List.copyOf(badWordsIds.stream().map(int[]::clone).toList());
        suppressTokens = suppressTokens == null ? null : suppressTokens.clone();
        sequenceBias = sequenceBias == null ? null : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sequenceBias));
        eosTokenId = eosTokenId == null ? null : eosTokenId.clone();
        stopStrings = stopStrings == null ? null : List.copyOf(stopStrings);
        Objects.requireNonNull(earlyStopping, "earlyStopping");
        Objects.requireNonNull(promptOverflow, "promptOverflow");
        // record fields are assigned after this body, so validate the parameters through a builder snapshot
        Builder b = new Builder();
        b.maxLength = maxLength;
        b.maxNewTokens = maxNewTokens;
        b.minLength = minLength;
        b.minNewTokens = minNewTokens;
        b.doSample = doSample;
        b.numBeams = numBeams;
        b.numBeamGroups = numBeamGroups;
        b.diversityPenalty = diversityPenalty;
        b.penaltyAlpha = penaltyAlpha;
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.minP = minP;
        b.typicalP = typicalP;
        b.epsilonCutoff = epsilonCutoff;
        b.etaCutoff = etaCutoff;
        b.repetitionPenalty = repetitionPenalty;
        b.noRepeatNgramSize = noRepeatNgramSize;
        b.badWordsIds = badWordsIds;
        b.suppressTokens = suppressTokens;
        b.sequenceBias = sequenceBias;
        b.lengthPenalty = lengthPenalty;
        b.earlyStopping = earlyStopping;
        b.numReturnSequences = numReturnSequences;
        b.eosTokenId = eosTokenId;
        b.padTokenId = padTokenId;
        b.bosTokenId = bosTokenId;
        b.renormalizeLogits = renormalizeLogits;
        b.seed = seed;
        b.stopStrings = stopStrings;
        b.maxTime = maxTime;
        b.promptOverflow = promptOverflow;
        ConfigValidation.validate(b);
    }

    /** The generation modes of transformers 4.38 that apply to GPT-2. */
    public enum Mode { GREEDY, SAMPLE, CONTRASTIVE, BEAM_SEARCH, BEAM_SAMPLE, GROUP_BEAM_SEARCH }

    /** transformers' {@code GenerationConfig.get_generation_mode()}. */
    public Mode mode() {
        return toBuilder().mode();
    }

    /**
     * Total length limit (prompt + padding + new tokens) for a batch whose padded prompt length is
     * {@code promptLength}: max_new_tokens wins when set, else max_length (20 when nothing is given).
     */
    public int effectiveMaxLength(int promptLength) {
        if (maxNewTokens != null) return promptLength + maxNewTokens;
        return maxLength != null ? maxLength : 20;
    }

    /** The eos ids as a list, empty when unset. */
    public int[] eosIds() {
        return eosTokenId == null ? new int[0] : eosTokenId.clone();
    }

    /** pad_token_id, else the first eos id (what generate() does, without its warning), else null. */
    public Integer effectivePadTokenId() {
        if (padTokenId != null) return padTokenId;
        return eosTokenId != null && eosTokenId.length > 0 ? eosTokenId[0] : null;
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds a config from generation_config.json values ({@code defaults}, may be null) overridden by a request's
     * parameters ({@code overrides}, may be null). Keys are transformers' snake_case names; a JSON null means unset.
     *
     * @throws GenerationConfigException for an unknown or unsupported name, a wrong type, or an invalid value
     */
    public static GenerationConfig fromMap(Map<String, ?> defaults, Map<String, ?> overrides) {
        return ConfigMaps.fromMap(defaults, overrides);
    }

    /** Every field name {@link #fromMap} accepts with meaning (transformers' snake_case names), in a stable order. */
    public static java.util.Set<String> fieldNames() {
        return java.util.Collections.unmodifiableSet(ConfigMaps.knownNames());
    }

    /** The non-default fields as a map with transformers' names (round-trips through {@link #fromMap}). */
    public Map<String, Object> toMap() {
        return ConfigMaps.toMap(this);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationConfig g && toMap().equals(g.toMap());
    }

    @Override
    public int hashCode() {
        return toMap().hashCode();
    }

    @Override
    public String toString() {
        return "GenerationConfig" + toMap();
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        Integer maxLength, maxNewTokens, minNewTokens, padTokenId, bosTokenId;
        int minLength = 0, numBeams = 1, numBeamGroups = 1, topK = 50, noRepeatNgramSize = 0, numReturnSequences = 1;
        boolean doSample, renormalizeLogits;
        double diversityPenalty = 0, temperature = 1.0, topP = 1.0, typicalP = 1.0, epsilonCutoff = 0, etaCutoff = 0,
                repetitionPenalty = 1.0, lengthPenalty = 1.0;
        Double penaltyAlpha, minP, maxTime;
        List<int[]> badWordsIds;
        int[] suppressTokens, eosTokenId;
        Map<List<Integer>, Double> sequenceBias;
        EarlyStopping earlyStopping = EarlyStopping.FALSE;
        Long seed;
        List<String> stopStrings;
        PromptOverflow promptOverflow = PromptOverflow.ERROR;

        Builder() {
        }

        Builder(GenerationConfig c) {
            maxLength = c.maxLength; maxNewTokens = c.maxNewTokens; minLength = c.minLength; minNewTokens = c.minNewTokens;
            doSample = c.doSample; numBeams = c.numBeams; numBeamGroups = c.numBeamGroups;
            diversityPenalty = c.diversityPenalty; penaltyAlpha = c.penaltyAlpha; temperature = c.temperature;
            topK = c.topK; topP = c.topP; minP = c.minP; typicalP = c.typicalP; epsilonCutoff = c.epsilonCutoff;
            etaCutoff = c.etaCutoff; repetitionPenalty = c.repetitionPenalty; noRepeatNgramSize = c.noRepeatNgramSize;
            badWordsIds = c.badWordsIds; suppressTokens = c.suppressTokens; sequenceBias = c.sequenceBias;
            lengthPenalty = c.lengthPenalty; earlyStopping = c.earlyStopping; numReturnSequences = c.numReturnSequences;
            eosTokenId = c.eosTokenId; padTokenId = c.padTokenId; bosTokenId = c.bosTokenId;
            renormalizeLogits = c.renormalizeLogits; seed = c.seed; stopStrings = c.stopStrings; maxTime = c.maxTime;
            promptOverflow = c.promptOverflow;
        }

        public Builder maxLength(Integer v) { maxLength = v; return this; }
        public Builder maxNewTokens(Integer v) { maxNewTokens = v; return this; }
        public Builder minLength(int v) { minLength = v; return this; }
        public Builder minNewTokens(Integer v) { minNewTokens = v; return this; }
        public Builder doSample(boolean v) { doSample = v; return this; }
        public Builder numBeams(int v) { numBeams = v; return this; }
        public Builder numBeamGroups(int v) { numBeamGroups = v; return this; }
        public Builder diversityPenalty(double v) { diversityPenalty = v; return this; }
        public Builder penaltyAlpha(Double v) { penaltyAlpha = v; return this; }
        public Builder temperature(double v) { temperature = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder topP(double v) { topP = v; return this; }
        public Builder minP(Double v) { minP = v; return this; }
        public Builder typicalP(double v) { typicalP = v; return this; }
        public Builder epsilonCutoff(double v) { epsilonCutoff = v; return this; }
        public Builder etaCutoff(double v) { etaCutoff = v; return this; }
        public Builder repetitionPenalty(double v) { repetitionPenalty = v; return this; }
        public Builder noRepeatNgramSize(int v) { noRepeatNgramSize = v; return this; }
        public Builder badWordsIds(List<int[]> v) { badWordsIds = v == null ? null : new ArrayList<>(v); return this; }
        public Builder suppressTokens(int... v) { suppressTokens = v; return this; }
        public Builder sequenceBias(Map<List<Integer>, Double> v) { sequenceBias = v; return this; }
        public Builder lengthPenalty(double v) { lengthPenalty = v; return this; }
        public Builder earlyStopping(EarlyStopping v) { earlyStopping = v; return this; }
        public Builder numReturnSequences(int v) { numReturnSequences = v; return this; }
        public Builder eosTokenId(int... v) { eosTokenId = v; return this; }
        public Builder padTokenId(Integer v) { padTokenId = v; return this; }
        public Builder bosTokenId(Integer v) { bosTokenId = v; return this; }
        public Builder renormalizeLogits(boolean v) { renormalizeLogits = v; return this; }
        public Builder seed(Long v) { seed = v; return this; }
        public Builder stopStrings(List<String> v) { stopStrings = v; return this; }
        public Builder maxTime(Double v) { maxTime = v; return this; }
        public Builder promptOverflow(PromptOverflow v) { promptOverflow = v; return this; }

        /** transformers' generation mode for the values set so far. */
        GenerationConfig.Mode mode() {
            if (numBeams == 1) {
                if (!doSample) return topK > 1 && penaltyAlpha != null && penaltyAlpha > 0 ? Mode.CONTRASTIVE : Mode.GREEDY;
                return Mode.SAMPLE;
            }
            if (numBeamGroups > 1) return Mode.GROUP_BEAM_SEARCH;
            return doSample ? Mode.BEAM_SAMPLE : Mode.BEAM_SEARCH;
        }

        public GenerationConfig build() {
            return new GenerationConfig(maxLength, maxNewTokens, minLength, minNewTokens, doSample, numBeams,
                    numBeamGroups, diversityPenalty, penaltyAlpha, temperature, topK, topP, minP, typicalP,
                    epsilonCutoff, etaCutoff, repetitionPenalty, noRepeatNgramSize, badWordsIds, suppressTokens,
                    sequenceBias, lengthPenalty, earlyStopping, numReturnSequences, eosTokenId, padTokenId, bosTokenId,
                    renormalizeLogits, seed, stopStrings, maxTime, promptOverflow);
        }
    }

    static String ids(int[] a) {
        return Arrays.toString(a);
    }
}
