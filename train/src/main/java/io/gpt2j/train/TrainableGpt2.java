package io.gpt2j.train;

import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.model.Gpt2Weights;
import io.gpt2j.train.kernels.MatMulTrain;
import io.gpt2j.train.kernels.TrainKernels;
import java.util.Random;

/**
 * GPT-2 in training mode, fp32: one flat parameter buffer and a gradient buffer of the same layout, a forward that
 * saves its activations and a backward that mirrors it and accumulates into the gradients (dropout in training
 * mode, seeded). Owns its buffers; not thread-safe (one per training run).
 * With LoRA ({@link LoraConfig}) the GPT-2 weights are frozen: the gradient buffer covers only the trainable tail of
 * the layout (the head, then every lora_A / lora_B), starting at {@link #trainableFrom()}.
 */
public final class TrainableGpt2 {
    private final Gpt2Config config;
    private final Task task;
    private final int numLabels;
    private final ParamLayout layout = new ParamLayout();
    private final float[] params;
    private final float[] grads;
    private final Lora lora;
    /** Layout offset of the first trainable parameter: grads[i - gradBase] is the gradient of params[i]. */
    private final int gradBase;
    private boolean training;
    private final Parallel pool;
    private final int V, maxT, C, L, NH, I;
    // parameter offsets
    private final int wte, wpe, lnfW, lnfB, headW, headB;
    private final int[] ln1W, ln1B, attnW, attnB, projW, projB, ln2W, ln2B, fcW, fcB, mprojW, mprojB;
    private Activations acts;
    private Dropout dropout = Dropout.NONE;
    private java.util.SplittableRandom rng = new java.util.SplittableRandom(0);
    private Batch last;
    private float lastLoss = Float.NaN;

    /**
     * A model with the checkpoint's body weights (any float dtype, converted to fp32) and the given head. A
     * classification head is taken from the checkpoint's {@code score.weight} / {@code classifier.*} when present,
     * otherwise initialised as transformers does (normal(0, initializer_range or 0.02), zero bias) from {@code seed}
     * (same distribution, not the same numbers: torch's generator is not reproduced).
     */
    public static TrainableGpt2 fromCheckpoint(LoadedCheckpoint ckpt, Task task, int numLabels, long seed, Parallel pool) {
        return fromCheckpoint(ckpt, ckpt.config(), task, numLabels, seed, pool);
    }

    /** As above, with {@code config} (e.g. from {@link TrainConfigs}) replacing the checkpoint's head settings. */
    public static TrainableGpt2 fromCheckpoint(LoadedCheckpoint ckpt, Gpt2Config config, Task task, int numLabels,
                                               long seed, Parallel pool) {
        return fromCheckpoint(ckpt, config, task, numLabels, seed, pool, null);
    }

    /**
     * As above, with LoRA adapters when {@code lora} is not null: the checkpoint's weights frozen, A initialised as
     * PEFT does from {@code seed}, B zero (so the model starts out equal to the checkpoint).
     */
    public static TrainableGpt2 fromCheckpoint(LoadedCheckpoint ckpt, Gpt2Config config, Task task, int numLabels,
                                               long seed, Parallel pool, LoraConfig lora) {
        TrainableGpt2 m = new TrainableGpt2(config, task, numLabels, lora, seed, pool);
        m.copyFrom(ckpt.weights());
        if (task != Task.CAUSAL_LM) {
            String w = task == Task.SEQUENCE_CLASSIFICATION ? "score.weight" : "classifier.weight";
            Tensor t = ckpt.extraTensors().get(w);
            if (t != null && t.numel() == (long) numLabels * m.C) {
                m.setParam(w, t.toFloatArray());
                Tensor b = ckpt.extraTensors().get("classifier.bias");
                if (task == Task.TOKEN_CLASSIFICATION && b != null) m.setParam("classifier.bias", b.toFloatArray());
            } else {
                Random r = new Random(seed);
                double std = config.extra().get("initializer_range") instanceof Number n ? n.doubleValue() : 0.02;
                ParamLayout.Spec s = m.layout.get(w);
                for (int i = 0; i < s.size(); i++) m.params[s.offset() + i] = (float) (r.nextGaussian() * std);
            }
        }
        return m;
    }

