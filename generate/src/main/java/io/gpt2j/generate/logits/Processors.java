package io.gpt2j.generate.logits;

import io.gpt2j.generate.GenerationConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds the processor and warper chains transformers 4.38 builds in {@code _get_logits_processor} and
 * {@code _get_logits_warper}, in the same order with the same conditions. It decides nothing about search.
 */
public final class Processors {
    private Processors() {
    }

    /**
     * sequence_bias → diversity (group beam search only) → repetition_penalty → no_repeat_ngram → bad_words →
     * min_length → min_new_tokens → suppress_tokens → renormalize.
     *
     * @param promptLength padded prompt length (min_new_tokens counts from there)
     */
    public static LogitsProcessorList processors(GenerationConfig c, int promptLength) {
        List<LogitsProcessor> p = new ArrayList<>();
        int[] eos = c.eosIds();
        if (c.sequenceBias() != null) p.add(new SequenceBiasLogitsProcessor(c.sequenceBias()));
        if (c.diversityPenalty() > 0 && c.numBeamGroups() > 1) {
            p.add(new HammingDiversityLogitsProcessor(c.diversityPenalty(), c.numBeams(), c.numBeamGroups()));
        }
        if (c.repetitionPenalty() != 1.0) p.add(new RepetitionPenaltyLogitsProcessor(c.repetitionPenalty()));
        if (c.noRepeatNgramSize() > 0) p.add(new NoRepeatNGramLogitsProcessor(c.noRepeatNgramSize()));
        if (c.badWordsIds() != null) p.add(new NoBadWordsLogitsProcessor(c.badWordsIds(), eos));
        if (c.minLength() > 0 && eos.length > 0) p.add(new MinLengthLogitsProcessor(c.minLength(), eos));
        if (c.minNewTokens() != null && c.minNewTokens() > 0 && eos.length > 0) {
            p.add(new MinNewTokensLengthLogitsProcessor(promptLength, c.minNewTokens(), eos));
        }
        if (c.suppressTokens() != null) p.add(new SuppressTokensLogitsProcessor(c.suppressTokens()));
        if (c.renormalizeLogits()) p.add(new LogitNormalization());
        return new LogitsProcessorList(p);
    }

    /**
     * temperature → top_k → top_p → min_p → typical_p → epsilon → eta → renormalize; only used when sampling.
     * With beams, every filter keeps at least max(2, 1 + #eos) tokens, as in transformers.
     */
    public static LogitsProcessorList warpers(GenerationConfig c) {
        List<LogitsProcessor> w = new ArrayList<>();
        int keep = c.numBeams() > 1 ? Math.max(2, c.eosIds().length + 1) : 1;
        if (c.temperature() != 1.0) w.add(new TemperatureLogitsWarper(c.temperature()));
        if (c.topK() != 0) w.add(new TopKLogitsWarper(c.topK(), keep));
        if (c.topP() < 1.0) w.add(new TopPLogitsWarper(c.topP(), keep));
        if (c.minP() != null && c.minP() > 0) w.add(new MinPLogitsWarper(c.minP(), keep));
        if (c.typicalP() < 1.0) w.add(new TypicalLogitsWarper(c.typicalP(), keep));
        if (c.epsilonCutoff() > 0 && c.epsilonCutoff() < 1) w.add(new EpsilonLogitsWarper(c.epsilonCutoff(), keep));
        if (c.etaCutoff() > 0 && c.etaCutoff() < 1) w.add(new EtaLogitsWarper(c.etaCutoff(), keep));
        if (c.renormalizeLogits()) w.add(new LogitNormalization());
        return new LogitsProcessorList(w);
    }
}
