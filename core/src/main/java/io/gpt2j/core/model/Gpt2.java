package io.gpt2j.core.model;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.AttentionF16;
import io.gpt2j.core.kernels.Kernels;
import io.gpt2j.core.kernels.MatMul;
import io.gpt2j.core.kernels.TypedMatMul;
import io.gpt2j.core.kernels.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * GPT-2 forward pass over a batch with a KV cache, exactly as transformers' GPT2LMHeadModel computes it.
 * Immutable and shared across threads; all mutable data lives in the caller's {@link InferenceState}.
 * It knows nothing of sampling or generation. Weights stored as F16/BF16 are widened to F32 once, off-heap.
 * The model's {@link KvDtype} is the storage type of the caches {@link #newState(int, int)} makes.
 */
public final class Gpt2 {
    private final Gpt2Config config;
    private final Gpt2Weights weights;
    private final Parallel pool;
    private final Kernels.Activation activation;
    private final MemorySegment wte, wpe, lnFw, lnFb, lmHead;
    private final DType wteType, lmHeadType;
    private final List<Block> blocks;
    private final KvDtype kvDtype;
    /** Most attention-score floats kept as per-item slices in the scratch (4 MB). */
    private static final int SLICED_SCORES = 1 << 20;

    private record Block(MemorySegment ln1w, MemorySegment ln1b, MemorySegment attnW, MemorySegment attnB,
                         MemorySegment projW, MemorySegment projB, MemorySegment ln2w, MemorySegment ln2b,
                         MemorySegment fcW, MemorySegment fcB, MemorySegment mlpW, MemorySegment mlpB,
                         DType attnT, DType projT, DType fcT, DType mlpT) {
    }

    /** A model whose caches are F32 (exact: what transformers caches). */
    public Gpt2(Gpt2Config config, Gpt2Weights weights, Parallel pool) {
        this(config, weights, pool, KvDtype.F32);
    }

    /** A model whose caches ({@link #newState(int, int)}) store keys and values as {@code kvDtype}. */
    public Gpt2(Gpt2Config config, Gpt2Weights weights, Parallel pool, KvDtype kvDtype) {
        if (kvDtype == null) throw new IllegalArgumentException("KV-cache dtype is null (use F32 or F16)");
        this.kvDtype = kvDtype;
        this.config = config;
        this.weights = weights;
        this.pool = pool;
        this.activation = Kernels.Activation.of(config.activationFunction());
        Arena arena = Arena.ofAuto();
        this.wte = typed(weights.wte());
        this.wteType = weights.wte().dtype();
        this.wpe = f32(weights.wpe(), arena);
        this.lnFw = f32(weights.lnFWeight(), arena);
        this.lnFb = f32(weights.lnFBias(), arena);
        this.lmHead = weights.tied() ? wte : typed(weights.lmHead());
        this.lmHeadType = weights.tied() ? wteType : weights.lmHead().dtype();
        List<Block> bs = new ArrayList<>();
        for (Gpt2Weights.Layer l : weights.h()) {
            bs.add(new Block(f32(l.ln1Weight(), arena), f32(l.ln1Bias(), arena), typed(l.cAttnWeight()),
                    f32(l.cAttnBias(), arena), typed(l.attnCProjWeight()), f32(l.attnCProjBias(), arena),
                    f32(l.ln2Weight(), arena), f32(l.ln2Bias(), arena), typed(l.cFcWeight()), f32(l.cFcBias(), arena),
                    typed(l.mlpCProjWeight()), f32(l.mlpCProjBias(), arena),
                    l.cAttnWeight().dtype(), l.attnCProjWeight().dtype(), l.cFcWeight().dtype(), l.mlpCProjWeight().dtype()));
        }
        this.blocks = List.copyOf(bs);
        if (blocks.size() != config.nLayer()) {
            throw new IllegalArgumentException("weights have " + blocks.size() + " layers, config n_layer is " + config.nLayer());
        }
    }

