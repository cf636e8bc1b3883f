package io.gpt2j.core.model;

import io.gpt2j.core.kernels.Attention;
import io.gpt2j.core.kernels.Kernels;
import io.gpt2j.core.kernels.Parallel;

/**
 * The pool tasks of a transformer block that are not matmuls (attention over the KV cache, the MLP activation),
 * as reusable objects: the forward pass sets their operands and hands them to the pool, so a decode step
 * allocates no capturing lambda. One instance per {@link InferenceState.Scratch}; not thread-safe.
 */
final class LayerTasks {
    final Attend attend = new Attend();
    final Activate activate = new Activate();

    /** Operands shared by every layer of one forward pass (see Gpt2.layers for what the row arrays mean). */
    void begin(InferenceState.Scratch sc, InferenceState[] rowState, int[] rowB, int[] rowSlot, Gpt2Config c, int maxN,
               Kernels.Activation activation) {
        attend.sc = sc;
        attend.rowState = rowState;
        attend.rowB = rowB;
        attend.rowSlot = rowSlot;
        attend.NH = c.nHead();
        attend.HS = c.headSize();
        attend.E = c.nEmbd();
        attend.maxN = maxN;
        activate.fc = sc.fc;
        activate.activation = activation;
    }

    /** Drops the references to the caller's states (decodeBatch passes its own array). */
    void end() {
        attend.rowState = null;
    }

    /** Attention of (row, head) items [i0, i1): row r = i / NH reads the cache of rowState[r], row rowB[r]. */
    static final class Attend implements Parallel.RangeTask {
        InferenceState.Scratch sc;
        InferenceState[] rowState;
        int[] rowB, rowSlot;
        int layer, NH, HS, E, maxN;
        float scale;
        /** Scores scratch of rows*NH*maxN floats (item i uses its chunk's slice), or null: one array per chunk. */
        float[] shared;

        void layer(int layer, float scale, float[] shared) {
            this.layer = layer;
            this.scale = scale;
            this.shared = shared;
        }

        @Override
        public void run(int i0, int i1) {
            float[] scores = shared != null ? shared : new float[maxN];
            int so = shared != null ? i0 * maxN : 0;
            for (int i = i0; i < i1; i++) {
                int r = i / NH, h = i % NH;
                InferenceState st = rowState[r];
                int n = rowSlot[r] + 1, b = rowB[r];
                Attention.attend(sc.att, r * E + h * HS, sc.qkv, r * 3 * E + h * HS, st.keys[layer][b], st.values[layer][b],
                        h * st.capacity * HS, st.mask[b], n, HS, scale, scores, so);
            }
        }
    }

    /** The MLP activation, in place over fc[from, to). */
    static final class Activate implements Parallel.RangeTask {
        float[] fc;
        Kernels.Activation activation;

        @Override
        public void run(int from, int to) {
            Kernels.activation(fc, from, to, activation);
        }
    }
}