    public TrainableGpt2(Gpt2Config config, Task task, int numLabels, Parallel pool) {
        this(config, task, numLabels, null, 0, pool);
    }

    /** A zero-initialised model; with {@code lora} non-null, LoRA A initialised from {@code loraSeed}, B zero. */
    public TrainableGpt2(Gpt2Config config, Task task, int numLabels, LoraConfig lora, long loraSeed, Parallel pool) {
        if (!"gelu_new".equals(config.activationFunction()) && !"gelu_pytorch_tanh".equals(config.activationFunction())) {
            throw new IllegalArgumentException("training supports activation gelu_new only, the config has '" + config.activationFunction() + "'");
        }
        if (!config.scaleAttnWeights() || config.scaleAttnByInverseLayerIdx() || config.reorderAndUpcastAttn()) {
            throw new IllegalArgumentException("training supports scale_attn_weights=true, scale_attn_by_inverse_layer_idx=false, reorder_and_upcast_attn=false only");
        }
        if (!config.tieWordEmbeddings()) throw new IllegalArgumentException("training supports tied word embeddings only (tie_word_embeddings=true)");
        if (task != Task.CAUSAL_LM && numLabels < 1) throw new IllegalArgumentException("num_labels must be >= 1 for " + task + ", got " + numLabels);
        this.config = config;
        this.task = task;
        this.numLabels = task == Task.CAUSAL_LM ? 0 : numLabels;
        this.pool = pool;
        V = config.vocabSize();
        maxT = config.nPositions();
        C = config.nEmbd();
        L = config.nLayer();
        NH = config.nHead();
        I = config.nInner();
        wte = layout.add("transformer.wte.weight", V, C).offset();
        wpe = layout.add("transformer.wpe.weight", maxT, C).offset();
        ln1W = new int[L]; ln1B = new int[L]; attnW = new int[L]; attnB = new int[L]; projW = new int[L]; projB = new int[L];
        ln2W = new int[L]; ln2B = new int[L]; fcW = new int[L]; fcB = new int[L]; mprojW = new int[L]; mprojB = new int[L];
        for (int l = 0; l < L; l++) {
            String p = "transformer.h." + l + ".";
            ln1W[l] = layout.add(p + "ln_1.weight", C).offset();
            ln1B[l] = layout.add(p + "ln_1.bias", C).offset();
            attnW[l] = layout.add(p + "attn.c_attn.weight", C, 3L * C).offset();
            attnB[l] = layout.add(p + "attn.c_attn.bias", 3L * C).offset();
            projW[l] = layout.add(p + "attn.c_proj.weight", C, C).offset();
            projB[l] = layout.add(p + "attn.c_proj.bias", C).offset();
            ln2W[l] = layout.add(p + "ln_2.weight", C).offset();
            ln2B[l] = layout.add(p + "ln_2.bias", C).offset();
            fcW[l] = layout.add(p + "mlp.c_fc.weight", C, I).offset();
            fcB[l] = layout.add(p + "mlp.c_fc.bias", I).offset();
            mprojW[l] = layout.add(p + "mlp.c_proj.weight", I, C).offset();
            mprojB[l] = layout.add(p + "mlp.c_proj.bias", C).offset();
        }
        lnfW = layout.add("transformer.ln_f.weight", C).offset();
        lnfB = layout.add("transformer.ln_f.bias", C).offset();
        switch (task) {
            case SEQUENCE_CLASSIFICATION -> { headW = layout.add("score.weight", numLabels, C).offset(); headB = -1; }
            case TOKEN_CLASSIFICATION -> {
                headW = layout.add("classifier.weight", numLabels, C).offset();
                headB = layout.add("classifier.bias", numLabels).offset();
            }
            default -> { headW = -1; headB = -1; }
        }
        int base = layout.total();
        this.lora = lora == null ? null : new Lora(lora, layout, L, C, I);
        gradBase = lora == null ? 0 : headW >= 0 ? headW : base;
        params = new float[layout.total()];
        grads = new float[layout.total() - gradBase];
        if (this.lora != null) this.lora.init(params, loraSeed);
    }

