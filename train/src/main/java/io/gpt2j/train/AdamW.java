package io.gpt2j.train;

/**
 * torch.optim.AdamW (amsgrad=false, maximize=false), step for step as torch's single-tensor implementation, over
 * the flat parameter buffer. Owns the moments and the step count of one training run.
 * Weight decay applies to all parameters, or (HF Trainer's default grouping) to all but biases and LayerNorm weights.
 */
public final class AdamW {
    private final ParamLayout layout;
    private final float beta1, beta2, eps, weightDecay;
    private final boolean[] decay;
    private final float[] m, v;
    private int step;

    /** @param hfTrainerGrouping true: no decay for biases and LayerNorm weights (transformers Trainer); false: torch's single group */
    public AdamW(ParamLayout layout, float beta1, float beta2, float eps, float weightDecay, boolean hfTrainerGrouping) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
        if (!(eps >= 0) || !(weightDecay >= 0)) throw new IllegalArgumentException("AdamW eps and weight_decay must be >= 0, got " + eps + ", " + weightDecay);
        this.layout = layout;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decay = new boolean[layout.specs().size()];
        for (int i = 0; i < decay.length; i++) decay[i] = !hfTrainerGrouping || decaysInHfTrainer(layout.specs().get(i).name());
        this.m = new float[layout.total()];
        this.v = new float[layout.total()];
    }

    /** transformers Trainer.get_decay_parameter_names for GPT-2: everything except biases and LayerNorm weights. */
    public static boolean decaysInHfTrainer(String name) {
        if (name.endsWith("bias")) return false;
        String leaf = name.substring(0, name.lastIndexOf('.'));
        return !(leaf.endsWith("ln_1") || leaf.endsWith("ln_2") || leaf.endsWith("ln_f"));
    }

    /** One optimizer step with learning rate {@code lr}; the step count advances even when lr is 0 (as torch). */
    public void step(float[] params, float[] grads, double lr) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float b1 = beta1, b2 = beta2, ob1 = (float) (1 - (double) beta1), ob2 = (float) (1 - (double) beta2);
        int k = 0;
        for (ParamLayout.Spec s : layout.specs()) {
            float shrink = (float) (1 - lr * (decay[k++] ? weightDecay : 0));
            for (int i = s.offset(), end = s.offset() + s.size(); i < end; i++) {
                float g = grads[i];
                params[i] *= shrink;
                m[i] = m[i] * b1 + ob1 * g;
                v[i] = v[i] * b2 + ob2 * g * g;
                float denom = (float) Math.sqrt(v[i]) / bc2Sqrt + eps;
                params[i] += -stepSize * m[i] / denom;
            }
        }
    }

    public int stepCount() {
        return step;
    }

    /** Continues a saved run: copies the moments and the step count (checkpoint resume). */
    public void restore(float[] expAvg, float[] expAvgSq, int stepCount) {
        if (expAvg.length != m.length || expAvgSq.length != v.length) {
            throw new IllegalArgumentException("optimizer state has " + expAvg.length + "/" + expAvgSq.length + " values, the model has " + m.length + " parameters");
        }
        if (stepCount < 0) throw new IllegalArgumentException("optimizer step count must be >= 0, got " + stepCount);
        System.arraycopy(expAvg, 0, m, 0, m.length);
        System.arraycopy(expAvgSq, 0, v, 0, v.length);
        this.step = stepCount;
    }

    /** exp_avg (first moment), flat, same layout as the parameters. */
    public float[] expAvg() {
        return m;
    }

    /** exp_avg_sq (second moment). */
    public float[] expAvgSq() {
        return v;
    }

    /**
     * torch.nn.utils.clip_grad_norm_: scales all gradients by min(1, maxNorm / (norm + 1e-6)) and returns the total
     * L2 norm before clipping (accumulated in double).
     */
    public static float clipGradNorm(float[] grads, double maxNorm) {
        double ss = 0;
        for (float g : grads) ss += (double) g * g;
        float norm = (float) Math.sqrt(ss);
        float coef = (float) maxNorm / (norm + 1e-6f);
        if (coef < 1f) {
            for (int i = 0; i < grads.length; i++) grads[i] *= coef;
        }
        return norm;
    }

    /** The coefficient {@link #clipGradNorm} applies for a given pre-clip norm. */
    public static float clipCoefficient(float norm, double maxNorm) {
        return Math.min(1f, (float) maxNorm / (norm + 1e-6f));
    }
}
