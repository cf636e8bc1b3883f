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
    /** Prefill in blocks of queries (Attention.prefill4), over an F32 and an F16 cache. */
    final AttendBlock attendBlock = new AttendBlock();
    final AttendBlockH attendBlockH = new AttendBlockH();
    final Activate activate = new Activate();

    /** Operands shared by every layer of one forward pass (see Gpt2.layers for what the row arrays mean). */
    void begin(InferenceState.Scratch sc, InferenceState[] rowState, int[] rowB, int[] rowSlot, Gpt2Config c, int maxN,
               Kernels.Activation activation) {
        attend.begin(sc, rowState, rowB, rowSlot, c, maxN);
        attend4.begin(sc, rowState, rowB, rowSlot, c, maxN);
        attendH.begin(sc, rowState, rowB, rowSlot, c, maxN);
        attendH4.begin(sc, rowState, rowB, rowSlot, c, maxN);
        attendBlock.begin(sc, rowState, rowB, rowSlot, c, maxN);
        attendBlockH.begin(sc, rowState, rowB, rowSlot, c, maxN);
        activate.fc = sc.fc;
        activate.activation = activation;
    }

    /** Drops the references to the caller's states (decodeBatch passes its own array). */
    void end() {
        attend.rowState = null;
        attend4.rowState = null;
        attendH.rowState = null;
        attendH4.rowState = null;
        attendBlock.rowState = null;
        attendBlockH.rowState = null;
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

    /**
     * The task for prefill in query blocks when every sequence of the pass brings {@code seqT} new rows in consecutive
     * slots (Gpt2.forward), or null when the per-row tasks are the faster choice (few rows, or heads other than 4
     * vectors). Its items are (sequence, query block, head): {@link AttendBlock#items}.
     */
    AttendBlock blockAttention(int HS, KvDtype kv, int seqT) {
        if (seqT < BLOCK_MIN_ROWS || !Attention.registerPath(HS)) return null;
        AttendBlock t = kv == KvDtype.F16 ? attendBlockH : attendBlock;
        t.seqT = seqT;
        t.blocks = (seqT + Attention.QB - 1) / Attention.QB;
        return t;
    }

    /** Rows per sequence from which prefill attention goes by query blocks (see CpuTimeProbe attention-prefill). */
    static final int BLOCK_MIN_ROWS = 8;

    /**
     * Prefill attention by blocks of {@link Attention#QB} queries of one sequence and head. Item i = (sequence,
     * block, head); blocks are visited in the order 0, last, 1, last - 1, ... so that every chunk of consecutive
     * items mixes short and long causal spans and the pool's chunks cost about the same.
     */
    static class AttendBlock extends AttendBase {
        int seqT, blocks;

        int items(int rows) {
            return rows / seqT * blocks * NH;
        }

        @Override
        public void run(int i0, int i1) {
            float[] qT = new float[HS * Attention.QB], sT = new float[maxN * Attention.QB];
            // the F16 task's widened keys and values: per chunk, as the pool runs chunks on several threads at once
            float[] kw = widens() ? new float[maxN * HS] : null, vw = widens() ? new float[maxN * HS] : null;
            for (int i = i0; i < i1; i++) {
                int h = i % NH, k = i / NH, z = k % blocks;
                int block = (z & 1) == 0 ? z / 2 : blocks - 1 - z / 2;
                int r0 = k / blocks * seqT + block * Attention.QB, nq = Math.min(Attention.QB, seqT - block * Attention.QB);
                InferenceState st = rowState[r0];
                int b = rowB[r0];
                block(st, b, r0, nq, h, rowSlot[r0], qT, sT, kw, vw);
            }
        }

        boolean widens() {
            return false;
        }

        void block(InferenceState st, int b, int r0, int nq, int h, int s0, float[] qT, float[] sT, float[] kw, float[] vw) {
            Attention.prefill4(sc.att, r0 * E + h * HS, E, sc.qkv, r0 * 3 * E + h * HS, 3 * E, nq, st.keys[layer][b],
                    st.values[layer][b], h * st.capacity * HS, st.mask[b], s0, scale, qT, sT);
        }
    }

    /** As AttendBlock over an F16 cache: the block's head keys and values [0, s0 + nq) widened to F32 first. */
    static final class AttendBlockH extends AttendBlock {
        @Override
        boolean widens() {
            return true;
        }

        @Override
        void block(InferenceState st, int b, int r0, int nq, int h, int s0, float[] qT, float[] sT, float[] kw, float[] vw) {
            int n = (s0 + nq) * HS, base = h * st.capacity * HS;
            AttentionF16.widen(kw, 0, st.keysH[layer][b], base, n);
            AttentionF16.widen(vw, 0, st.valuesH[layer][b], base, n);
            Attention.prefill4(sc.att, r0 * E + h * HS, E, sc.qkv, r0 * 3 * E + h * HS, 3 * E, nq, kw, vw, 0,
                    st.mask[b], s0, scale, qT, sT);
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