    private void copyFrom(Gpt2Weights w) {
        setParam("transformer.wte.weight", w.wte().toFloatArray());
        setParam("transformer.wpe.weight", w.wpe().toFloatArray());
        for (int l = 0; l < L; l++) {
            Gpt2Weights.Layer h = w.h().get(l);
            String p = "transformer.h." + l + ".";
            setParam(p + "ln_1.weight", h.ln1Weight().toFloatArray());
            setParam(p + "ln_1.bias", h.ln1Bias().toFloatArray());
            setParam(p + "attn.c_attn.weight", h.cAttnWeight().toFloatArray());
            setParam(p + "attn.c_attn.bias", h.cAttnBias().toFloatArray());
            setParam(p + "attn.c_proj.weight", h.attnCProjWeight().toFloatArray());
            setParam(p + "attn.c_proj.bias", h.attnCProjBias().toFloatArray());
            setParam(p + "ln_2.weight", h.ln2Weight().toFloatArray());
            setParam(p + "ln_2.bias", h.ln2Bias().toFloatArray());
            setParam(p + "mlp.c_fc.weight", h.cFcWeight().toFloatArray());
            setParam(p + "mlp.c_fc.bias", h.cFcBias().toFloatArray());
            setParam(p + "mlp.c_proj.weight", h.mlpCProjWeight().toFloatArray());
            setParam(p + "mlp.c_proj.bias", h.mlpCProjBias().toFloatArray());
        }
        setParam("transformer.ln_f.weight", w.lnFWeight().toFloatArray());
        setParam("transformer.ln_f.bias", w.lnFBias().toFloatArray());
    }

    public void setParam(String name, float[] values) {
        ParamLayout.Spec s = layout.get(name);
        if (values.length != s.size()) {
            throw new IllegalArgumentException("parameter '" + name + "': expected " + s.size() + " values for shape "
                    + java.util.Arrays.toString(s.shape()) + ", got " + values.length);
        }
        System.arraycopy(values, 0, params, s.offset(), s.size());
    }

    /** A copy of one parameter's values. */
    public float[] param(String name) {
        ParamLayout.Spec s = layout.get(name);
        return java.util.Arrays.copyOfRange(params, s.offset(), s.offset() + s.size());
    }

    /** A copy of one parameter's gradient. */
    public float[] grad(String name) {
        ParamLayout.Spec s = layout.get(name);
        if (s.offset() < gradBase) throw new IllegalArgumentException("parameter '" + name + "' is frozen (LoRA): it has no gradient");
        return java.util.Arrays.copyOfRange(grads, s.offset() - gradBase, s.offset() - gradBase + s.size());
    }

    public float[] params() { return params; }

    /** Gradients of the trainable parameters: grads()[i - trainableFrom()] belongs to params()[i]. */
    public float[] grads() { return grads; }

    /** Layout offset of the first trainable parameter: 0 without LoRA; with LoRA the head (if any) and the adapters follow it. */
    public int trainableFrom() { return gradBase; }

    /** Number of trainable parameters (what the optimizer keeps two moments for). */
    public int trainableCount() { return grads.length; }

    /** The LoRA settings, or null for full fine-tuning. */
    public LoraConfig loraConfig() { return lora == null ? null : lora.config; }

    /** The transformers model's own parameters: the layout without lora_A / lora_B (what a merged save writes). */
    public java.util.List<ParamLayout.Spec> modelSpecs() {
        return layout.specs().stream().filter(s -> !s.name().contains(".lora_")).toList();
    }

    /**
     * A copy of one model parameter with the LoRA update merged in (PEFT's merge with fan_in_fan_out: W [in,out] +=
     * scale * (B @ A)^T); the plain values for parameters that no adapter touches.
     */
    public float[] mergedParam(String name) {
        float[] w = param(name);
        Lora.Target t = loraTarget(name);
        if (t != null) {
            float[] bt = new float[lora.R * t.out];
            io.gpt2j.train.kernels.LoraKernels.transpose(bt, params, t.b, t.out, lora.R);
            LoraAdapter.addDelta(w, 0, 0, w.length, params, t.a, bt, t.in, t.out, lora.R, lora.scale);
        }
        return w;
    }

    Lora.Target loraTarget(String weightName) {
        if (lora == null || !weightName.endsWith(".weight")) return null;
        String module = weightName.substring(0, weightName.length() - ".weight".length());
        for (Lora.Target t : lora.all) if (t.module.equals(module)) return t;
        return null;
    }

