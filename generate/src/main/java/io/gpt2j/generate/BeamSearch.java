package io.gpt2j.generate;

import io.gpt2j.generate.logits.HammingDiversityLogitsProcessor;
import io.gpt2j.generate.logits.LogitsProcessor;
import io.gpt2j.generate.logits.LogitsProcessorList;
import io.gpt2j.generate.logits.Processors;
import io.gpt2j.generate.logits.Scores;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Beam search, beam sampling and group (diverse) beam search as transformers 4.38 runs them: processors act on
 * log_softmax(logits) (warpers too when sampling), then the beam's running score is added; per prompt and group the
 * top max(2, 1 + #eos) × group_size candidates go to the {@link BeamScorer}. The prompt is prefilled once and its
 * cache gathered num_beams times. One instance runs one search (not thread-safe).
 */
final class BeamSearch {
    private final SearchContext ctx;
    private final GenerationConfig cfg;
    private final int V, P, B, nb, G, gs, rows, finalLen;

    BeamSearch(SearchContext ctx) {
        this.ctx = ctx;
        this.cfg = ctx.config();
        this.V = ctx.lm().vocabSize();
        this.P = ctx.promptLength();
        this.B = ctx.batch();
        this.nb = cfg.numBeams();
        this.G = cfg.numBeamGroups();
        this.gs = nb / G;
        this.rows = B * nb;
        this.finalLen = ctx.finalLength();
    }

    // per-call state, set up by prepare()
    private boolean sampling;
    private LogitsProcessorList processors, warpers;
    private HammingDiversityLogitsProcessor hamming;
    private SplittableRandom[] rng;
    private int[] eos;
    private BeamScorer scorer;
    private int[][] ids, mask, gIds, candTokens, candBeams;
    private float[] beamScores, logits, gScores, outScores;
    private float[][] candScores;
    private int[] outTokens, outSrc, current, reorder;
    private int len;

    RawGeneration run() {
        CausalLm.Session session = prepare();
        int[][] step = new int[rows][1];
        boolean timeUp = false;
        while (true) {
            int[][] newIds = new int[rows][];
            for (int g = 0; g < G; g++) stepGroup(g, newIds);
            for (int r = 0; r < rows; r++) {
                ids[r] = newIds[r];
                mask[r][len] = 1;
            }
            len++;
            session.reorder(reorder);
            if (scorer.isDone() || len >= finalLen) break;
            if (ctx.timeUp()) {
                timeUp = true;
                break;
            }
            for (int r = 0; r < rows; r++) step[r][0] = current[r];
            session.forward(step, SearchContext.maskView(mask, TokenSearch.identity(rows), len), logits, null, false);
        }
        RawGeneration out = scorer.finalize(ids, len, beamScores, eos, ctx.pad());
        if (timeUp) {
            FinishReason[] fr = out.finishReasons();
            for (int i = 0; i < fr.length; i++) if (fr[i] == FinishReason.LENGTH) fr[i] = FinishReason.TIME;
        }
        return out;
    }

    /** Builds processors, scorer and buffers, prefills the prompts once and gathers the cache num_beams times. */
    private CausalLm.Session prepare() {
        sampling = cfg.mode() == GenerationConfig.Mode.BEAM_SAMPLE;
        processors = Processors.processors(cfg, P);
        warpers = sampling ? Processors.warpers(cfg) : null;
        for (LogitsProcessor p : processors.processors()) if (p instanceof HammingDiversityLogitsProcessor h) hamming = h;
        rng = new SplittableRandom[B];
        if (sampling) {
            long seed = cfg.seed() != null ? cfg.seed() : new java.security.SecureRandom().nextLong();
            for (int b = 0; b < B; b++) rng[b] = TokenSearch.stream(seed, 0);
        }
        eos = ctx.eos();
        int nKeep = Math.max(2, 1 + eos.length) * gs;
        scorer = new BeamScorer(B, nb, G, cfg.lengthPenalty(), cfg.earlyStopping(), cfg.numReturnSequences(), P, ctx.maxLength());
        ids = new int[rows][finalLen];
        mask = new int[rows][finalLen];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(ctx.inputIds()[r / nb], 0, ids[r], 0, P);
            System.arraycopy(ctx.attentionMask()[r / nb], 0, mask[r], 0, P);
        }
        beamScores = new float[rows];
        for (int r = 0; r < rows; r++) beamScores[r] = (r % nb) % gs == 0 ? 0f : -1e9f;
        int groupRows = B * gs;
        gScores = new float[groupRows * V];
        gIds = new int[groupRows][];
        candScores = new float[B][nKeep];
        candTokens = new int[B][nKeep];
        candBeams = new int[B][nKeep];
        outScores = new float[groupRows];
        outTokens = new int[groupRows];
        outSrc = new int[groupRows];
        current = new int[rows];
        reorder = new int[rows];
        len = P;

        CausalLm.Session first = ctx.lm().newSession(B, finalLen - 1);
        float[] prefill = new float[B * V];
        first.forward(ctx.inputIds(), ctx.attentionMask(), prefill, null, false);
        int[] expand = new int[rows];
        logits = new float[rows * V];
        for (int r = 0; r < rows; r++) {
            expand[r] = r / nb;
            System.arraycopy(prefill, expand[r] * V, logits, r * V, V);
        }
        return first.gather(expand, finalLen - 1);
    }

    /** One step of group g: score its beams, pick candidates per prompt, let the scorer choose, record new rows. */
    private void stepGroup(int g, int[][] newIds) {
        if (hamming != null) hamming.setStep(current, g);
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < gs; i++) {
                int row = b * nb + g * gs + i, local = b * gs + i;
                gIds[local] = ids[row];
                System.arraycopy(logits, row * V, gScores, local * V, V);
                Scores.logSoftmax(gScores, local * V, V);
                processors.process(local, ids[row], len, gScores, local * V, V);
                if (sampling) warpers.process(local, ids[row], len, gScores, local * V, V);
                float add = beamScores[row];
                for (int v = 0; v < V; v++) gScores[local * V + v] += add;
            }
            if (sampling) sampleCandidates(gScores, b, rng[b], candScores[b], candTokens[b], candBeams[b]);
            else topCandidates(gScores, b, candScores[b], candTokens[b], candBeams[b]);
        }
        scorer.process(g, gIds, len, candScores, candTokens, candBeams, eos, ctx.pad(), outScores, outTokens, outSrc);
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < gs; i++) {
                int local = b * gs + i, row = b * nb + g * gs + i;
                int srcLocal = outSrc[local];
                int src = (srcLocal / gs) * nb + g * gs + srcLocal % gs;
                newIds[row] = ids[src].clone();
                newIds[row][len] = outTokens[local];
                beamScores[row] = outScores[local];
                current[row] = outTokens[local];
                reorder[row] = src;
            }
        }
    }

    /** torch.topk over the group's gs × V scores of prompt b, best first (lower flat index first on ties). */
    private void topCandidates(float[] s, int b, float[] outScores, int[] outTokens, int[] outBeams) {
        int k = outScores.length, base = b * gs * V, n = gs * V;
        int[] idx = new int[k];
        Arrays.fill(idx, -1);
        int filled = 0;
        for (int i = 0; i < n; i++) {
            float v = s[base + i];
            if (filled == k && !(v > outScores[k - 1])) continue;
            int j = filled < k ? filled : k - 1;
            while (j > 0 && v > outScores[j - 1]) {
                outScores[j] = outScores[j - 1];
                idx[j] = idx[j - 1];
                j--;
            }
            outScores[j] = v;
            idx[j] = i;
            if (filled < k) filled++;
        }
        for (int j = 0; j < k; j++) {
            outTokens[j] = idx[j] % V;
            outBeams[j] = idx[j] / V;
        }
    }

    /** torch.multinomial(softmax(scores), k) without replacement, then sorted by score, best first. */
    private void sampleCandidates(float[] s, int b, SplittableRandom rng, float[] outScores, int[] outTokens, int[] outBeams) {
        int k = outScores.length, base = b * gs * V, n = gs * V;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, s[base + i]);
        double[] w = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) total += w[i] = Math.exp((double) s[base + i] - max);
        int[] picked = new int[k];
        for (int j = 0; j < k; j++) {
            double target = rng.nextDouble() * total, cum = 0;
            int choice = -1;
            for (int i = 0; i < n; i++) {
                if (w[i] == 0) continue;
                cum += w[i];
                choice = i;
                if (cum > target) break;
            }
            if (choice < 0) throw new IllegalStateException("beam sampling needs " + k + " candidates with non-zero probability");
            picked[j] = choice;
            total -= w[choice];
            w[choice] = 0;
        }
        Integer[] order = new Integer[k];
        for (int j = 0; j < k; j++) order[j] = j;
        Arrays.sort(order, (x, y) -> Float.compare(s[base + picked[y]], s[base + picked[x]]));
        for (int j = 0; j < k; j++) {
            int i = picked[order[j]];
            outScores[j] = s[base + i];
            outTokens[j] = i % V;
            outBeams[j] = i / V;
        }
    }
}
