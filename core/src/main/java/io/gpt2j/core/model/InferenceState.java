package io.gpt2j.core.model;

/**
 * Mutable per-batch state owned by one caller: the KV cache of B rows × capacity positions (F32 or F16, see
 * {@link KvDtype}) and the scratch buffers of a forward pass. Rows share a common length (left padding keeps them
 * aligned, as in transformers); padded slots are excluded through the attention mask. Not thread-safe: one
 * generation loop owns it.
 */
public final class InferenceState {
    final Gpt2Config config;
    final int batch;
    final int capacity;
    final KvDtype kvDtype;
    int length;
    /** keys[layer][row]: [NH][capacity][HS], head-major so attention reads each head's keys sequentially; null for F16. */
    final float[][][] keys;
    final float[][][] values;
    /** The same layout as F16 bits (Float.floatToFloat16) when the cache is F16, else null. */
    final short[][][] keysH;
    final short[][][] valuesH;
    /** Attention mask of what the cache holds, [row][capacity]; 1 = attend, 0 = pad. */
    final byte[][] mask;
    Scratch scratch;

    InferenceState(Gpt2Config config, int batch, int capacity, KvDtype kvDtype) {
        if (batch <= 0) throw new IllegalArgumentException("batch must be positive, got " + batch);
        if (capacity <= 0 || capacity > config.nPositions()) {
            throw new IllegalArgumentException("cache capacity " + capacity + " must be in [1, n_positions=" + config.nPositions() + "]");
        }
        if (kvDtype == null) throw new IllegalArgumentException("KV-cache dtype is null (use F32 or F16)");
        this.config = config;
        this.batch = batch;
        this.capacity = capacity;
        this.kvDtype = kvDtype;
        int l = config.nLayer();
        int per = config.nEmbd() * capacity;
        boolean half = kvDtype == KvDtype.F16;
        this.keys = half ? null : new float[l][batch][per];
        this.values = half ? null : new float[l][batch][per];
        this.keysH = half ? new short[l][batch][per] : null;
        this.valuesH = half ? new short[l][batch][per] : null;
        this.mask = new byte[batch][capacity];
    }

    /** Storage type of the keys and values. */
    public KvDtype kvDtype() {
        return kvDtype;
    }

    /** Rows of layer l's keys (a float[][] or short[][]: System.arraycopy and clone work on either). */
    private Object[] keyRows(int l) {
        return keys != null ? keys[l] : keysH[l];
    }

    private Object[] valueRows(int l) {
        return values != null ? values[l] : valuesH[l];
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
        for (int s : src) {
            if (s < 0 || s >= batch) throw new IllegalArgumentException("row index " + s + " out of range [0," + batch + ")");
        }
        for (int l = 0; l < config.nLayer(); l++) {
            permute(keyRows(l), src);
            permute(valueRows(l), src);
        }
        byte[][] m = mask.clone();
        for (int i = 0; i < batch; i++) mask[i] = m[src[i]].clone();
    }

    /** rows[i] := old rows[src[i]]; a row picked twice is copied, rows nobody picked are dropped. */
    private static void permute(Object[] rows, int[] src) {
        Object[] old = rows.clone();
        boolean[] used = new boolean[rows.length];
        for (int i = 0; i < rows.length; i++) {
            Object r = old[src[i]];
            rows[i] = !used[src[i]] ? r : r instanceof float[] f ? f.clone() : ((short[]) r).clone();
            used[src[i]] = true;
        }
    }

    /** A new state holding copies of the given rows (rows may repeat), e.g. to expand a prompt for n samples. */
    public InferenceState gather(int[] rows, int newCapacity) {
        if (newCapacity < length) throw new IllegalArgumentException("capacity " + newCapacity + " < cached length " + length);
        for (int s : rows) {
            if (s < 0 || s >= batch) throw new IllegalArgumentException("row index " + s + " out of range [0," + batch + ")");
        }
        InferenceState out = new InferenceState(config, rows.length, newCapacity, kvDtype);
        int hs = config.headSize(), nh = config.nHead();
        for (int l = 0; l < config.nLayer(); l++) {
            Object[] k = keyRows(l), v = valueRows(l), ok = out.keyRows(l), ov = out.valueRows(l);
            for (int i = 0; i < rows.length; i++) {
                int s = rows[i];
                for (int h = 0; h < nh; h++) {
                    System.arraycopy(k[s], h * capacity * hs, ok[i], h * newCapacity * hs, length * hs);
                    System.arraycopy(v[s], h * capacity * hs, ov[i], h * newCapacity * hs, length * hs);
                }
            }
        }
        for (int i = 0; i < rows.length; i++) System.arraycopy(mask[rows[i]], 0, out.mask[i], 0, length);
        out.length = length;
        return out;
    }

    /** Key of (layer, row, head, pos) as stored: for tests that compare the cache with transformers'. */
    public float key(int layer, int row, int head, int pos, int d) {
        int i = (head * capacity + pos) * config.headSize() + d;
        return keys != null ? keys[layer][row][i] : Float.float16ToFloat(keysH[layer][row][i]);
    }

    public float value(int layer, int row, int head, int pos, int d) {
        int i = (head * capacity + pos) * config.headSize() + d;
        return values != null ? values[layer][row][i] : Float.float16ToFloat(valuesH[layer][row][i]);
    }

    /** Per-forward scratch buffers, grown on demand and then reused (no allocation per decoded token). */
    static final class Scratch {
        final int rows;
        final float[] x, xn, qkv, att, fc, out;
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