    Lora lora() { return lora; }
    public ParamLayout layout() { return layout; }
    public Gpt2Config config() { return config; }
    public Task task() { return task; }
    public int numLabels() { return numLabels; }

    /**
     * Dropout probabilities of a GPT-2 in training mode (transformers: embd_pdrop, attn_pdrop, resid_pdrop, and the
     * token classifier's classifier_dropout). Inverted dropout, as torch: kept values are scaled by 1/(1-p).
     */
    public record Dropout(float embd, float attn, float resid, float classifier) {
        public static final Dropout NONE = new Dropout(0, 0, 0, 0);

        public Dropout {
            for (float p : new float[]{embd, attn, resid, classifier}) {
                if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("dropout probabilities must be in [0, 1), got " + p);
            }
        }

        /** The config's values, with transformers' defaults (0.1) for fields the config.json does not set. */
        public static Dropout fromConfig(Gpt2Config c) {
            return new Dropout(prob(c, "embd_pdrop", 0.1), prob(c, "attn_pdrop", 0.1), prob(c, "resid_pdrop", 0.1),
                    c.extra().get("classifier_dropout") instanceof Number n ? n.floatValue() : prob(c, "hidden_dropout", 0.1));
        }

        private static float prob(Gpt2Config c, String key, double dflt) {
            return c.extra().get(key) instanceof Number n ? n.floatValue() : (float) dflt;
        }

        public boolean any() {
            return embd > 0 || attn > 0 || resid > 0 || classifier > 0;
        }
    }

    /** Training mode with dropout {@code d}, masks drawn from {@code seed} (same seed, same masks, same run). */
    public void train(Dropout d, long seed) {
        this.training = true;
        this.dropout = d;
        this.rng = new java.util.SplittableRandom(seed);
    }

    /** Evaluation mode: no dropout (the default; the golden comparisons run this way). */
    public void eval() {
        this.training = false;
        this.dropout = Dropout.NONE;
    }

    public Dropout dropout() {
        return dropout;
    }

    private float[] mask(float[] buf, int n, float p) {
        float[] m = buf == null || buf.length != n ? new float[n] : buf;
        TrainKernels.dropoutMask(pool, m, n, p, rng);
        return m;
    }

    /** Training mode ({@link #train}): LoRA dropout, if configured, is applied only then (as PEFT in train()). */
    public boolean training() {
        return training;
    }

    public void zeroGrad() {
        pool.forRange(grads.length, 1 << 16, (from, to) -> java.util.Arrays.fill(grads, from, to, 0f));
    }

    /** The kernels' worker pool (the optimizer's parallel step can share it). */
    public Parallel pool() {
        return pool;
    }

    /** Logits of the last forward: (B,T,V) for the LM, (B,num_labels) for sequence, (B,T,num_labels) for token classification. */
    public float[] logits() {
        return acts.logits;
    }

    /** Post-ln_f hidden states (B,T,E) of the last forward. */
    public float[] lastHidden() {
        return acts.lnf;
    }

    /** The pooled positions (B) of the last sequence-classification forward. */
    public int[] pooledPositions() {
        return acts.pooled.clone();
    }

