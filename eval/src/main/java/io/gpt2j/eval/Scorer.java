package io.gpt2j.eval;

import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.InferenceState;

/**
 * Runs batches of token sequences through {@link Gpt2} (all positions, left-padded when lengths differ) and hands
 * each scored position's logits to a visitor. Owns a reusable logits buffer, so one instance serves one caller at
 * a time; it never decides what a score means (that is the task's business).
 */
public final class Scorer {
    /** Receives the logits that predict {@code seq[target]}: {@code logits[offset .. offset+V)}. */
    @FunctionalInterface
    public interface PositionVisitor {
        void visit(int row, int target, float[] logits, int offset);
    }

    private final Gpt2 model;
    private final int vocab;
    private float[] logits = new float[0];

    public Scorer(Gpt2 model) {
        this.model = model;
        this.vocab = model.config().vocabSize();
    }

    public Gpt2 model() {
        return model;
    }

    public int vocabSize() {
        return vocab;
    }

    public int contextLength() {
        return model.config().nPositions();
    }

    /**
     * One forward over {@code seqs} as a batch (rows shorter than the longest are left-padded and masked, which
     * reproduces the unpadded row); visits every target index j in [max(1, from[b]), seqs[b].length).
     */
    public void score(int[][] seqs, int[] from, PositionVisitor visitor) {
        int B = seqs.length;
        if (B == 0) return;
        int L = 0;
        boolean ragged = false;
        for (int[] s : seqs) {
            if (s.length == 0) throw new IllegalArgumentException("cannot score an empty sequence");
            if (L != 0 && s.length != L) ragged = true;
            L = Math.max(L, s.length);
        }
        if (L > contextLength()) {
            throw new IllegalArgumentException("sequence of " + L + " tokens exceeds the model's context window n_positions=" + contextLength());
        }
        int[][] tokens = new int[B][L];
        int[][] mask = ragged ? new int[B][L] : null;
        for (int b = 0; b < B; b++) {
            int pad = L - seqs[b].length;
            System.arraycopy(seqs[b], 0, tokens[b], pad, seqs[b].length);
            if (mask != null) for (int t = pad; t < L; t++) mask[b][t] = 1;
        }
        long need = (long) B * L * vocab;
        if (need > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("batch of " + B + " x " + L + " tokens needs " + need + " logits, more than one Java array holds; use a smaller batch");
        }
        if (logits.length < need) logits = new float[(int) need];
        InferenceState state = model.newState(B, L);
        model.forward(state, tokens, null, mask, logits, null, true);
        for (int b = 0; b < B; b++) {
            int pad = L - seqs[b].length;
            for (int j = Math.max(1, from[b]); j < seqs[b].length; j++) {
                visitor.visit(b, j, logits, ((b * L) + pad + j - 1) * vocab);
            }
        }
    }

    /**
     * Like {@link #score} but returns the NLL of every target (out[b][j - first target]), computed on the model's
     * worker pool; each value is computed by one thread, so the result does not depend on the thread count.
     */
    public double[][] nlls(int[][] seqs, int[] from) {
        int B = seqs.length;
        double[][] out = new double[B][];
        int[] first = new int[B], base = new int[B + 1];
        for (int b = 0; b < B; b++) {
            first[b] = Math.max(1, from[b]);
            out[b] = new double[Math.max(0, seqs[b].length - first[b])];
            base[b + 1] = base[b] + out[b].length;
        }
        int L = 0;
        for (int[] s : seqs) L = Math.max(L, s.length);
        final int maxLen = L;
        score(seqs, from, (row, target, logits, off) -> { }); // forward only; logits stay in the buffer
        model.pool().forRange(base[B], 16, (lo, hi) -> {
            int b = 0;
            for (int k = lo; k < hi; k++) {
                while (k >= base[b + 1]) b++;
                int j = first[b] + (k - base[b]);
                int pad = maxLen - seqs[b].length;
                out[b][k - base[b]] = nll(logits, ((b * maxLen) + pad + j - 1) * vocab, vocab, seqs[b][j]);
            }
        });
        return out;
    }

    /** Negative log-likelihood of {@code target} under softmax(logits[off .. off+n)), computed in double. */
    public static double nll(float[] logits, int off, int n, int target) {
        return logSumExp(logits, off, n) - logits[off + target];
    }

    public static double logSumExp(float[] a, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, a[off + i]);
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.exp(a[off + i] - max);
        return max + Math.log(s);
    }

    /** Index of the largest logit (the first one on ties, as torch.argmax does); {@code banned} ids are skipped. */
    public static int argmax(float[] a, int off, int n, boolean[] banned) {
        int best = -1;
        float bv = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (banned != null && banned[i]) continue;
            float v = a[off + i];
            if (best < 0 || v > bv) {
                bv = v;
                best = i;
            }
        }
        return best;
    }
}
