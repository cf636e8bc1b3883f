package io.gpt2j.train;

import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.train.kernels.LoraKernels;
import io.gpt2j.train.kernels.TrainKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The LoRA adapters of one {@link TrainableGpt2}: where each adapted module's A (R,IN) and B (OUT,R) live in the flat
 * parameter buffer, the activations their backward needs (u = x·Aᵀ and the dropout mask per module), and scratch.
 * Package-private; the model calls {@link #forward} / {@link #backward} right after the frozen Conv1D they adapt.
 */
final class Lora {
    /** One adapted Conv1D: its transformers module name (e.g. transformer.h.3.mlp.c_fc) and shapes. */
    static final class Target {
        final String module;
        final int in, out, a, b;
        float[] u, mask;

        Target(String module, int in, int out, int a, int b) {
            this.module = module;
            this.in = in;
            this.out = out;
            this.a = a;
            this.b = b;
        }
    }

    final LoraConfig config;
    final float scale;
    final int R;
    /** [layer][module index in {@link LoraConfig#MODULES}], null where the module is not adapted. */
    final Target[][] byLayer;
    final List<Target> all = new ArrayList<>();
    private final float[] bt, dbt;
    private float[] du, xd;
    private int n = -1;

    /** Adds lora_A / lora_B of every targeted module to {@code layout}, in PEFT's named_parameters order. */
    Lora(LoraConfig config, ParamLayout layout, int L, int C, int I) {
        this.config = config;
        this.scale = config.scaling();
        this.R = config.r();
        byLayer = new Target[L][LoraConfig.MODULES.size()];
        int[] ins = {C, C, C, I}, outs = {3 * C, C, I, C};
        int maxOut = 0;
        for (int l = 0; l < L; l++) {
            for (int j = 0; j < ins.length; j++) {
                String module = "transformer.h." + l + "." + LoraConfig.MODULES.get(j);
                if (!config.targets(module)) continue;
                int a = layout.add(module + ".lora_A.weight", R, ins[j]).offset();
                int b = layout.add(module + ".lora_B.weight", outs[j], R).offset();
                Target t = new Target(module, ins[j], outs[j], a, b);
                byLayer[l][j] = t;
                all.add(t);
                maxOut = Math.max(maxOut, outs[j]);
            }
        }
        bt = new float[R * maxOut];
        dbt = new float[R * maxOut];
    }

    /** PEFT's init_lora_weights=True: A ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), B = 0. */
    void init(float[] params, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (Target t : all) {
            double bound = 1 / Math.sqrt(t.in);
            for (int i = 0; i < R * t.in; i++) params[t.a + i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
            java.util.Arrays.fill(params, t.b, t.b + t.out * R, 0f);
        }
    }

    private void ensure(int N) {
        if (N == n) return;
        n = N;
        int maxIn = 0;
        for (Target t : all) {
            t.u = new float[N * R];
            t.mask = null;
            maxIn = Math.max(maxIn, t.in);
        }
        du = new float[N * R];
        xd = new float[Math.multiplyExact(N, maxIn)];
    }

    /** out (N,OUT) += scale * dropout(x) @ Aᵀ @ Bᵀ; a dropout mask is drawn from {@code rng} when given. */
    void forward(Parallel pool, Target t, float[] out, float[] x, float[] params, SplittableRandom rng, int N) {
        ensure(N);
        float[] in = x;
        if (rng != null && config.dropout() > 0) {
            if (t.mask == null) t.mask = new float[N * t.in];
            TrainKernels.dropoutMask(pool, t.mask, N * t.in, (float) config.dropout(), rng);
            in = dropped(t, x, N);
        } else {
            t.mask = null;
        }
        LoraKernels.transpose(bt, params, t.b, t.out, R);
        LoraKernels.forward(pool, out, 0, t.u, in, 0, params, t.a, bt, scale, N, t.in, t.out, R);
    }

    /** The backward of {@link #forward}: dx += (may be null), grads of A and B at their offsets minus {@code gradBase}. */
    void backward(Parallel pool, Target t, float[] dx, float[] dout, float[] x, float[] params, float[] grads,
                  int gradBase, int N) {
        float[] in = t.mask == null ? x : dropped(t, x, N);
        LoraKernels.transpose(bt, params, t.b, t.out, R);
        LoraKernels.backward(pool, dx, 0, t.mask, grads, t.a - gradBase, grads, t.b - gradBase, du, dbt, dout, 0,
                t.u, in, 0, params, t.a, bt, scale, N, t.in, t.out, R);
    }

    private float[] dropped(Target t, float[] x, int N) {
        int size = N * t.in;
        for (int i = 0; i < size; i++) xd[i] = x[i] * t.mask[i];
        return xd;
    }

    /** Number of LoRA parameters (all A and B). */
    long parameterCount() {
        long c = 0;
        for (Target t : all) c += (long) R * (t.in + t.out);
        return c;
    }
}
