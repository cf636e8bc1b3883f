package io.gpt2j.generate;

import io.gpt2j.generate.logits.LogitsProcessorList;
import io.gpt2j.generate.logits.Processors;
import io.gpt2j.generate.logits.Scores;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Greedy search, multinomial sampling and contrastive search, one token per row per step, with transformers
 * 4.38's semantics: processors (then warpers when sampling) on the raw logits, finished rows filled with pad, stop
 * when every row is finished or the length/time limit is hit. Sampling draws from one random stream per
 * (seed, sequence index), so a row's sample does not depend on the batch it runs in or on thread count.
 */
final class TokenSearch {
    private final SearchContext ctx;
    private final GenerationConfig cfg;
    private final int V, P, rows, nrs, finalLen;
    private final int[][] ids, mask;
    private final FinishReason[] reasons;
    private final int[] generated;
    private final boolean[] done;
    private int len;

    TokenSearch(SearchContext ctx) {
        this.ctx = ctx;
        this.cfg = ctx.config();
        this.V = ctx.lm().vocabSize();
        this.P = ctx.promptLength();
        this.nrs = cfg.mode() == GenerationConfig.Mode.SAMPLE ? cfg.numReturnSequences() : 1;
        this.rows = ctx.batch() * nrs;
        this.finalLen = ctx.finalLength();
        this.ids = new int[rows][finalLen];
        this.mask = new int[rows][finalLen];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(ctx.inputIds()[r / nrs], 0, ids[r], 0, P);
            System.arraycopy(ctx.attentionMask()[r / nrs], 0, mask[r], 0, P);
        }
        this.reasons = new FinishReason[rows];
        this.generated = new int[rows];
        this.done = new boolean[rows];
        this.len = P;
    }

    /** Seeded stream of one returned sequence: depends on (seed, sequence index) only. */
    static SplittableRandom stream(long seed, int sequenceIndex) {
        long z = seed * 0x9E3779B97F4A7C15L + (sequenceIndex + 1) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return new SplittableRandom(z ^ (z >>> 31));
    }

    /** Draws an index from softmax(scores[off, off+n)) with one uniform number from {@code rng}. */
    static int sample(float[] s, int off, int n, SplittableRandom rng) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, s[off + i]);
        double total = 0;
        for (int i = 0; i < n; i++) total += Math.exp((double) s[off + i] - max);
        double target = rng.nextDouble() * total, cum = 0;
        int last = -1;
        for (int i = 0; i < n; i++) {
            double p = Math.exp((double) s[off + i] - max);
            if (p == 0) continue;
            cum += p;
            last = i;
            if (cum > target) return i;
        }
        return last;
    }

    RawGeneration run() {
        return cfg.mode() == GenerationConfig.Mode.CONTRASTIVE ? contrastive() : greedyOrSample();
    }

    private RawGeneration greedyOrSample() {
        boolean sampling = cfg.mode() == GenerationConfig.Mode.SAMPLE;
        LogitsProcessorList processors = Processors.processors(cfg, P);
        LogitsProcessorList warpers = sampling ? Processors.warpers(cfg) : null;
        SplittableRandom[] rng = new SplittableRandom[rows];
        if (sampling) {
            long seed = cfg.seed() != null ? cfg.seed() : new java.security.SecureRandom().nextLong();
            for (int r = 0; r < rows; r++) rng[r] = stream(seed, r % nrs);
        }
        int B = ctx.batch();
        CausalLm.Session session = ctx.lm().newSession(B, finalLen - 1);
        float[] prefill = new float[B * V];
        session.forward(ctx.inputIds(), ctx.attentionMask(), prefill, null, false);
        float[] logits = new float[rows * V];
        if (nrs > 1) {
            int[] src = new int[rows];
            for (int r = 0; r < rows; r++) {
                src[r] = r / nrs;
                System.arraycopy(prefill, src[r] * V, logits, r * V, V);
            }
            session = session.gather(src, finalLen - 1);
        } else {
            logits = prefill;
        }
        int[] next = new int[rows];
        int[][] step = new int[rows][1];
        while (true) {
            for (int r = 0; r < rows; r++) {
                processors.process(r, ids[r], len, logits, r * V, V);
                if (sampling) warpers.process(r, ids[r], len, logits, r * V, V);
                ctx.observer().onScores(r, logits, r * V, V);
                if (sampling) {
                    next[r] = done[r] ? ctx.pad() : sample(logits, r * V, V, rng[r]);
                } else {
                    next[r] = done[r] ? ctx.pad() : Scores.argmax(logits, r * V, V);
                }
            }
            if (append(next)) break;
            for (int r = 0; r < rows; r++) step[r][0] = next[r];
            session.decodeStep(step, mask, logits);
        }
        return result();
    }

    /** Appends one token per row, updates finished rows; true when generation must stop. */
    private boolean append(int[] next) {
        for (int r = 0; r < rows; r++) {
            ids[r][len] = next[r];
            mask[r][len] = 1;
            if (done[r]) continue;
            generated[r]++;
            boolean eos = ctx.isEos(next[r]);
            boolean stop = ctx.observer().onToken(r, next[r], eos);
            if (eos) finish(r, FinishReason.EOS);
            else if (stop) finish(r, FinishReason.STOP);
        }
        len++;
        boolean all = true;
        for (boolean d : done) all &= d;
        if (all) return true;
        if (len >= finalLen) {
            for (int r = 0; r < rows; r++) if (!done[r]) finish(r, FinishReason.LENGTH);
            return true;
        }
        if (ctx.timeUp()) {
            for (int r = 0; r < rows; r++) if (!done[r]) finish(r, FinishReason.TIME);
            return true;
        }
        return false;
    }

    private void finish(int r, FinishReason why) {
        done[r] = true;
        reasons[r] = why;
    }

    private RawGeneration result() {
        int[][] seq = new int[rows][];
        for (int r = 0; r < rows; r++) seq[r] = Arrays.copyOf(ids[r], len);
        return new RawGeneration(seq, P, generated, reasons, null);
    }

    static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    /**
     * Contrastive search (penalty_alpha, top_k): among the top_k candidates pick the one maximising
     * (1 - alpha) * p - alpha * max cosine(candidate hidden, every earlier hidden state of the row). As in 4.38, the
     * earlier states include the prompt's padding positions.
     */
    private RawGeneration contrastive() {
        int B = rows, K = cfg.topK(), E = ctx.lm().hiddenSize();
        double alpha = cfg.penaltyAlpha();
        LogitsProcessorList processors = Processors.processors(cfg, P);
        // the candidates of the last step are run through the model too: one more position than greedy
        CausalLm.Session first = ctx.lm().newSession(B, finalLen);
        float[] logits = new float[B * V];
        float[] promptHidden = new float[B * P * E];
        first.forward(ctx.inputIds(), ctx.attentionMask(), logits, promptHidden, true);
        float[][] context = new float[B][finalLen * E];
        for (int b = 0; b < B; b++) System.arraycopy(promptHidden, b * P * E, context[b], 0, P * E);
        int[] expand = new int[B * K];
        for (int i = 0; i < B * K; i++) expand[i] = i / K;
        CausalLm.Session session = first.gather(expand, finalLen);
        float[] probs = new float[V], candLogits = new float[B * K * V], candHidden = new float[B * K * E];
        int[] topIds = new int[B * K];
        float[] topProbs = new float[B * K];
        int[][] step = new int[B * K][1];
        int[] next = new int[B], reorder = new int[B * K];
        while (true) {
            for (int b = 0; b < B; b++) {
                processors.process(b, ids[b], len, logits, b * V, V);
                ctx.observer().onScores(b, logits, b * V, V);
                Scores.softmax(logits, b * V, V, probs);
                topK(probs, V, K, topIds, topProbs, b * K);
                for (int j = 0; j < K; j++) step[b * K + j][0] = topIds[b * K + j];
            }
            for (int b = 0; b < B; b++) mask[b][len] = 1; // the candidates are real tokens
            session.forward(step, SearchContext.maskView(mask, expand, len + 1), candLogits, candHidden, false);
            for (int b = 0; b < B; b++) {
                int sel = select(context[b], len, candHidden, b * K, K, E, topProbs, alpha);
                int row = b * K + sel;
                next[b] = done[b] ? ctx.pad() : topIds[row];
                System.arraycopy(candHidden, row * E, context[b], len * E, E);
                System.arraycopy(candLogits, row * V, logits, b * V, V);
                for (int j = 0; j < K; j++) reorder[b * K + j] = row;
            }
            session.reorder(reorder);
            if (append(next)) break;
        }
        return result();
    }

    /** The K most probable tokens, best first (lower id first on ties), like torch.topk. */
    private static void topK(float[] probs, int V, int K, int[] outIds, float[] outProbs, int off) {
        Arrays.fill(outIds, off, off + K, -1);
        for (int i = 0; i < V; i++) {
            float p = probs[i];
            int pos = K;
            while (pos > 0 && (outIds[off + pos - 1] < 0 || p > outProbs[off + pos - 1])) pos--;
            if (pos == K) continue;
            for (int j = K - 1; j > pos; j--) {
                outIds[off + j] = outIds[off + j - 1];
                outProbs[off + j] = outProbs[off + j - 1];
            }
            outIds[off + pos] = i;
            outProbs[off + pos] = p;
        }
    }

    private static int select(float[] context, int len, float[] cand, int candRow, int K, int E, float[] topProbs, double alpha) {
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < K; j++) {
            int co = (candRow + j) * E;
            double cn = 0;
            for (int e = 0; e < E; e++) cn += (double) cand[co + e] * cand[co + e];
            cn = Math.sqrt(cn);
            double maxCos = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < len; t++) {
                double dot = 0, n = 0;
                for (int e = 0; e < E; e++) {
                    double x = context[t * E + e];
                    dot += x * cand[co + e];
                    n += x * x;
                }
                maxCos = Math.max(maxCos, dot / (Math.sqrt(n) * cn));
            }
            double score = (1.0 - alpha) * topProbs[candRow + j] - alpha * maxCos;
            if (score > bestScore) {
                bestScore = score;
                best = j;
            }
        }
        return best;
    }
}
