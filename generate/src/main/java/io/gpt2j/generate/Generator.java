package io.gpt2j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Text generation with transformers 4.38's semantics over a {@link CausalLm}: several prompts run as one
 * left-padded batch, the strategy follows the config (greedy, sampling, beam search, beam sampling, group beam
 * search, contrastive search), text is streamed to an optional listener. Immutable and thread-safe; every call owns
 * its caches and processors. It knows nothing of HTTP or the command line.
 */
public final class Generator {
    private final CausalLm lm;
    private final Detokenizer detok;

    /** @param detokenizer may be null: then results carry no text and stop_strings are refused */
    public Generator(CausalLm lm, Detokenizer detokenizer) {
        this.lm = lm;
        this.detok = detokenizer;
    }

    /** The usual wiring: core's GPT-2 and its tokenizer. */
    public static Generator forGpt2(io.gpt2j.core.model.Gpt2 model, io.gpt2j.core.tokenizer.Gpt2Tokenizer tokenizer) {
        return new Generator(new Gpt2Lm(model), tokenizer == null ? null : tokenizer::decodeBytes);
    }

    public CausalLm model() {
        return lm;
    }

    /** {@link #generate(List, GenerationConfig, GenerationListener)} without streaming. */
    public List<List<GeneratedSequence>> generate(List<int[]> prompts, GenerationConfig config) {
        return generate(prompts, config, null);
    }

    /**
     * Generates for every prompt (token ids, no padding) num_return_sequences sequences. The prompts run as one
     * left-padded batch (pad = pad_token_id, else eos); with max_new_tokens every prompt gets the same result as
     * alone, while max_length / min_length count the padding too (as in transformers).
     *
     * @return per prompt, its sequences (beam modes: best first)
     * @throws GenerationConfigException when the request cannot run (context overflow, ids outside the vocabulary,
     *                                   stop_strings without a detokenizer)
     */
    public List<List<GeneratedSequence>> generate(List<int[]> prompts, GenerationConfig config, GenerationListener listener) {
        if (prompts.isEmpty()) throw new GenerationConfigException("inputs", "no prompt given");
        if (config.stopStrings() != null && detok == null) {
            throw new GenerationConfigException("stop_strings", "stop_strings need a tokenizer to decode the text");
        }
        List<int[]> ps = fitContext(prompts, config);
        int B = ps.size();
        int[][] mask = new int[B][];
        int[][] ids = leftPad(ps, fillToken(config), mask);
        boolean beams = config.numBeams() > 1;
        int nrs = config.numReturnSequences();
        TextStream[] streams = new TextStream[B * nrs];
        for (int r = 0; r < streams.length; r++) streams[r] = detok == null ? null : new TextStream(detok, config.stopStrings());
        StepObserver observer = beams || detok == null ? StepObserver.NONE : (row, token, isEos) -> {
            if (isEos) return false;
            boolean stop = streams[row].add(token);
            if (listener != null) {
                String d = streams[row].takeDelta(false);
                if (!d.isEmpty()) listener.onText(row / nrs, row % nrs, d);
            }
            return stop;
        };
        RawGeneration raw = run(ids, mask, config, observer);
        List<List<GeneratedSequence>> out = new ArrayList<>();
        for (int b = 0; b < B; b++) {
            List<GeneratedSequence> seqs = new ArrayList<>();
            for (int j = 0; j < nrs; j++) {
                GeneratedSequence g = sequence(raw, b * nrs + j, ps.get(b), streams[b * nrs + j], beams);
                if (listener != null) {
                    TextStream ts = streams[b * nrs + j];
                    String d = ts == null ? "" : ts.takeDelta(true);
                    if (!d.isEmpty()) listener.onText(b, j, d);
                    listener.onFinish(b, j, g);
                }
                seqs.add(g);
            }
            out.add(List.copyOf(seqs));
        }
        return List.copyOf(out);
    }

    /** Left-pads the prompts to the longest with {@code fill}; mask rows are written into {@code maskOut}. */
    private static int[][] leftPad(List<int[]> ps, int fill, int[][] maskOut) {
        int P = 0;
        for (int[] p : ps) {
            if (p.length == 0) throw new GenerationConfigException("inputs", "empty prompt: at least one token is needed");
            P = Math.max(P, p.length);
        }
        int[][] ids = new int[ps.size()][P];
        for (int b = 0; b < ps.size(); b++) {
            int[] p = ps.get(b);
            int off = P - p.length;
            Arrays.fill(ids[b], 0, off, fill);
            System.arraycopy(p, 0, ids[b], off, p.length);
            maskOut[b] = new int[P];
            Arrays.fill(maskOut[b], off, P, 1);
        }
        return ids;
    }

