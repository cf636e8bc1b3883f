package io.gpt2j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * transformers 4.38's BeamSearchScorer and BeamHypotheses: collects finished hypotheses per (prompt, beam group),
 * decides when a prompt is done (early_stopping true / false / "never") and assembles the final sequences.
 * Scores are sum of log-probs / generated_len ** length_penalty, where generated_len excludes the prompt.
 */
final class BeamScorer {
    /** One finished hypothesis: tokens without the eos that ended it (if any). */
    record Hyp(double score, int[] tokens, boolean eos) {
    }

    private final class Hypotheses {
        final List<Hyp> beams = new ArrayList<>();
        double worst = 1e9;

        void add(int[] tokens, double sumLogprobs, int generatedLen, boolean eos) {
            double score = sumLogprobs / Math.pow(generatedLen, lengthPenalty);
            if (beams.size() < groupSize || score > worst) {
                beams.add(new Hyp(score, tokens, eos));
                if (beams.size() > groupSize) {
                    // stable sort by score; drop the lowest, the new worst is the second lowest
                    Integer[] order = new Integer[beams.size()];
                    for (int i = 0; i < order.length; i++) order[i] = i;
                    Arrays.sort(order, Comparator.comparingDouble(i -> beams.get(i).score()));
                    double second = beams.get(order[1]).score();
                    beams.remove((int) order[0]);
                    worst = second;
                } else {
                    worst = Math.min(score, worst);
                }
            }
        }

        boolean isDone(double bestSumLogprobs, int curLen) {
            if (beams.size() < groupSize) return false;
            return switch (earlyStopping) {
                case TRUE -> true;
                case FALSE -> worst >= bestSumLogprobs / Math.pow(curLen - promptLen, lengthPenalty);
                case NEVER -> {
                    int denom = lengthPenalty > 0 ? maxLength - promptLen : curLen - promptLen;
                    yield worst >= bestSumLogprobs / Math.pow(denom, lengthPenalty);
                }
            };
        }
    }

    private final int batch, numBeams, groups, groupSize, hypsToKeep, promptLen, maxLength;
    private final double lengthPenalty;
    private final EarlyStopping earlyStopping;
    private final Hypotheses[] hyps;
    private final boolean[] done;

    BeamScorer(int batch, int numBeams, int groups, double lengthPenalty, EarlyStopping earlyStopping,
               int hypsToKeep, int promptLen, int maxLength) {
        this.batch = batch;
        this.numBeams = numBeams;
        this.groups = groups;
        this.groupSize = numBeams / groups;
        this.lengthPenalty = lengthPenalty;
        this.earlyStopping = earlyStopping;
        this.hypsToKeep = hypsToKeep;
        this.promptLen = promptLen;
        this.maxLength = maxLength;
        if (earlyStopping == EarlyStopping.NEVER && lengthPenalty > 0 && maxLength <= promptLen) {
            throw new GenerationConfigException("max_length", "early_stopping=\"never\" with length_penalty > 0 needs "
                    + "max_length (=" + maxLength + ") greater than the prompt length (=" + promptLen + ")");
        }
        this.hyps = new Hypotheses[batch * groups];
        for (int i = 0; i < hyps.length; i++) hyps[i] = new Hypotheses();
        this.done = new boolean[batch * groups];
    }

    boolean isDone() {
        for (boolean d : done) if (!d) return false;
        return true;
    }

    /**
     * One step for one group. Candidates per prompt b are sorted best first; index = group-local beam (0..groupSize).
     * groupIds[b * groupSize + i] are the group's sequences of length {@code len} (before this step's token).
     * Outputs (group-local rows b * groupSize + i): next scores, tokens and source beams (group-local rows).
     */
    void process(int group, int[][] groupIds, int len, float[][] candScores, int[][] candTokens, int[][] candBeams,
                 int[] eos, int pad, float[] outScores, int[] outTokens, int[] outSrc) {
        int curLen = len + 1;
        for (int b = 0; b < batch; b++) {
            int bg = b * groups + group;
            if (done[bg]) {
                for (int i = 0; i < groupSize; i++) {
                    outScores[b * groupSize + i] = 0;
                    outTokens[b * groupSize + i] = pad;
                    outSrc[b * groupSize + i] = 0;
                }
                continue;
            }
            int beamIdx = 0;
            for (int rank = 0; rank < candTokens[b].length; rank++) {
                int tok = candTokens[b][rank];
                int src = b * groupSize + candBeams[b][rank];
                if (contains(eos, tok)) {
                    if (rank >= groupSize) continue;
                    hyps[bg].add(Arrays.copyOf(groupIds[src], len), candScores[b][rank], curLen - promptLen, true);
                } else {
                    outScores[b * groupSize + beamIdx] = candScores[b][rank];
                    outTokens[b * groupSize + beamIdx] = tok;
                    outSrc[b * groupSize + beamIdx] = src;
                    beamIdx++;
                }
                if (beamIdx == groupSize) break;
            }
            if (beamIdx < groupSize) {
                throw new IllegalStateException("at most " + candTokens[b].length + " candidates for " + groupSize
                        + " beams: every candidate was an eos token");
            }
            double best = Double.NEGATIVE_INFINITY;
            for (float s : candScores[b]) best = Math.max(best, s);
            done[bg] = done[bg] || hyps[bg].isDone(best, curLen);
        }
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) if (x == v) return true;
        return false;
    }

    /**
     * Adds the open beams of unfinished prompts, then keeps the best num_return_sequences per prompt.
     * ids/beamScores are indexed by global row b * numBeams + beam.
     */
    RawGeneration finalize(int[][] ids, int len, float[] beamScores, int[] eos, int pad) {
        for (int bg = 0; bg < hyps.length; bg++) {
            if (done[bg]) continue;
            for (int i = 0; i < groupSize; i++) {
                int row = bg * groupSize + i;
                hyps[bg].add(Arrays.copyOf(ids[row], len), beamScores[row], len - promptLen, false);
            }
        }
        int n = batch * hypsToKeep;
        Hyp[] best = new Hyp[n];
        int maxLen = 0;
        for (int b = 0; b < batch; b++) {
            List<Hyp> cand = new ArrayList<>();
            for (int g = 0; g < groups; g++) cand.addAll(hyps[b * groups + g].beams);
            List<Hyp> sorted = new ArrayList<>(cand);
            sorted.sort(Comparator.comparingDouble(Hyp::score)); // stable, like Python's sorted
            for (int j = 0; j < hypsToKeep; j++) {
                Hyp h = sorted.remove(sorted.size() - 1);
                best[b * hypsToKeep + j] = h;
                maxLen = Math.max(maxLen, h.tokens().length);
            }
        }
        int outLen = Math.min(maxLen + 1, maxLength);
        int[][] seq = new int[n][outLen];
        int[] generated = new int[n];
        FinishReason[] reasons = new FinishReason[n];
        float[] scores = new float[n];
        for (int i = 0; i < n; i++) {
            Hyp h = best[i];
            int l = h.tokens().length;
            Arrays.fill(seq[i], pad);
            System.arraycopy(h.tokens(), 0, seq[i], 0, l);
            if (l < outLen) seq[i][l] = eos.length > 0 ? eos[0] : pad;
            generated[i] = l - promptLen + (h.eos() ? 1 : 0);
            reasons[i] = h.eos() ? FinishReason.EOS : FinishReason.LENGTH;
            scores[i] = (float) h.score();
        }
        return new RawGeneration(seq, promptLen, generated, reasons, scores);
    }
}
