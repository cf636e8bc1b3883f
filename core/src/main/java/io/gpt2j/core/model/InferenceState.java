package io.gpt2j.core.model;

/**
 * Mutable per-batch state owned by one caller: the KV cache of B rows × capacity positions and the scratch
 * buffers of a forward pass. Rows share a common length (left padding keeps them aligned, as in transformers);
 * padded slots are excluded through the attention mask. Not thread-safe: one generation loop owns it.
 */
public final class InferenceState {
    final Gpt2Config config;
    final int batch;
    final int capacity;
    int length;
    /** keys[layer][row]: [NH][capacity][HS], head-major so attention reads each head's keys sequentially. */
    final float[][][] keys;
    final float[][][] values;
    /** Attention mask of what the cache holds, [row][capacity]; 1 = attend, 0 = pad. */
    final byte[][] mask;
    Scratch scratch;

    InferenceState(Gpt2Config config, int batch, int capacity) {
        if (batch <= 0) throw new IllegalArgumentException("batch must be positive, got " + batch);
        if (capacity <= 0 || capacity > config.nPositions()) {
            throw new IllegalArgumentException("cache capacity " + capacity + " must be in [1, n_positions=" + config.nPositions() + "]");
        }
        this.config = config;
        this.batch = batch;
        this.capacity = capacity;
        int l = config.nLayer();
        this.keys = new float[l][batch][];
        this.values = new float[l][batch][];
        int per = config.nEmbd() * capacity;
        for (int i = 0; i < l; i++) {
            for (int b = 0; b < batch; b++) {
                keys[i][b] = new float[per];
                values[i][b] = new float[per];
            }
        }
        this.mask = new byte[batch][capacity];
    }

    public int batch() {
        return batch;
    }

    public int capacity() {
        return capacity;
    }

    /** Positions already in the cache (the same for every row). */
    public int length() {
        return length;
    }

    /** Room left in the cache. */
    public int remaining() {
        return capacity - length;
    }

    /** Forgets everything (the buffers are kept for reuse). */
    public void reset() {
        length = 0;
    }

    /** In-place row permutation for beam search: row i becomes the old row src[i] (rows may repeat). */
    public void reorder(int[] src) {
        if (src.length != batch) throw new IllegalArgumentException("reorder needs " + batch + " row indices, got " + src.length);
        int n = length * config.headSize();
        for (int l = 0; l < keys.length; l++) {
            float[][] k = keys[l].clone(), v = values[l].clone();
            float[][] nk = new float[batch][], nv = new float[batch][];
            boolean[] used = new boolean[batch];
            for (int i = 0; i < batch; i++) {
                int s = src[i];
                if (s < 0 || s >= batch) throw new IllegalArgumentException("row index " + s + " out of range [0," + batch + ")");
                if (!used[s]) {
                    used[s] = true;
                    nk[i] = k[s];
                    nv[i] = v[s];
                } else {
                    nk[i] = k[s].clone();
                    nv[i] = v[s].clone();
                }
            }
            // buffers of rows nobody picked are dropped; copies were made for repeated picks
            keys[l] = nk;
            values[l] = nv;
        }
        byte[][] m = mask.clone();
        for (int i = 0; i < batch; i++) mask[i] = m[src[i]].clone();
        if (n < 0) throw new AssertionError();
    }

    /** A new state holding copies of the given rows (rows may repeat), e.g. to expand a prompt for n samples. */
    public InferenceState gather(int[] rows, int newCapacity) {
        if (newCapacity < length) throw new IllegalArgumentException("capacity " + newCapacity + " < cached length " + length);
        InferenceState out = new InferenceState(config, rows.length, newCapacity);
        int hs = config.headSize(), nh = config.nHead();
        for (int l = 0; l < keys.length; l++) {
            for (int i = 0; i < rows.length; i++) {
                int s = rows[i];
                for (int h = 0; h < nh; h++) {
                    System.arraycopy(keys[l][s], h * capacity * hs, out.keys[l][i], h * newCapacity * hs, length * hs);
                    System.arraycopy(values[l][s], h * capacity * hs, out.values[l][i], h * newCapacity * hs, length * hs);
                }
            }
        }
        for (int i = 0; i < rows.length; i++) System.arraycopy(mask[rows[i]], 0, out.mask[i], 0, length);
        out.length = length;
        return out;
    }

    /** Key of (layer, row, head, pos) as stored: for tests that compare the cache with transformers'. */
    public float key(int layer, int row, int head, int pos, int d) {
        return keys[layer][row][(head * capacity + pos) * config.headSize() + d];
    }

    public float value(int layer, int row, int head, int pos, int d) {
        return values[layer][row][(head * capacity + pos) * config.headSize() + d];
    }

    /** Per-forward scratch buffers, grown on demand and then reused (no allocation per decoded token). */
    static final class Scratch {
        final int rows;
        final float[] x, xn, qkv, att, attOut, fc, out;
        private float[] scores;
        /** Scratch of the matmuls (partial sums, widened weight panels), grown on first use. */
        final io.gpt2j.core.kernels.TypedMatMul.Work work = new io.gpt2j.core.kernels.TypedMatMul.Work();
        /** The non-matmul pool tasks of a block, reused by every layer and step. */
        final LayerTasks tasks = new LayerTasks();
        /** Per row of the forward pass: its state, its row in that state's cache, its cache slot. */
        final InferenceState[] rowState;
        final int[] rowB, rowSlot;
        /** Position ids [B][T] derived from the mask when the caller gives none; grown on demand. */
        private int[][] positions = new int[0][];

        Scratch(Gpt2Config c, int rows, int capacity) {
            this.rows = rows;
            int e = c.nEmbd();
            x = new float[rows * e];
            xn = new float[rows * e];
            qkv = new float[rows * 3 * e];
            attOut = new float[rows * e];
            att = new float[rows * e];
            fc = new float[rows * c.nInner()];
            out = new float[rows * e];
            scores = new float[0];
            rowState = new InferenceState[rows];
            rowB = new int[rows];
            rowSlot = new int[rows];
        }

        /** Position-id scratch of at least B rows of T (grown once per shape, then reused). */
        int[][] positions(int B, int T) {
            if (positions.length < B || positions[0].length < T) positions = new int[B][T];
            return positions;
        }

        /**
         * Attention scores scratch of at least n floats. When it must grow it takes {@code full} floats at once (the
         * size at full cache capacity), so a decode loop, whose n grows by one position per step, allocates once.
         */
        float[] scores(int n, int full) {
            if (scores.length < n) scores = new float[Math.max(n, full)];
            return scores;
        }
    }
}
