package io.gpt2j.core.model;

import io.gpt2j.core.kernels.Attention;
import io.gpt2j.core.kernels.AttentionF16;
import io.gpt2j.core.kernels.Kernels;
import io.gpt2j.core.kernels.Parallel;

/**
 * The pool tasks of a transformer block that are not matmuls (attention over the KV cache, the MLP activation),
 * as reusable objects: the forward pass sets their operands and hands them to the pool, so a decode step
 * allocates no capturing lambda. One instance per {@link InferenceState.Scratch}; not thread-safe.
 */
final class LayerTasks {
    final Attend attend = new Attend();
    /** Attention for 64-float heads on the vector engine: a task with its own run() so that its compiled body reaches
     *  only Attention.attend4 (one body reaching both attention kernels is too big for C2 to keep them intrinsic:
     *  seen as ~470 bytes allocated per call in the generate module's allocation test). */
    final Attend4 attend4 = new Attend4();
    /** The same two tasks over an F16 cache (AttentionF16), each again with its own compiled body. */
    final AttendH attendH = new AttendH();
    final AttendH4 attendH4 = new AttendH4();
    final Activate activate = new Activate();

    /** Operands shared by every layer of one forward pass (see Gpt2.layers for what the row arrays mean). */
    void begin(InferenceState.Scratch sc, InferenceState[] rowState, int[] rowB, int[] rowSlot, Gpt2Config c, int maxN,
               Kernels.Activation activation) {
        attend.begin(sc, rowState, rowB, rowSlot, c, maxN);
        attend4.begin(sc, rowState, rowB, rowSlot, c, maxN);
        attendH.begin(sc, rowState, rowB, rowSlot, c, maxN);
        attendH4.begin(sc, rowState, rowB, rowSlot, c, maxN);
        activate.fc = sc.fc;
        activate.activation = activation;
    }

    /** Drops the references to the caller's states (decodeBatch passes its own array). */
    void end() {
        attend.rowState = null;
        attend4.rowState = null;
        attendH.rowState = null;
        attendH4.rowState = null;
    }

    /** The attention task for this head size and cache dtype (see attend4); every row of the pass has that dtype. */
    AttendBase attention(int HS, KvDtype kv) {
        boolean reg = Attention.registerPath(HS);
        if (kv == KvDtype.F16) return reg ? attendH4 : attendH;
        return reg ? attend4 : attend;
    }

    /** Attention of (row, head) items [i0, i1): row r = i / NH reads the cache of rowState[r], row rowB[r]. */
    abstract static class AttendBase implements Parallel.RangeTask {
        InferenceState.Scratch sc;
        InferenceState[] rowState;
        int[] rowB, rowSlot;
        int layer, NH, HS, E, maxN;
        float scale;
        /** Scores scratch of rows*NH*maxN floats (item i uses its chunk's slice), or null: one array per chunk. */
        float[] shared;

        void begin(InferenceState.Scratch sc, InferenceState[] rowState, int[] rowB, int[] rowSlot, Gpt2Config c, int maxN) {
            this.sc = sc;
            this.rowState = rowState;
            this.rowB = rowB;
            this.rowSlot = rowSlot;
            this.NH = c.nHead();
            this.HS = c.headSize();
            this.E = c.nEmbd();
            this.maxN = maxN;
        }

        void layer(int layer, float scale, float[] shared) {
            this.layer = layer;
            this.scale = scale;
            this.shared = shared;
        }
    }

    /** Any head size (Attention.attendGeneric). */
    static final class Attend extends AttendBase {
        @Override
        public void run(int i0, int i1) {
            float[] scores = shared != null ? shared : new float[maxN];
            int so = shared != null ? i0 * maxN : 0;
            for (int i = i0; i < i1; i++) {
                int r = i / NH, h = i % NH;
                InferenceState st = rowState[r];
                int n = rowSlot[r] + 1, b = rowB[r];
                Attention.attendGeneric(sc.att, r * E + h * HS, sc.qkv, r * 3 * E + h * HS, st.keys[layer][b],
                        st.values[layer][b], h * st.capacity * HS, st.mask[b], n, HS, scale, scores, so);
            }
        }
    }

    /** Heads of 4 vectors on the vector engine (Attention.attend4); the same loop as Attend, its own compiled body. */
    static final class Attend4 extends AttendBase {
        @Override
        public void run(int i0, int i1) {
            float[] scores = shared != null ? shared : new float[maxN];
            int so = shared != null ? i0 * maxN : 0;
            for (int i = i0; i < i1; i++) {
                int r = i / NH, h = i % NH;
                InferenceState st = rowState[r];
                int n = rowSlot[r] + 1, b = rowB[r];
                Attention.attend4(sc.att, r * E + h * HS, sc.qkv, r * 3 * E + h * HS, st.keys[layer][b],
                        st.values[layer][b], h * st.capacity * HS, st.mask[b], n, scale, scores, so);
            }
        }
    }

    /** Any head size over an F16 cache (AttentionF16.attendGeneric). */
    static final class AttendH extends AttendBase {
        @Override
        public void run(int i0, int i1) {
            float[] scores = shared != null ? shared : new float[maxN];
            int so = shared != null ? i0 * maxN : 0;
            for (int i = i0; i < i1; i++) {
                int r = i / NH, h = i % NH;
                InferenceState st = rowState[r];
                int n = rowSlot[r] + 1, b = rowB[r];
                AttentionF16.attendGeneric(sc.att, r * E + h * HS, sc.qkv, r * 3 * E + h * HS, st.keysH[layer][b],
                        st.valuesH[layer][b], h * st.capacity * HS, st.mask[b], n, HS, scale, scores, so);
            }
        }
    }

    /** Heads of 4 vectors over an F16 cache (AttentionF16.attend4). */
    static final class AttendH4 extends AttendBase {
        @Override
        public void run(int i0, int i1) {
            float[] scores = shared != null ? shared : new float[maxN];
            int so = shared != null ? i0 * maxN : 0;
            for (int i = i0; i < i1; i++) {
                int r = i / NH, h = i % NH;
                InferenceState st = rowState[r];
                int n = rowSlot[r] + 1, b = rowB[r];
                AttentionF16.attend4(sc.att, r * E + h * HS, sc.qkv, r * 3 * E + h * HS, st.keysH[layer][b],
                        st.valuesH[layer][b], h * st.capacity * HS, st.mask[b], n, scale, scores, so);
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
