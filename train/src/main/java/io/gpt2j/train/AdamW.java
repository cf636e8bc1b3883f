package io.gpt2j.train;

import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.train.kernels.AdamKernels;

/**
 * torch.optim.AdamW (amsgrad=false, maximize=false), step for step as torch's single-tensor implementation, over
 * the flat parameter buffer. Owns the moments and the step count of one training run.
 * Weight decay applies to all parameters, or (HF Trainer's default grouping) to all but biases and LayerNorm weights.
 * Only the parameters from layout offset {@code trainableFrom} on are updated (LoRA: the frozen GPT-2 weights come
 * first); moments exist for those only, and the gradient array is indexed from there.
 */
public final class AdamW {
    private final ParamLayout layout;
    private final float beta1, beta2, eps, weightDecay;
    private final boolean[] decay;
    private final int from;
    private final float[] m, v;
    private int step;

    /** @param hfTrainerGrouping true: no decay for biases and LayerNorm weights (transformers Trainer); false: torch's single group */
    public AdamW(ParamLayout layout, float beta1, float beta2, float eps, float weightDecay, boolean hfTrainerGrouping) {
        this(layout, 0, beta1, beta2, eps, weightDecay, hfTrainerGrouping);
    }

    /** Updates only parameters at layout offsets >= {@code trainableFrom}, e.g. {@link TrainableGpt2#trainableFrom()}. */
    public AdamW(ParamLayout layout, int trainableFrom, float beta1, float beta2, float eps, float weightDecay,
                 boolean hfTrainerGrouping) {
        if (trainableFrom < 0 || trainableFrom > layout.total()) {
            throw new IllegalArgumentException("trainableFrom " + trainableFrom + " outside [0, " + layout.total() + "]");
        }
        boolean boundary = trainableFrom == layout.total();
        for (ParamLayout.Spec s : layout.specs()) boundary |= s.offset() == trainableFrom;
        if (!boundary) throw new IllegalArgumentException("trainableFrom " + trainableFrom + " is not the start of a parameter");
        this.from = trainableFrom;
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
        this.m = new float[layout.total() - trainableFrom];
        this.v = new float[layout.total() - trainableFrom];
    }

    /** transformers Trainer.get_decay_parameter_names for GPT-2: everything except biases and LayerNorm weights. */
    public static boolean decaysInHfTrainer(String name) {
        if (name.endsWith("bias")) return false;
        String leaf = name.substring(0, name.lastIndexOf('.'));
        return !(leaf.endsWith("ln_1") || leaf.endsWith("ln_2") || leaf.endsWith("ln_f"));
    }

    /**
     * One optimizer step with learning rate {@code lr}; the step count advances even when lr is 0 (as torch).
     * {@code grads[i - trainableFrom]} is the gradient of {@code params[i]}. Single-threaded; see the pool overload.
     */
    public void step(float[] params, float[] grads, double lr) {
        step(null, params, grads, lr);
    }

    /**
     * As {@link #step(float[], float[], double)}, split over {@code pool} (null: this thread). Every element's update
     * is independent, so the result does not depend on the thread count.
     */
    public void step(Parallel pool, float[] params, float[] grads, double lr) {
        if (grads.length != m.length) {
            throw new IllegalArgumentException("AdamW: " + grads.length + " gradients for " + m.length + " trainable parameters");
        }
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        java.util.List<ParamLayout.Spec> specs = layout.specs();
        float[] shrink = new float[specs.size()];
        int[] start = new int[specs.size() + 1];
        for (int k = 0; k < shrink.length; k++) {
            shrink[k] = (float) (1 - lr * (decay[k] ? weightDecay : 0));
            start[k] = Math.max(from, specs.get(k).offset());
        }
        start[shrink.length] = layout.total();
        int n = m.length, chunks = (n + CHUNK - 1) / CHUNK;
        Parallel.RangeTask task = (c0, c1) -> {
            int i0 = from + c0 * CHUNK, i1 = from + Math.min(n, c1 * CHUNK);
            int k = java.util.Arrays.binarySearch(start, i0);
            if (k < 0) k = -k - 2;
            while (k + 1 < start.length && start[k + 1] <= i0) k++; // empty specs share an offset
            for (int i = i0; i < i1; k++) {
                int end = Math.min(i1, start[k + 1]);
                if (end > i) AdamKernels.update(params, grads, m, v, i, end, from, shrink[k], beta1, beta2, stepSize, bc2Sqrt, eps);
                i = Math.max(i, end);
            }
        };
        if (pool == null) task.run(0, chunks);
        else pool.forRange(chunks, 1, task);
    }

    /** Elements per task of the parallel loops: fixed, so partial sums are grouped the same on any thread count. */
    static final int CHUNK = 1 << 16;

    public int stepCount() {
        return step;
    }

    /** The first layout offset this optimizer updates; moments cover {@code [trainableFrom, layout.total())}. */
    public int trainableFrom() {
        return from;
    }

    /**
     * Continues a saved run: copies the moments and the step count (checkpoint resume). The moments cover only the
     * trainable tail (index i - trainableFrom), so a checkpoint of a LoRA run holds the adapter's moments only.
     */
    public void restore(float[] expAvg, float[] expAvgSq, int stepCount) {
        if (expAvg.length != m.length || expAvgSq.length != v.length) {
            throw new IllegalArgumentException("optimizer state has " + expAvg.length + "/" + expAvgSq.length
                    + " values, the model has " + m.length + " trainable parameters (from layout offset " + from + ")");
        }
        if (stepCount < 0) throw new IllegalArgumentException("optimizer step count must be >= 0, got " + stepCount);
        System.arraycopy(expAvg, 0, m, 0, m.length);
        System.arraycopy(expAvgSq, 0, v, 0, v.length);
        this.step = stepCount;
    }

    /** exp_avg (first moment), flat, same layout as the trainable parameters (index i - trainableFrom). */
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
        return clipGradNorm(null, grads, maxNorm);
    }

    /**
     * As above, split over {@code pool} (null: this thread). The squares are summed in double per fixed chunk of
     * {@link #CHUNK} elements and the chunk sums in order, so the norm does not depend on the thread count.
     */
    public static float clipGradNorm(Parallel pool, float[] grads, double maxNorm) {
        int chunks = (grads.length + CHUNK - 1) / CHUNK;
        double[] partial = new double[chunks];
        run(pool, chunks, (c0, c1) -> {
            for (int c = c0; c < c1; c++) partial[c] = AdamKernels.sumSquares(grads, c * CHUNK, Math.min(grads.length, (c + 1) * CHUNK));
        });
        double ss = 0;
        for (double p : partial) ss += p;
        float norm = (float) Math.sqrt(ss);
        float coef = (float) maxNorm / (norm + 1e-6f);
        if (coef < 1f) {
            run(pool, chunks, (c0, c1) -> {
                for (int i = c0 * CHUNK, end = Math.min(grads.length, c1 * CHUNK); i < end; i++) grads[i] *= coef;
            });
        }
        return norm;
    }

    private static void run(Parallel pool, int n, Parallel.RangeTask task) {
        if (pool == null) task.run(0, n);
        else pool.forRange(n, 1, task);
    }

    /** The coefficient {@link #clipGradNorm} applies for a given pre-clip norm. */
    public static float clipCoefficient(float norm, double maxNorm) {
        return Math.min(1f, (float) maxNorm / (norm + 1e-6f));
    }
}
