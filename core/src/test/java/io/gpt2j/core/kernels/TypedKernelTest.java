package io.gpt2j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.model.WeightConversion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The typed (F16, BF16, Q8_0) matmuls and the widening kernel against their scalar twins, on odd shapes and row
 * counts that reach every path (streaming, tiled streaming, column panels); weights start at unaligned addresses.
 */
class TypedKernelTest {
    static final Parallel POOL = new Parallel(2);
    static final DType[] TYPES = {DType.F16, DType.BF16, DType.Q8_0};
    final SplittableRandom rnd = new SplittableRandom(7);

    @AfterAll
    static void close() {
        POOL.close();
    }

    float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        return a;
    }

    /** A weight tensor of the given dtype whose data starts 2 bytes past a 64-byte boundary. */
    static Tensor weight(float[] a, DType dt) {
        Tensor f = new Tensor("w", DType.F32, new long[] {a.length}, KernelTwinTest.seg(a));
        Tensor t = WeightConversion.to(f, dt, Arena.ofAuto());
        MemorySegment m = Arena.ofAuto().allocate(t.data().byteSize() + 8, 64).asSlice(2, t.data().byteSize());
        m.copyFrom(t.data());
        return new Tensor("w", dt, t.shape(), m);
    }

    @Test
    void widenMatchesScalarAtUnalignedRanges() {
        float[] a = rand(32 * 40);
        for (DType dt : TYPES) {
            Tensor w = weight(a, dt);
            MemorySegment dst = Arena.ofAuto().allocate(4L * a.length + 8, 64);
            for (int[] r : new int[][] {{0, 1280}, {3, 61}, {32, 64}, {17, 5}, {40, 600}}) {
                Dequant.toF32(dst, 1, w.data(), dt, r[0], r[1]);
                for (int k = 0; k < r[1]; k++) {
                    assertEquals(Dequant.scalarAt(w.data(), dt, r[0] + k), dst.getAtIndex(MatMul.F32, 1 + k), 0f, dt + " element " + (r[0] + k));
                }
            }
        }
    }

    @Test
    void conv1dMatchesScalar() {
        // F32 too: from 9 rows on it is copied into the same packed panels as the widened types
        for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16, DType.Q8_0}) {
            for (int[] d : new int[][] {{1, 64, 96}, {1, 37, 64}, {1, 40, 200}, {1, 131, 160}, {1, 7, 32}, {3, 40, 200}, {5, 48, 144}, {8, 64, 64}, {17, 48, 192}, {9, 32, 40}}) {
                int T = d[0], C = d[1], OC = d[2];
                float[] x = rand(T * C), b = rand(OC);
                Tensor w = weight(rand(C * OC), dt);
                float[] v = new float[T * OC], s = new float[T * OC];
                TypedMatMul.Work work = new TypedMatMul.Work();
                TypedMatMul.conv1d(v, x, w.data(), dt, KernelTwinTest.seg(b), T, C, OC, POOL, work);
                TypedMatMul.conv1dScalar(s, x, w.data(), dt, KernelTwinTest.seg(b), T, C, OC, 0, OC);
                KernelTwinTest.assertClose(v, s, 1e-5 * C, "typed conv1d " + dt + " " + T + "x" + C + "x" + OC);
            }
        }
    }

    /**
     * Transposed storage (Q8_0_T, F16_T, BF16_T: a Conv1D weight stored as out rows of in values, Q8_0 blocks along
     * in): every path of conv1d (one row: dot products; 2-8 rows: widened row groups; more: packed column panels)
     * against the scalar twin, and the stored element (c, j) against the logical weight it encodes (Q8_0: within half
     * a quantization step of its block along c plus the fp16 scale's rounding; F16/BF16: their rounding, 2^-11 and
     * 2^-8 relative) and against Tensor.getFloat, which training and export read.
     */
    @Test
    void conv1dOnTransposedWeightsMatchesScalarAndTheLogicalWeight() {
        for (DType dt : new DType[] {DType.Q8_0_T, DType.F16_T, DType.BF16_T}) {
            for (int[] d : new int[][] {{1, 64, 96}, {1, 32, 40}, {1, 160, 1280}, {3, 64, 200}, {8, 96, 64}, {9, 32, 40}, {17, 64, 192}, {40, 128, 72}}) {
                int T = d[0], C = d[1], OC = d[2];
                float[] x = rand(T * C), b = rand(OC), a = rand(C * OC);
                Tensor f = new Tensor("w", DType.F32, new long[] {C, OC}, KernelTwinTest.seg(a));
                Tensor w = WeightConversion.to(f, dt, Arena.ofAuto(), POOL);
                assertEquals(dt, w.dtype());
                assertEquals(dt.byteSize((long) C * OC), w.data().byteSize());
                for (int j = 0; j < OC; j++) {
                    for (int cb = 0; cb < C; cb += 32) {
                        float amax = 0;
                        for (int c = cb; c < cb + 32; c++) amax = Math.max(amax, Math.abs(a[c * OC + j]));
                        for (int c = cb; c < cb + 32; c++) {
                            float q = TypedMatMul.weightAt(w.data(), dt, C, OC, c, j), v = a[c * OC + j];
                            assertEquals(q, w.getFloat((long) c * OC + j), 0f, "getFloat agrees with the kernels' element");
                            float tol = switch (dt) {
                                case Q8_0_T -> amax / 127 * (0.5f + 127 * 0x1p-11f) + 1e-7f;
                                case F16_T -> Math.abs(v) * 0x1p-11f + 1e-7f;
                                default -> Math.abs(v) * 0x1p-8f;
                            };
                            assertEquals(v, q, tol, dt + " element (" + c + ", " + j + ")");
                        }
                    }
                }
                float[] v = new float[T * OC], s = new float[T * OC];
                TypedMatMul.conv1d(v, x, w.data(), dt, KernelTwinTest.seg(b), T, C, OC, POOL, new TypedMatMul.Work());
                TypedMatMul.conv1dScalar(s, x, w.data(), dt, KernelTwinTest.seg(b), T, C, OC, 0, OC);
                KernelTwinTest.assertClose(v, s, 1e-5 * C, dt + " conv1d " + T + "x" + C + "x" + OC);
            }
        }
    }

    /** The four-row F16 decode kernel leaves inputs of |x| >= 2^14 to the one-row path; both must match the scalar. */
    @Test
    void f16DecodeWithHugeInputMatchesScalar() {
        int C = 40, OC = 96;
        float[] x = rand(C), b = rand(OC);
        x[5] = 3e4f;
        x[22] = -7e4f;
        Tensor w = weight(rand(C * OC), DType.F16);
        float[] v = new float[OC], s = new float[OC];
        TypedMatMul.conv1d(v, x, w.data(), DType.F16, KernelTwinTest.seg(b), 1, C, OC, POOL, new TypedMatMul.Work());
        TypedMatMul.conv1dScalar(s, x, w.data(), DType.F16, KernelTwinTest.seg(b), 1, C, OC, 0, OC);
        KernelTwinTest.assertClose(v, s, 1e-5 * 7e4, "F16 conv1d with |x| up to 7e4");
    }

    @Test
    void linearTMatchesScalar() {
        for (DType dt : TYPES) {
            // Q8_0 with C a multiple of 32 and 2-8 rows takes the fused multi-row kernels (q8Rows2/4/8; an odd V leaves
            // a last output row to the scalar tail); the rest the widened panels
            for (int[] d : new int[][] {{1, 64, 301}, {1, 40, 20}, {1, 96, 33}, {6, 32, 37}, {3, 96, 16}, {2, 64, 45}, {4, 64, 31},
                    {5, 32, 9}, {8, 128, 66}, {7, 96, 3}}) {
                int T = d[0], C = d[1], V = d[2];
                float[] x = rand(T * C);
                Tensor w = weight(rand(V * C), dt);
                float[] v = new float[T * V], s = new float[T * V];
                TypedMatMul.linearT(v, x, w.data(), dt, T, C, V, POOL, new TypedMatMul.Work());
                TypedMatMul.linearTScalar(s, x, w.data(), dt, T, C, V, 0, V);
                KernelTwinTest.assertClose(v, s, 1e-5 * C, "typed linearT " + dt + " " + T + "x" + C + "x" + V);
            }
        }
    }

    @Test
    void q8RoundTripIsWithinHalfAStep() {
        float[] a = rand(32 * 8);
        Tensor w = weight(a, DType.Q8_0);
        for (int blk = 0; blk < 8; blk++) {
            float amax = 0;
            for (int u = 0; u < 32; u++) amax = Math.max(amax, Math.abs(a[blk * 32 + u]));
            for (int u = 0; u < 32; u++) {
                int i = blk * 32 + u;
                float err = Math.abs(Dequant.scalarAt(w.data(), DType.Q8_0, i) - a[i]);
                assertTrue(err <= amax / 127 * 0.5 + amax * 1e-3, "element " + i + " error " + err);
            }
        }
    }
}
