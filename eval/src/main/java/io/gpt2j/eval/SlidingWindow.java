package io.gpt2j.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * The window plan of transformers' "Perplexity of fixed-length models" recipe: for begin in range(0, n, stride),
 * end = min(begin + max_length, n), trg_len = end - prev_end, stop once end == n. Pure arithmetic, no model.
 */
public final class SlidingWindow {
    private SlidingWindow() {
    }

    /**
     * One window: tokens [begin, end), of which the last {@code trgLen} are targets; {@code nScored} is how many
     * targets are actually scored after the label shift (the window's first token has no prediction).
     */
    public record Window(int begin, int end, int trgLen) {
        public int length() {
            return end - begin;
        }

        /** Index inside the window of the first scored target (at least 1: position 0 is never predicted). */
        public int firstTarget() {
            return Math.max(1, length() - trgLen);
        }

        public int nScored() {
            return length() - firstTarget();
        }
    }

    public static List<Window> plan(int n, int maxLength, int stride) {
        if (n < 2) throw new IllegalArgumentException("need at least 2 tokens to score, got " + n);
        if (maxLength < 2) throw new IllegalArgumentException("--max-length must be >= 2, got " + maxLength);
        if (stride < 1 || stride > maxLength) {
            throw new IllegalArgumentException("--stride must be in [1, max-length=" + maxLength + "], got " + stride);
        }
        List<Window> out = new ArrayList<>();
        int prevEnd = 0;
        for (int begin = 0; begin < n; begin += stride) {
            int end = Math.min(begin + maxLength, n);
            out.add(new Window(begin, end, end - prevEnd));
            prevEnd = end;
            if (end == n) break;
        }
        return out;
    }
}