    /** Row r of the raw result as a GeneratedSequence; finishes its text (beams: decoded here, at the end). */
    private static GeneratedSequence sequence(RawGeneration raw, int r, int[] prompt, TextStream ts, boolean beams) {
        int[] newTokens = raw.newTokens(r);
        FinishReason reason = raw.finishReasons()[r];
        String text = null, stop = null;
        if (ts != null) {
            if (beams) {
                int n = newTokens.length - (reason == FinishReason.EOS ? 1 : 0);
                for (int i = 0; i < n && !ts.add(newTokens[i]); i++) {
                    // feed until the text is complete or a stop string shows up
                }
            }
            ts.finish();
            text = ts.text();
            stop = ts.stopString();
            if (stop != null) reason = FinishReason.STOP;
        }
        int[] full = Arrays.copyOf(prompt, prompt.length + newTokens.length);
        System.arraycopy(newTokens, 0, full, prompt.length, newTokens.length);
        Float score = raw.sequenceScores() == null ? null : raw.sequenceScores()[r];
        return new GeneratedSequence(newTokens, full, text, reason, score, stop);
    }

    /**
     * transformers' {@code model.generate(input_ids, attention_mask=..., **kwargs)} on an already padded batch:
     * sequences come back exactly in transformers' layout (padding, pad fill, beam ordering).
     *
     * @param attentionMask [B][P] or null for all ones
     */
    public RawGeneration generateRaw(int[][] inputIds, int[][] attentionMask, GenerationConfig config) {
        return run(inputIds, attentionMask, config, StepObserver.NONE);
    }

    /** As {@link #generateRaw(int[][], int[][], GenerationConfig)}, reporting each step to {@code observer}. */
    public RawGeneration generateRaw(int[][] inputIds, int[][] attentionMask, GenerationConfig config, StepObserver observer) {
        return run(inputIds, attentionMask, config, observer == null ? StepObserver.NONE : observer);
    }

    private RawGeneration run(int[][] inputIds, int[][] attentionMask, GenerationConfig config, StepObserver observer) {
        long start = System.nanoTime();
        int B = inputIds.length;
        if (B == 0) throw new GenerationConfigException("inputs", "no prompt given");
        int P = inputIds[0].length, V = lm.vocabSize();
        int[][] mask = attentionMask;
        if (mask == null) {
            mask = new int[B][P];
            for (int[] m : mask) Arrays.fill(m, 1);
        }
        for (int b = 0; b < B; b++) {
            if (inputIds[b].length != P || mask[b].length != P) {
                throw new GenerationConfigException("inputs", "row " + b + " has length " + inputIds[b].length
                        + " (mask " + mask[b].length + "), row 0 has " + P + ": pad the batch on the left");
            }
            for (int t : inputIds[b]) checkId("inputs", t, V);
        }
        int[] eos = config.eosIds();
        for (int e : eos) checkId("eos_token_id", e, V);
        Integer pad = config.effectivePadTokenId();
        if (pad != null) checkId("pad_token_id", pad, V);
        int maxLength = config.effectiveMaxLength(P);
        int finalLen = Math.max(maxLength, P + 1);
        int needed = finalLen - (config.mode() == GenerationConfig.Mode.CONTRASTIVE ? 0 : 1);
        if (needed > lm.contextLength()) throw overflow(P, finalLen - P, config);
        long deadline = config.maxTime() == null ? Long.MAX_VALUE : start + (long) (config.maxTime() * 1e9);
        SearchContext ctx = new SearchContext(lm, config, inputIds, mask, maxLength, eos, pad == null ? 0 : pad,
                deadline, observer);
        return config.numBeams() > 1 ? new BeamSearch(ctx).run() : new TokenSearch(ctx).run();
    }

    private static void checkId(String field, int id, int V) {
        if (id < 0 || id >= V) {
            throw new GenerationConfigException(field, "invalid " + field + ": token id " + id
                    + " is outside the model's vocabulary [0, " + V + ")");
        }
    }

    private static int fillToken(GenerationConfig c) {
        Integer pad = c.effectivePadTokenId();
        return pad == null ? 0 : pad;
    }

    private GenerationConfigException overflow(int promptLen, int newTokens, GenerationConfig c) {
        String field = c.maxNewTokens() != null ? "max_new_tokens" : "max_length";
        return new GenerationConfigException(field, "prompt of " + promptLen + " tokens + " + newTokens
                + " new tokens exceeds the model's context of " + lm.contextLength() + " positions; shorten the prompt,"
                + " lower " + field + ", or set prompt_overflow=\"truncate_left\"");
    }

    /** Applies prompt_overflow: unchanged when everything fits, else error or left truncation of each prompt. */
    private List<int[]> fitContext(List<int[]> prompts, GenerationConfig c) {
        int P = 0;
        for (int[] p : prompts) P = Math.max(P, p.length);
        int maxLength = c.effectiveMaxLength(P);
        int newTokens = Math.max(maxLength, P + 1) - P;
        int room = lm.contextLength() + (c.mode() == GenerationConfig.Mode.CONTRASTIVE ? 0 : 1);
        if (P + newTokens <= room) return prompts;
        if (c.promptOverflow() == GenerationConfig.PromptOverflow.ERROR) throw overflow(P, newTokens, c);
        int keep = room - newTokens;
        if (keep < 1) {
            throw new GenerationConfigException(c.maxNewTokens() != null ? "max_new_tokens" : "max_length",
                    newTokens + " new tokens do not fit the model's context of " + lm.contextLength()
                            + " positions even with a one-token prompt");
        }
        List<int[]> out = new ArrayList<>();
        for (int[] p : prompts) out.add(p.length > keep ? Arrays.copyOfRange(p, p.length - keep, p.length) : p);
        return out;
    }
}
