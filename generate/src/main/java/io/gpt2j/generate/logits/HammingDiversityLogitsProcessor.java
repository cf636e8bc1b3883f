package io.gpt2j.generate.logits;

/**
 * transformers' HammingDiversityLogitsProcessor for group (diverse) beam search: a beam of group g loses
 * diversity_penalty × (how often each token was just chosen by the earlier groups of the same prompt).
 * Group beam search sets the step's context ({@link #setStep}) before each group's call.
 */
public final class HammingDiversityLogitsProcessor implements LogitsProcessor {
    private final float penalty;
    private final int numBeams;
    private final int numSubBeams;
    private int[] currentTokens;
    private int groupIdx;

    public HammingDiversityLogitsProcessor(double diversityPenalty, int numBeams, int numBeamGroups) {
        Scores.check(diversityPenalty > 0, "`diversity_penalty` should be a float strictly larger than 0, but is " + diversityPenalty);
        Scores.check(numBeams > 1, "`num_beams` should be an integer strictly larger than 1, but is " + numBeams);
        Scores.check(numBeamGroups > 1 && numBeamGroups <= numBeams, "`num_beam_groups` should be an integer in (1, num_beams], but is " + numBeamGroups);
        this.penalty = (float) diversityPenalty;
        this.numBeams = numBeams;
        this.numSubBeams = numBeams / numBeamGroups;
    }

    /** currentTokens[batch * numBeams]: tokens chosen this step by the groups already processed. */
    public void setStep(int[] currentTokens, int groupIdx) {
        this.currentTokens = currentTokens;
        this.groupIdx = groupIdx;
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        int start = groupIdx * numSubBeams;
        if (start == 0) return;
        int groupSize = Math.min(start + numSubBeams, numBeams) - start;
        int base = (row / groupSize) * numBeams;
        for (int i = 0; i < start; i++) {
            int t = currentTokens[base + i];
            boolean seen = false;
            for (int j = 0; j < i && !seen; j++) seen = currentTokens[base + j] == t;
            if (seen) continue;
            int count = 0;
            for (int j = i; j < start; j++) if (currentTokens[base + j] == t) count++;
            s[off + t] = s[off + t] - penalty * (float) count;
        }
    }
}
