package io.gpt2j.train.kernels;

import io.gpt2j.core.kernels.Parallel;

/**
 * Forward and backward of a LoRA update beside a frozen Conv1D: {@code out += scale * (x @ A^T) @ B^T} with PEFT's
 * shapes A (R,IN), B (OUT,R). B is used through its transpose {@code bt} (R,OUT) so every inner loop is a
 * contiguous dot or axpy. Backward accumulates with +=; each thread writes disjoint outputs (thread-count
 * independent results). Allocation-free apart from the pool's task objects.
 */
public final class LoraKernels {
    private LoraKernels() {
    }

    private static int grain(int work) {
        return Math.max(1, 32768 / Math.max(1, work));
    }

    // bt (R,OUT) = b^T; b (OUT,R)
    public static void transpose(float[] bt, float[] b, int bOff, int OUT, int R) {
        for (int o = 0; o < OUT; o++) {
            for (int k = 0; k < R; k++) bt[k * OUT + o] = b[bOff + o * R + k];
        }
    }

    // out (N,OUT) +=, u (N,R) = x @ A^T saved for backward; x (N,IN) (already dropped out), a (R,IN), bt (R,OUT)
    public static void forward(Parallel pool, float[] out, int outOff, float[] u, float[] x, int xOff,
                               float[] a, int aOff, float[] bt, float scale, int N, int IN, int OUT, int R) {
        pool.forRange(N, grain(R * (IN + OUT)), (from, to) -> {
            for (int n = from; n < to; n++) {
                for (int k = 0; k < R; k++) u[n * R + k] = Vec.dot(x, xOff + n * IN, a, aOff + k * IN, IN);
                for (int k = 0; k < R; k++) Vec.axpy(out, outOff + n * OUT, bt, k * OUT, scale * u[n * R + k], OUT);
            }
        });
    }

    /**
     * dx (N,IN) += mask * (du @ A) (mask (N,IN) or null), da (R,IN) +=, db (OUT,R) +=; dout (N,OUT), u (N,R) and x
     * (N,IN) as in the forward. Scratch: du (N,R), dbt (R,OUT). {@code dx} may be null (nothing below needs it).
     */
    public static void backward(Parallel pool, float[] dx, int dxOff, float[] mask, float[] da, int daOff,
                                float[] db, int dbOff, float[] du, float[] dbt, float[] dout, int doutOff,
                                float[] u, float[] x, int xOff, float[] a, int aOff, float[] bt, float scale,
                                int N, int IN, int OUT, int R) {
        // du = scale * dout @ B
        pool.forRange(N, grain(R * OUT), (from, to) -> {
            for (int n = from; n < to; n++) {
                for (int k = 0; k < R; k++) du[n * R + k] = scale * Vec.dot(dout, doutOff + n * OUT, bt, k * OUT, OUT);
            }
        });
        // dB^T = scale * u^T @ dout, dA = du^T @ x: one row k per task, rows summed over n in order
        pool.forRange(R, 1, (from, to) -> {
            for (int k = from; k < to; k++) {
                java.util.Arrays.fill(dbt, k * OUT, (k + 1) * OUT, 0f);
                for (int n = 0; n < N; n++) {
                    float s = scale * u[n * R + k];
                    if (s != 0f) Vec.axpy(dbt, k * OUT, dout, doutOff + n * OUT, s, OUT);
                    float d = du[n * R + k];
                    if (d != 0f) Vec.axpy(da, daOff + k * IN, x, xOff + n * IN, d, IN);
                }
            }
        });
        for (int o = 0; o < OUT; o++) {
            for (int k = 0; k < R; k++) db[dbOff + o * R + k] += dbt[k * OUT + o];
        }
        if (dx == null) return;
        pool.forRange(N, grain(R * IN), (from, to) -> {
            for (int n = from; n < to; n++) {
                int row = dxOff + n * IN;
                if (mask == null) {
                    for (int k = 0; k < R; k++) Vec.axpy(dx, row, a, aOff + k * IN, du[n * R + k], IN);
                } else {
                    for (int i = 0; i < IN; i++) {
                        float m = mask[n * IN + i];
                        if (m == 0f) continue;
                        float s = 0f;
                        for (int k = 0; k < R; k++) s += du[n * R + k] * a[aOff + k * IN + i];
                        dx[row + i] += m * s;
                    }
                }
            }
        });
    }
}