    /** Runs the forward over {@code batch}, saves the activations for {@link #backward()}, returns the mean loss. */
    public float forward(Batch batch) {
        int B = batch.B(), T = batch.T();
        if (T > maxT) throw new IllegalArgumentException("sequence length " + T + " exceeds n_positions " + maxT);
        for (int id : batch.inputIds()) {
            if (id < 0 || id >= V) throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + V + ")");
        }
        if (acts == null || acts.B != B || acts.T != T) acts = new Activations(B, T);
        Activations a = acts;
        int N = B * T;
        float eps = config.layerNormEpsilon();
        TrainKernels.embeddingForward(a.encoded, batch.inputIds(), params, wte, params, wpe, B, T, C);
        Dropout d = a.used = dropout;
        if (d.embd() > 0) TrainKernels.applyMask(a.encoded, 0, a.dropE = mask(a.dropE, N * C, d.embd()), N * C);
        for (int l = 0; l < L; l++) {
            float[] res = l == 0 ? a.encoded : a.res3[l - 1];
            TrainKernels.layerNormForward(pool, a.ln1[l], 0, a.ln1Mean[l], 0, a.ln1Rstd[l], 0, res, 0, params, ln1W[l], params, ln1B[l], N, C, eps);
            MatMulTrain.conv1dForward(pool, a.qkv[l], 0, a.ln1[l], 0, params, attnW[l], params, attnB[l], N, C, 3 * C);
            loraForward(l, 0, a.qkv[l], a.ln1[l], N);
            if (d.attn() > 0) a.dropAtt[l] = mask(a.dropAtt[l], B * NH * T * T, d.attn());
            TrainKernels.attentionForward(pool, a.atty[l], a.att[l], a.qkv[l], batch.attentionMask(), d.attn() > 0 ? a.dropAtt[l] : null, B, T, C, NH);
            MatMulTrain.conv1dForward(pool, a.tmp, 0, a.atty[l], 0, params, projW[l], params, projB[l], N, C, C);
            loraForward(l, 1, a.tmp, a.atty[l], N);
            if (d.resid() > 0) TrainKernels.applyMask(a.tmp, 0, a.dropA[l] = mask(a.dropA[l], N * C, d.resid()), N * C);
            for (int i = 0; i < N * C; i++) a.res2[l][i] = res[i] + a.tmp[i];
            TrainKernels.layerNormForward(pool, a.ln2[l], 0, a.ln2Mean[l], 0, a.ln2Rstd[l], 0, a.res2[l], 0, params, ln2W[l], params, ln2B[l], N, C, eps);
            MatMulTrain.conv1dForward(pool, a.fch[l], 0, a.ln2[l], 0, params, fcW[l], params, fcB[l], N, C, I);
            loraForward(l, 2, a.fch[l], a.ln2[l], N);
            TrainKernels.geluForward(pool, a.fchGelu[l], a.fch[l], N * I);
            MatMulTrain.conv1dForward(pool, a.tmp, 0, a.fchGelu[l], 0, params, mprojW[l], params, mprojB[l], N, I, C);
            loraForward(l, 3, a.tmp, a.fchGelu[l], N);
            if (d.resid() > 0) TrainKernels.applyMask(a.tmp, 0, a.dropM[l] = mask(a.dropM[l], N * C, d.resid()), N * C);
            for (int i = 0; i < N * C; i++) a.res3[l][i] = a.res2[l][i] + a.tmp[i];
        }
        TrainKernels.layerNormForward(pool, a.lnf, 0, a.lnfMean, 0, a.lnfRstd, 0, a.res3[L - 1], 0, params, lnfW, params, lnfB, N, C, eps);
        last = batch;
        lastLoss = switch (task) {
            case CAUSAL_LM -> {
                MatMulTrain.linearForward(pool, a.logits, 0, a.lnf, 0, params, wte, null, 0, N, C, V);
                yield Heads.lmLoss(pool, a.logits, a.dlogits, batch.labels(), B, T, V);
            }
            case TOKEN_CLASSIFICATION -> {
                float[] x = a.lnf;
                if (d.classifier() > 0) {
                    if (a.lnfDropped == null) a.lnfDropped = new float[N * C];
                    System.arraycopy(a.lnf, 0, a.lnfDropped, 0, N * C);
                    TrainKernels.applyMask(a.lnfDropped, 0, a.dropC = mask(a.dropC, N * C, d.classifier()), N * C);
                    x = a.lnfDropped;
                }
                MatMulTrain.linearForward(pool, a.logits, 0, x, 0, params, headW, params, headB, N, C, numLabels);
                yield Heads.tokenLoss(a.logits, a.dlogits, batch.labels(), N, numLabels);
            }
            case SEQUENCE_CLASSIFICATION -> {
                Heads.pooledPositions(a.pooled, batch.inputIds(), config.padTokenId(), B, T);
                for (int b = 0; b < B; b++) {
                    MatMulTrain.linearForward(pool, a.logits, b * numLabels, a.lnf, (b * T + a.pooled[b]) * C, params, headW, null, 0, 1, C, numLabels);
                }
                yield Heads.sequenceLoss(a.logits, a.dlogits, batch.labels(), batch.targets(), B, numLabels, problemType());
            }
        };
        return lastLoss;
    }

    private void loraForward(int l, int module, float[] out, float[] x, int N) {
        Lora.Target t = lora == null ? null : lora.byLayer[l][module];
        if (t != null) lora.forward(pool, t, out, x, params, training ? rng : null, N);
    }

    private void loraBackward(int l, int module, float[] dx, float[] dout, float[] x, int N) {
        Lora.Target t = lora == null ? null : lora.byLayer[l][module];
        if (t != null) lora.backward(pool, t, dx, dout, x, params, grads, gradBase, N);
    }

    /** transformers' problem_type: from the config when set, else regression for one label, single-label otherwise. */
    public String problemType() {
        if (config.problemType() != null) return config.problemType();
        if (last != null && last.targets() != null && numLabels > 1) return "multi_label_classification";
        return numLabels == 1 ? "regression" : "single_label_classification";
    }

    /** Accumulates d(loss)/d(params) of the last forward into {@link #grads()} (+=). */
    public void backward() {
        if (last == null) throw new IllegalStateException("backward() called before forward()");
        Activations a = acts;
        int B = last.B(), T = last.T(), N = B * T;
        // gb: where the GPT-2 weights' gradients go, null when they are frozen (LoRA); then gradBase is past them
        float[] gb = lora == null ? grads : null;
        java.util.Arrays.fill(a.dlnf, 0f);
        switch (task) {
            case CAUSAL_LM -> MatMulTrain.linearBackward(pool, a.dlnf, 0, gb, wte, null, 0, a.dlogits, 0, a.lnf, 0, params, wte, N, C, V);
            case TOKEN_CLASSIFICATION -> {
                boolean dropped = a.used.classifier() > 0;
                MatMulTrain.linearBackward(pool, a.dlnf, 0, grads, headW - gradBase, grads, headB - gradBase, a.dlogits, 0, dropped ? a.lnfDropped : a.lnf, 0, params, headW, N, C, numLabels);
                if (dropped) TrainKernels.applyMask(a.dlnf, 0, a.dropC, N * C);
            }
            case SEQUENCE_CLASSIFICATION -> {
                for (int b = 0; b < B; b++) {
                    int row = (b * T + a.pooled[b]) * C;
                    MatMulTrain.linearBackward(pool, a.dlnf, row, grads, headW - gradBase, null, 0, a.dlogits, b * numLabels, a.lnf, row, params, headW, 1, C, numLabels);
                }
            }
        }
        Dropout d = a.used;
        float[] dres = a.dres;
        java.util.Arrays.fill(dres, 0f);
        TrainKernels.layerNormBackward(pool, dres, 0, gb, lnfW, gb, lnfB, a.dlnf, 0, a.res3[L - 1], 0, params, lnfW, a.lnfMean, 0, a.lnfRstd, 0, N, C);
        for (int l = L - 1; l >= 0; l--) {
            float[] res = l == 0 ? a.encoded : a.res3[l - 1];
            // MLP: dres is d(res3) = d(res2 via skip) = d(mlp out)
            java.util.Arrays.fill(a.dfchGelu, 0f);
            float[] dmlp = dres;
            if (d.resid() > 0) {
                System.arraycopy(dres, 0, a.dtmp, 0, N * C);
                TrainKernels.applyMask(dmlp = a.dtmp, 0, a.dropM[l], N * C);
            }
            MatMulTrain.conv1dBackward(pool, a.dfchGelu, 0, gb, mprojW[l], gb, mprojB[l], dmlp, 0, a.fchGelu[l], 0, params, mprojW[l], N, I, C);
            loraBackward(l, 3, a.dfchGelu, dmlp, a.fchGelu[l], N);
            java.util.Arrays.fill(a.dfch, 0f);
            TrainKernels.geluBackward(pool, a.dfch, a.fch[l], a.dfchGelu, N * I);
            java.util.Arrays.fill(a.dln, 0f);
            MatMulTrain.conv1dBackward(pool, a.dln, 0, gb, fcW[l], gb, fcB[l], a.dfch, 0, a.ln2[l], 0, params, fcW[l], N, C, I);
            loraBackward(l, 2, a.dln, a.dfch, a.ln2[l], N);
            TrainKernels.layerNormBackward(pool, dres, 0, gb, ln2W[l], gb, ln2B[l], a.dln, 0, a.res2[l], 0, params, ln2W[l], a.ln2Mean[l], 0, a.ln2Rstd[l], 0, N, C);
            // attention: dres is now d(res2) = d(res via skip) = d(attn out)
            java.util.Arrays.fill(a.datty, 0f);
            float[] dattn = dres;
            if (d.resid() > 0) {
                System.arraycopy(dres, 0, a.dtmp, 0, N * C);
                TrainKernels.applyMask(dattn = a.dtmp, 0, a.dropA[l], N * C);
            }
            MatMulTrain.conv1dBackward(pool, a.datty, 0, gb, projW[l], gb, projB[l], dattn, 0, a.atty[l], 0, params, projW[l], N, C, C);
            loraBackward(l, 1, a.datty, dattn, a.atty[l], N);
            java.util.Arrays.fill(a.dqkv, 0f);
            TrainKernels.attentionBackward(pool, a.dqkv, a.dattScratch, a.datty, a.qkv[l], a.att[l], d.attn() > 0 ? a.dropAtt[l] : null, B, T, C, NH);
            // with the whole GPT-2 frozen, nothing below layer 0's adapters needs an input gradient
            boolean below = gb != null || l > 0;
            java.util.Arrays.fill(a.dln, 0f);
            MatMulTrain.conv1dBackward(pool, below ? a.dln : null, 0, gb, attnW[l], gb, attnB[l], a.dqkv, 0, a.ln1[l], 0, params, attnW[l], N, C, 3 * C);
            loraBackward(l, 0, below ? a.dln : null, a.dqkv, a.ln1[l], N);
            if (below) TrainKernels.layerNormBackward(pool, dres, 0, gb, ln1W[l], gb, ln1B[l], a.dln, 0, res, 0, params, ln1W[l], a.ln1Mean[l], 0, a.ln1Rstd[l], 0, N, C);
        }
        if (gb == null) return;
        if (d.embd() > 0) TrainKernels.applyMask(dres, 0, a.dropE, N * C);
        TrainKernels.embeddingBackward(grads, wte, grads, wpe, dres, last.inputIds(), B, T, C);
    }

    /** Saved forward activations and backward scratch for one (B, T). */
    private final class Activations {
        final int B, T;
        final float[] encoded, lnf, lnfMean, lnfRstd, logits, dlogits, tmp;
        final float[][] ln1, ln1Mean, ln1Rstd, qkv, att, atty, res2, ln2, ln2Mean, ln2Rstd, fch, fchGelu, res3;
        final float[] dlnf, dres, dln, dqkv, datty, dfch, dfchGelu, dattScratch;
        final int[] pooled;
        final float[] dtmp;
        // dropout multipliers of the last forward (allocated on first use) and the probabilities they were drawn with
        float[] dropE, dropC, lnfDropped;
        final float[][] dropAtt, dropA, dropM;
        Dropout used = Dropout.NONE;

        Activations(int B, int T) {
            this.B = B;
            this.T = T;
            int N = B * T;
            encoded = new float[N * C];
            ln1 = new float[L][N * C]; ln1Mean = new float[L][N]; ln1Rstd = new float[L][N];
            qkv = new float[L][N * 3 * C]; att = new float[L][B * NH * T * T]; atty = new float[L][N * C];
            res2 = new float[L][N * C]; ln2 = new float[L][N * C]; ln2Mean = new float[L][N]; ln2Rstd = new float[L][N];
            fch = new float[L][N * I]; fchGelu = new float[L][N * I]; res3 = new float[L][N * C];
            lnf = new float[N * C]; lnfMean = new float[N]; lnfRstd = new float[N];
            int nLogits = switch (task) {
                case CAUSAL_LM -> Math.multiplyExact(N, V);
                case TOKEN_CLASSIFICATION -> N * numLabels;
                case SEQUENCE_CLASSIFICATION -> B * numLabels;
            };
            logits = new float[nLogits];
            dlogits = new float[nLogits];
            tmp = new float[N * C];
            dlnf = new float[N * C]; dres = new float[N * C]; dln = new float[N * C]; dqkv = new float[N * 3 * C];
            datty = new float[N * C]; dfch = new float[N * I]; dfchGelu = new float[N * I];
            dattScratch = new float[B * NH * T];
            pooled = new int[B];
            dtmp = new float[N * C];
            dropAtt = new float[L][];
            dropA = new float[L][];
            dropM = new float[L][];
        }
    }
}
