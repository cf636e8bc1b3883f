package io.gpt2j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * A tiny deterministic stand-in for a language model: each row's logits and hidden state are a function of the
 * row's real (unmasked) tokens only, so left padding and batch composition cannot change a row's result.
 */
final class FakeLm implements CausalLm {
    private final int vocab, context, hidden;
    /** (real tokens so far, logits out[vocab]). */
    private final BiConsumer<int[], float[]> logitsFn;
    int forwards;

    FakeLm(int vocab, int context, BiConsumer<int[], float[]> logitsFn) {
        this.vocab = vocab;
        this.context = context;
        this.hidden = 8;
        this.logitsFn = logitsFn;
    }

    /** Pseudo-random N(0, 3²)-ish logits hashed from the whole real history. */
    static FakeLm hashed(int vocab, int context) {
        return new FakeLm(vocab, context, (hist, out) -> {
            long h = 1469598103934665603L;
            for (int t : hist) h = (h ^ t) * 1099511628211L;
            java.util.SplittableRandom r = new java.util.SplittableRandom(h);
            for (int v = 0; v < out.length; v++) out[v] = (float) (r.nextDouble() * 6 - 3);
        });
    }

    /** Logits that make script[k] the clear favourite after k generated tokens (prompt of promptLen real tokens). */
    static FakeLm scripted(int vocab, int promptLen, int... script) {
        return new FakeLm(vocab, 256, (hist, out) -> {
            Arrays.fill(out, 0f);
            int k = hist.length - promptLen;
            out[script[Math.min(k, script.length - 1)]] = 10f;
        });
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int contextLength() {
        return context;
    }

    @Override
    public int hiddenSize() {
        return hidden;
    }

    @Override
    public Session newSession(int batch, int capacity) {
        List<List<int[]>> rows = new ArrayList<>();
        for (int b = 0; b < batch; b++) rows.add(new ArrayList<>());
        return new S(rows, capacity);
    }

    private final class S implements Session {
        List<List<int[]>> rows; // per row: {token, mask} per position
        final int capacity;

        S(List<List<int[]>> rows, int capacity) {
            this.rows = rows;
            this.capacity = capacity;
        }

        @Override
        public int batch() {
            return rows.size();
        }

        @Override
        public int length() {
            return rows.get(0).size();
        }

        @Override
        public void forward(int[][] tokens, int[][] mask, float[] logits, float[] hid, boolean allHidden) {
            forwards++;
            int past = length(), T = tokens[0].length;
            if (past + T > capacity) throw new IllegalArgumentException("context overflow " + (past + T) + " > " + capacity);
            float[] buf = new float[vocab];
            for (int b = 0; b < rows.size(); b++) {
                if (mask[b].length != past + T) throw new IllegalArgumentException("mask length " + mask[b].length);
                for (int t = 0; t < T; t++) {
                    rows.get(b).add(new int[]{tokens[b][t], mask[b][past + t]});
                    if (hid != null && (allHidden || t == T - 1)) {
                        int off = allHidden ? (b * T + t) * hidden : b * hidden;
                        logitsFn.accept(real(b), buf);
                        System.arraycopy(buf, 0, hid, off, hidden);
                    }
                }
                if (logits != null) {
                    logitsFn.accept(real(b), buf);
                    System.arraycopy(buf, 0, logits, b * vocab, vocab);
                }
            }
        }

        private int[] real(int b) {
            return rows.get(b).stream().filter(p -> p[1] != 0).mapToInt(p -> p[0]).toArray();
        }

        @Override
        public void reorder(int[] src) {
            List<List<int[]>> n = new ArrayList<>();
            for (int s : src) n.add(new ArrayList<>(rows.get(s)));
            rows = n;
        }

        @Override
        public Session gather(int[] idx, int cap) {
            List<List<int[]>> n = new ArrayList<>();
            for (int s : idx) n.add(new ArrayList<>(rows.get(s)));
            return new S(n, cap);
        }
    }
}
