package io.gpt2j.generate;

/**
 * Everything one batched search needs, resolved once: the left-padded input, the total length limit, eos/pad ids,
 * the deadline and the observer. Built by {@link Generator}; the search loops never change it.
 */
record SearchContext(CausalLm lm, GenerationConfig config, int[][] inputIds, int[][] attentionMask, int maxLength,
                     int[] eos, int pad, long deadlineNanos, StepObserver observer) {

    int batch() {
        return inputIds.length;
    }

    int promptLength() {
        return inputIds[0].length;
    }

    /** The final length of every row: max_length, but at least one new token (transformers always takes one step). */
    int finalLength() {
        return Math.max(maxLength, promptLength() + 1);
    }

    boolean isEos(int token) {
        for (int e : eos) if (e == token) return true;
        return false;
    }

    boolean timeUp() {
        return deadlineNanos != Long.MAX_VALUE && System.nanoTime() - deadlineNanos > 0;
    }

    /** Mask rows for a forward over cached + new positions: row r's mask over [0, len). */
    static int[][] maskView(int[][] mask, int[] rowOf, int len) {
        int[][] out = new int[rowOf.length][];
        for (int i = 0; i < rowOf.length; i++) out[i] = java.util.Arrays.copyOf(mask[rowOf[i]], len);
        return out;
    }
}
