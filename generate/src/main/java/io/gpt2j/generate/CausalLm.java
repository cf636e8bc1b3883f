package io.gpt2j.generate;

/**
 * What the search loops need from a causal language model: a batched forward over a KV cache that can be reordered
 * (beams) and gathered (shared prefill). {@link Gpt2Lm} adapts io.gpt2j.core's Gpt2; tests plug in small fakes.
 */
public interface CausalLm {
    int vocabSize();

    /** n_positions: the most positions a cache may hold. */
    int contextLength();

    /** Width of the hidden states {@link Session#forward} returns (n_embd). */
    int hiddenSize();

    /** A fresh cache for {@code batch} rows of up to {@code capacity} positions. */
    Session newSession(int batch, int capacity);

    /** One batch's KV cache; owned by one generation loop, not thread-safe. */
    interface Session {
        int batch();

        /** Positions already cached (the same for every row). */
        int length();

        /**
         * Appends T new tokens per row and computes the last position's logits.
         *
         * @param tokens        [B][T]
         * @param attentionMask [B][length() + T]: 1 real, 0 padding; positions derive from it as in generate()
         * @param logits        out [B*V] for the last new position (null to skip)
         * @param hidden        out post-ln_f hidden states: [B*T*E] when allHidden, else [B*E] for the last position; or null
         */
        void forward(int[][] tokens, int[][] attentionMask, float[] logits, float[] hidden, boolean allHidden);

        /**
         * One decode step: appends {@code tokens[r][0]} to row r, as {@link #forward} with row r's mask cut to
         * {@code [0, length() + 1)} would. The rows of {@code mask} may be longer (the search's whole-length mask);
         * only that prefix is read. Implementations may skip the copy: {@link Gpt2Lm} allocates nothing here.
         */
        default void decodeStep(int[][] tokens, int[][] mask, float[] logits) {
            int[][] cut = new int[mask.length][];
            for (int r = 0; r < mask.length; r++) cut[r] = java.util.Arrays.copyOf(mask[r], length() + 1);
            forward(tokens, cut, logits, null, false);
        }

        /** Row i becomes old row src[i] (rows may repeat). */
        void reorder(int[] src);

        /** A new session holding copies of the given rows (rows may repeat). */
        Session gather(int[] rows, int capacity);
    }
}
