package io.gpt2j.generate.logits;

import java.util.Arrays;

/**
 * Static helpers over one row of fp32 scores, computed the way torch's CPU kernels do (fp32 values, max-shifted
 * exponentials), so thresholds land where transformers puts them. No state; callers own the buffers.
 */
public final class Scores {
    private Scores() {
    }

    /** dst[0,n) = softmax(src[off, off+n)) in fp32: exp(x - max) * (1 / sum). -inf entries give 0. */
    public static void softmax(float[] src, int off, int n, float[] dst) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, src[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(src[off + i] - max);
            dst[i] = e;
            sum += e;
        }
        float inv = 1f / (float) sum;
        for (int i = 0; i < n; i++) dst[i] *= inv;
    }

    /** In place: x = (x - max) - log(sum(exp(x - max))), fp32 like torch's log_softmax. */
    public static void logSoftmax(float[] s, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, s[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (float) Math.exp(s[off + i] - max);
        float logSum = (float) Math.log(sum);
        for (int i = 0; i < n; i++) s[off + i] = (s[off + i] - max) - logSum;
    }

    /** The k-th largest value (1-based) of s[off, off+n); {@code scratch} must hold n floats. */
    public static float kthLargest(float[] s, int off, int n, int k, float[] scratch) {
        System.arraycopy(s, off, scratch, 0, n);
        Arrays.sort(scratch, 0, n);
        return scratch[n - k];
    }

    /** Index of the first maximum (torch.argmax picks the first on ties). */
    public static int argmax(float[] s, int off, int n) {
        int best = 0;
        float bv = s[off];
        for (int i = 1; i < n; i++) {
            if (s[off + i] > bv) {
                bv = s[off + i];
                best = i;
            }
        }
        return best;
    }

    /** Sets s[i] = fill wherever remove[i]. */
    static void maskFill(float[] s, int off, int n, boolean[] remove, float fill) {
        for (int i = 0; i < n; i++) if (remove[i]) s[off + i] = fill;
    }

    /** A long that sorts like the float value (ascending), then by index: for allocation-free argsort. */
    static long sortKey(float v, int index) {
        int bits = Float.floatToIntBits(v == 0f ? 0f : v);
        bits ^= (bits >> 31) & 0x7fffffff;
        return ((long) bits << 32) | (index & 0xffffffffL);
    }

    static int keyIndex(long key) {
        return (int) key;
    }

    /**
     * Sorts a[0, n) ascending exactly as {@link java.util.Arrays#sort(float[], int, int)} orders floats (-0.0 before
     * 0.0, NaN last), without allocating: Arrays.sort allocates run buffers when the scores hold long runs (e.g.
     * after top-k set most of them to -inf). LSD radix sort over 4 bytes of an order-preserving key; {@code keys}
     * and {@code tmp} hold at least n ints.
     */
    static void sortAscending(float[] a, int n, int[] keys, int[] tmp, int[] count) {
        for (int i = 0; i < n; i++) {
            int bits = Float.floatToIntBits(a[i]);
            keys[i] = bits < 0 ? ~bits : bits ^ 0x80000000; // unsigned order of keys = order of the floats
        }
        int[] src = keys, dst = tmp;
        for (int shift = 0; shift < 32; shift += 8) {
            java.util.Arrays.fill(count, 0, 257, 0);
            for (int i = 0; i < n; i++) count[((src[i] >>> shift) & 0xff) + 1]++;
            for (int b = 0; b < 256; b++) count[b + 1] += count[b];
            for (int i = 0; i < n; i++) dst[count[(src[i] >>> shift) & 0xff]++] = src[i];
            int[] t = src;
            src = dst;
            dst = t;
        }
        for (int i = 0; i < n; i++) { // four passes: the result is back in keys
            int k = src[i];
            a[i] = Float.intBitsToFloat(k < 0 ? k ^ 0x80000000 : ~k);
        }
    }

    static int[] grow(int[] a, int n) {
        return a != null && a.length >= n ? a : new int[n];
    }

    static float[] grow(float[] a, int n) {
        return a != null && a.length >= n ? a : new float[n];
    }

    static long[] grow(long[] a, int n) {
        return a != null && a.length >= n ? a : new long[n];
    }

    static boolean[] grow(boolean[] a, int n) {
        return a != null && a.length >= n ? a : new boolean[n];
    }

    static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
