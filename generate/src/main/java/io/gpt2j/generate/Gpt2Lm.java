package io.gpt2j.generate;

import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.InferenceState;

/**
 * Adapts the core Gpt2 forward pass (immutable, shareable) to {@link CausalLm}. When all hidden states of a
 * left-padded prefill are asked for (contrastive search), the pad positions get transformers' values
 * ({@link PadHiddenStates}).
 */
public final class Gpt2Lm implements CausalLm {
    private final Gpt2 model;

    public Gpt2Lm(Gpt2 model) {
        this.model = model;
    }

    public Gpt2 model() {
        return model;
    }

    @Override
    public int vocabSize() {
        return model.config().vocabSize();
    }

    @Override
    public int contextLength() {
        return model.config().nPositions();
    }

    @Override
    public int hiddenSize() {
        return model.config().nEmbd();
    }

    @Override
    public Session newSession(int batch, int capacity) {
        return new S(model.newState(batch, capacity));
    }

    private final class S implements Session {
        private final InferenceState state;
        /** Position ids of a decode step, [batch][1], reused. */
        private final int[][] stepPositions;

        S(InferenceState state) {
            this.state = state;
            this.stepPositions = new int[state.batch()][1];
        }

        @Override
        public int batch() {
            return state.batch();
        }

        @Override
        public int length() {
            return state.length();
        }

        @Override
        public void forward(int[][] tokens, int[][] mask, float[] logits, float[] hidden, boolean allHidden) {
            if (!allHidden || tokens[0].length == 1) {
                model.forward(state, tokens, null, mask, logits, hidden, false);
                return;
            }
            // all positions: the model then writes logits for every position too; keep only the last ones
            int b = tokens.length, t = tokens[0].length, v = vocabSize();
            float[] all = logits == null ? null : new float[b * t * v];
            boolean prefill = state.length() == 0;
            model.forward(state, tokens, null, mask, all, hidden, true);
            if (prefill && hidden != null && mask != null) PadHiddenStates.fix(model, state, tokens, mask, hidden);
            if (logits != null) {
                for (int r = 0; r < b; r++) System.arraycopy(all, (r * t + t - 1) * v, logits, r * v, v);
            }
        }

        /**
         * The cache already holds the mask of its positions (forward() copied it), so only the new position matters:
         * a real token (mask 1) gets position cumsum(mask) - 1, as in forward(); a padded one takes the general path.
         */
        @Override
        public void decodeStep(int[][] tokens, int[][] mask, float[] logits) {
            int len = state.length() + 1;
            for (int r = 0; r < mask.length; r++) {
                if (mask[r][len - 1] == 0) {
                    Session.super.decodeStep(tokens, mask, logits);
                    return;
                }
                int real = 0;
                for (int p = 0; p < len; p++) real += mask[r][p] != 0 ? 1 : 0;
                stepPositions[r][0] = real - 1;
            }
            model.forward(state, tokens, stepPositions, null, logits, null, false);
        }

        @Override
        public void reorder(int[] src) {
            state.reorder(src);
        }

        @Override
        public Session gather(int[] rows, int capacity) {
            return new S(state.gather(rows, capacity));
        }
    }
}