    /** Matmul weights stay in their stored dtype; the typed kernels widen panels on the fly. */
    private static MemorySegment typed(Tensor t) {
        return switch (t.dtype()) {
            case F32, F16, BF16, Q8_0, Q8_0_T, F16_T, BF16_T -> t.data();
            default -> throw new IllegalArgumentException("tensor " + t.name() + ": dtype " + t.dtype() + " has no matmul kernel");
        };
    }

    /** Small tensors (biases, layer norms, wpe) are widened to F32 once; they are a few MB at most. */
    private static MemorySegment f32(Tensor t, Arena arena) {
        if (t.dtype() == DType.F32) return t.data();
        if (t.dtype() != DType.F16 && t.dtype() != DType.BF16) {
            throw new IllegalArgumentException("tensor " + t.name() + ": dtype " + t.dtype() + " is not supported by the F32 engine");
        }
        long n = t.numel();
        MemorySegment out = arena.allocate(n * 4, 64);
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) out.setAtIndex(f, i, t.getFloat(i));
        return out;
    }

    public Gpt2Config config() {
        return config;
    }

    public Gpt2Weights weights() {
        return weights;
    }

    public Parallel pool() {
        return pool;
    }

    /** Storage type of the caches {@link #newState(int, int)} makes. */
    public KvDtype kvDtype() {
        return kvDtype;
    }

    /** A fresh cache for {@code batch} rows of up to {@code capacity} tokens (≤ n_positions), in the model's KV dtype. */
    public InferenceState newState(int batch, int capacity) {
        return new InferenceState(config, batch, capacity, kvDtype);
    }

    /** A fresh cache storing keys and values as {@code kvDtype}. */
    public InferenceState newState(int batch, int capacity, KvDtype kvDtype) {
        return new InferenceState(config, batch, capacity, kvDtype);
    }

    /**
     * Runs T new tokens per row after what {@code state} holds and appends them to the cache.
     *
     * @param tokens        [B][T] new token ids (same T for every row)
     * @param positions     [B][T] position ids, or null: derived from the mask as generate() does
     *                      ({@code cumsum(mask) - 1}, pads get 1), or {@code past + i} when the mask is null too
     * @param attentionMask [B][past + T] 1 = real token, 0 = padding, covering the cache and the new tokens; null = all 1
     * @param logits        out: [B][T][V] when allPositions, else [B][V] (last new position); null to skip the LM head
     * @param hidden        out: post-ln_f hidden states, [B][T][E] or [B][E]; null when not wanted
     * @throws IllegalArgumentException on context overflow (past + T > capacity) or malformed inputs, with the numbers
     */
    public void forward(InferenceState state, int[][] tokens, int[][] positions, int[][] attentionMask,
                        float[] logits, float[] hidden, boolean allPositions) {
        final int B = state.batch, past = state.length, E = config.nEmbd(), V = config.vocabSize();
        if (tokens.length != B) throw new IllegalArgumentException("tokens has " + tokens.length + " rows, the state has " + B);
        final int T = tokens[0].length;
        if (T == 0) throw new IllegalArgumentException("no new tokens given");
        if (past + T > state.capacity) {
            throw new IllegalArgumentException("context overflow: " + past + " cached + " + T + " new tokens exceed the "
                    + (state.capacity == config.nPositions() ? "model's context window n_positions=" : "cache capacity ")
                    + state.capacity);
        }
        final int rows = B * T;
        InferenceState.Scratch sc = scratch(state, rows);
        int[][] pos = resolvePositions(state, tokens, positions, attentionMask, T, sc);
        for (int b = 0; b < B; b++) {
            if (tokens[b].length != T) throw new IllegalArgumentException("row " + b + " has " + tokens[b].length + " tokens, row 0 has " + T);
            for (int t = 0; t < T; t++) {
                int id = tokens[b][t];
                if (id < 0 || id >= V) throw new IllegalArgumentException("token id " + id + " (row " + b + ", index " + t + ") is outside the vocabulary [0, " + V + ")");
                int p = pos[b][t];
                if (p < 0 || p >= config.nPositions()) throw new IllegalArgumentException("position id " + p + " is outside [0, n_positions=" + config.nPositions() + ")");
            }
        }
        int outRows = allPositions ? B * T : B;
        if (logits != null && logits.length < (long) outRows * V) throw new IllegalArgumentException("logits buffer holds " + logits.length + " floats, needs " + (long) outRows * V);
        if (hidden != null && hidden.length < (long) outRows * E) throw new IllegalArgumentException("hidden buffer holds " + hidden.length + " floats, needs " + (long) outRows * E);

        // mask of the cache including the new tokens
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                int m = attentionMask == null ? 1 : attentionMask[b][past + t];
                state.mask[b][past + t] = (byte) (m != 0 ? 1 : 0);
            }
            if (attentionMask != null) {
                for (int p = 0; p < past; p++) state.mask[b][p] = (byte) (attentionMask[b][p] != 0 ? 1 : 0);
            }
        }

        InferenceState[] rowState = sc.rowState;
        int[] rowB = sc.rowB, rowSlot = sc.rowSlot;
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                int r = b * T + t;
                Kernels.embed(sc.x, r * E, wte, wteType, wpe, tokens[b][t], pos[b][t], E);
                rowState[r] = state;
                rowB[r] = b;
                rowSlot[r] = past + t;
            }
        }
        layers(sc, rows, T, rowState, rowB, rowSlot);
        final float[] x = sc.x;
        final float eps = config.layerNormEpsilon();
        state.length = past + T;

        // final layer norm on the rows we output, then the LM head
        float[] h = sc.xn;
        if (allPositions) {
            Kernels.layerNorm(h, x, lnFw, lnFb, rows, E, eps);
        } else {
            for (int b = 0; b < B; b++) {
                System.arraycopy(x, (b * T + T - 1) * E, sc.out, b * E, E);
            }
            Kernels.layerNorm(h, sc.out, lnFw, lnFb, B, E, eps);
        }
        if (hidden != null) System.arraycopy(h, 0, hidden, 0, outRows * E);
        if (logits != null) TypedMatMul.linearT(logits, h, lmHead, lmHeadType, outRows, E, V, pool, sc.work);
    }

    private static InferenceState.Scratch scratch(InferenceState owner, int rows) {
        InferenceState.Scratch s = owner.scratch;
        if (s == null || s.rows < rows) s = owner.scratch = new InferenceState.Scratch(owner.config, rows, owner.capacity);
        return s;
    }

    /**
     * The transformer blocks over {@code rows} rows whose embeddings are in {@code sc.x}. Row r belongs to cache row
     * {@code rowB[r]} of {@code rowState[r]}, sits in cache slot {@code rowSlot[r]} and attends to slots [0, rowSlot[r]]
     * of that cache (masked slots skipped). Keys/values of each row are written to its slot first. {@code seqT}: the
     * rows are rows / seqT sequences of seqT consecutive rows in consecutive slots of one cache row each (forward), so
     * attention may go by blocks of queries; 1 for decodeBatch.
     */
    private void layers(InferenceState.Scratch sc, int rows, int seqT, InferenceState[] rowState, int[] rowB, int[] rowSlot) {
        final int E = config.nEmbd(), NH = config.nHead(), HS = config.headSize(), I = config.nInner();
        final float eps = config.layerNormEpsilon();
        final float[] x = sc.x;
        final TypedMatMul.Work work = sc.work;
        int maxSlot = 0, maxCapacity = 0;
        for (int r = 0; r < rows; r++) {
            maxSlot = Math.max(maxSlot, rowSlot[r]);
            maxCapacity = Math.max(maxCapacity, rowState[r].capacity);
        }
        final int maxN = maxSlot + 1;
        final KvDtype kv = rowState[0].kvDtype; // one dtype per pass (decodeBatch checks)
        final long scoreFloats = (long) rows * NH * maxN, fullScoreFloats = (long) rows * NH * maxCapacity;
        sc.tasks.begin(sc, rowState, rowB, rowSlot, config, maxN, activation);
        for (int l = 0; l < blocks.size(); l++) {
            Block w = blocks.get(l);
            float scale = config.scaleAttnWeights() ? (float) (1.0 / Math.sqrt(HS)) : 1f;
            if (config.scaleAttnByInverseLayerIdx()) scale /= (l + 1);
            Kernels.layerNorm(sc.xn, x, w.ln1w, w.ln1b, rows, E, eps);
            TypedMatMul.conv1d(sc.qkv, sc.xn, w.attnW, w.attnT, w.attnB, rows, E, 3 * E, pool, work);
            for (int r = 0; r < rows; r++) storeKv(rowState[r], l, rowB[r], rowSlot[r], sc.qkv, r * 3 * E);
            // decode: each chunk of (row, head) items uses the scores slice of its first item, no allocation per
            // step; prefill (slices would take rows*NH*maxN > SLICED_SCORES floats) allocates one array per chunk
            LayerTasks.AttendBlock block = sc.tasks.blockAttention(HS, kv, seqT);
            if (block != null) {
                block.layer(l, scale, null);
                pool.forRange(block.items(rows), 1, block);
            } else {
                LayerTasks.AttendBase attend = sc.tasks.attention(HS, kv);
                attend.layer(l, scale, scoreFloats <= SLICED_SCORES
                        ? sc.scores((int) scoreFloats, (int) Math.min(fullScoreFloats, SLICED_SCORES)) : null);
                pool.forRange(rows * NH, 8, attend);
            }
            TypedMatMul.conv1d(sc.out, sc.att, w.projW, w.projT, w.projB, rows, E, E, pool, work);
            Kernels.add(x, sc.out, rows * E);
            Kernels.layerNorm(sc.xn, x, w.ln2w, w.ln2b, rows, E, eps);
            TypedMatMul.conv1d(sc.fc, sc.xn, w.fcW, w.fcT, w.fcB, rows, E, I, pool, work);
            pool.forRange(rows * I, 4096, sc.tasks.activate);
            TypedMatMul.conv1d(sc.out, sc.fc, w.mlpW, w.mlpT, w.mlpB, rows, I, E, pool, work);
            Kernels.add(x, sc.out, rows * E);
        }
        sc.tasks.end();
    }

    /** Keys and values of one row (its c_attn output at qkv[o + E, o + 3E)) into cache slot {@code slot} of layer l. */
    private void storeKv(InferenceState st, int l, int b, int slot, float[] qkv, int o) {
        final int E = config.nEmbd(), NH = config.nHead(), HS = config.headSize(), cap = st.capacity;
        if (st.kvDtype == KvDtype.F16) {
            short[] k = st.keysH[l][b], v = st.valuesH[l][b];
            for (int h = 0; h < NH; h++) {
                AttentionF16.store(k, (h * cap + slot) * HS, qkv, o + E + h * HS, HS);
                AttentionF16.store(v, (h * cap + slot) * HS, qkv, o + 2 * E + h * HS, HS);
            }
        } else {
            float[] k = st.keys[l][b], v = st.values[l][b];
            for (int h = 0; h < NH; h++) {
                System.arraycopy(qkv, o + E + h * HS, k, (h * cap + slot) * HS, HS);
                System.arraycopy(qkv, o + 2 * E + h * HS, v, (h * cap + slot) * HS, HS);
            }
        }
    }

    /**
     * One decode step for several independent sequences at once (continuous batching): state i is a batch-1 cache
     * holding its own sequence (any length); {@code tokens[i]} is appended to it and the next-token logits are
     * written to {@code logits[i*V, (i+1)*V)}. The matmuls run once over all rows, so weights are read once per step.
     * Position ids follow the state's mask (the count of real tokens so far), as generate() would derive them.
     * Scratch buffers are borrowed from {@code states[0]}; the caller owns all the states.
     */
    public void decodeBatch(InferenceState[] states, int[] tokens, float[] logits) {
        final int n = states.length, E = config.nEmbd(), V = config.vocabSize();
        if (n == 0) return;
        if (tokens.length != n) throw new IllegalArgumentException(tokens.length + " tokens for " + n + " states");
        if (logits.length < (long) n * V) throw new IllegalArgumentException("logits buffer holds " + logits.length + " floats, needs " + (long) n * V);
        for (int i = 0; i < n; i++) {
            InferenceState st = states[i];
            if (st.batch != 1) throw new IllegalArgumentException("decodeBatch needs batch-1 states; state " + i + " has " + st.batch + " rows");
            // a quadratic scan, not a set: batches are small and the step must not allocate
            for (int j = 0; j < i; j++) if (states[j] == st) throw new IllegalArgumentException("state " + i + " appears twice");
            if (st.kvDtype != states[0].kvDtype) {
                throw new IllegalArgumentException("state " + i + " has an " + st.kvDtype + " KV cache, state 0 an "
                        + states[0].kvDtype + " one: decodeBatch needs one cache dtype");
            }
            if (st.length >= st.capacity) {
                throw new IllegalArgumentException("context overflow: state " + i + " holds " + st.length + " tokens, its capacity is " + st.capacity);
            }
            if (tokens[i] < 0 || tokens[i] >= V) throw new IllegalArgumentException("token id " + tokens[i] + " is outside the vocabulary [0, " + V + ")");
        }
        InferenceState.Scratch sc = scratch(states[0], n);
        int[] rowB = sc.rowB, rowSlot = sc.rowSlot;
        java.util.Arrays.fill(rowB, 0, n, 0);
        for (int i = 0; i < n; i++) {
            InferenceState st = states[i];
            int real = 0;
            for (int p = 0; p < st.length; p++) real += st.mask[0][p];
            int pos = real; // cumsum(mask) - 1 with the new token counted
            if (pos >= config.nPositions()) throw new IllegalArgumentException("position id " + pos + " is outside [0, n_positions=" + config.nPositions() + ")");
            st.mask[0][st.length] = 1;
            rowSlot[i] = st.length;
            Kernels.embed(sc.x, i * E, wte, wteType, wpe, tokens[i], pos, E);
        }
        layers(sc, n, 1, states, rowB, rowSlot);
        for (InferenceState st : states) st.length++;
        Kernels.layerNorm(sc.xn, sc.x, lnFw, lnFb, n, E, config.layerNormEpsilon());
        TypedMatMul.linearT(logits, sc.xn, lmHead, lmHeadType, n, E, V, pool, sc.work);
    }

    private int[][] resolvePositions(InferenceState state, int[][] tokens, int[][] positions, int[][] mask, int T,
                                     InferenceState.Scratch sc) {
        int B = state.batch, past = state.length;
        if (mask != null) {
            if (mask.length != B) throw new IllegalArgumentException("attention_mask has " + mask.length + " rows, expected " + B);
            for (int b = 0; b < B; b++) {
                if (mask[b].length != past + T) {
                    throw new IllegalArgumentException("attention_mask row " + b + " has length " + mask[b].length + ", expected past + new = " + (past + T));
                }
            }
        }
        if (positions != null) {
            if (positions.length != B) throw new IllegalArgumentException("position_ids has " + positions.length + " rows, expected " + B);
            for (int[] p : positions) if (p.length != T) throw new IllegalArgumentException("position_ids row has length " + p.length + ", expected " + T);
            return positions;
        }
        int[][] pos = sc.positions(B, T);
        for (int b = 0; b < B; b++) {
            if (mask == null) {
                for (int t = 0; t < T; t++) pos[b][t] = past + t;
            } else {
                int cum = 0;
                for (int p = 0; p < past + T; p++) {
                    cum += mask[b][p] != 0 ? 1 : 0;
                    if (p >= past) pos[b][p - past] = mask[b][p] != 0 ? cum - 1 : 1;
                }
            }
        }
        return pos;
    }
}
