package io.gpt2j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.model.WeightConversion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The vectorised, multi-threaded Q8_0 quantizer and the pooled F16/BF16/F32 conversions against the scalar
 * reference ({@link Dequant#quantizeQ8}, element-wise rounding), byte for byte: random weights of mixed
 * magnitudes plus blocks that hit the edges (all zero, -0, exact halves after scaling, subnormal scales whose
 * 1/d overflows, NaN, inf), from F32, F16 and BF16 sources, over ranges that split blocks unevenly.
 */
class QuantizeQ8Test {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** 32 * blocks values: random blocks of varying scale, with edge-case blocks mixed in. */
    static float[] values(int blocks, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[32 * blocks];
        for (int b = 0; b < blocks; b++) {
            float scale = (float) Math.pow(10, r.nextInt(-6, 3));
            for (int u = 0; u < 32; u++) a[32 * b + u] = (float) (r.nextGaussian() * scale);
            int kind = b % 11;
            int o = 32 * b;
            switch (kind) {
                case 1 -> java.util.Arrays.fill(a, o, o + 32, 0f);
                case 2 -> { // max 127 so that 1/d = 1: every x*id is x itself, and halves must round away from zero
                    for (int u = 0; u < 32; u++) a[o + u] = (u - 16) + 0.5f;
                    a[o] = 127f;
                    a[o + 1] = -0f;
                }
                case 3 -> { // d underflows to a subnormal: 1/d is +inf
                    for (int u = 0; u < 32; u++) a[o + u] = Float.MIN_VALUE * (u % 3 - 1);
                    a[o + 5] = 1e-43f;
                }
                case 4 -> a[o + 7] = Float.NaN;
                case 5 -> a[o + 9] = Float.NEGATIVE_INFINITY;
                case 6 -> a[o + 3] = 60000f; // near F16's largest finite value
                default -> {
                }
            }
        }
        return a;
    }

    static MemorySegment stored(float[] a, DType dt, Arena arena) {
        MemorySegment m = arena.allocate(dt.byteSize(a.length) + 2, 64).asSlice(2, dt.byteSize(a.length)); // unaligned on purpose
        for (int i = 0; i < a.length; i++) {
            switch (dt) {
                case F32 -> m.setAtIndex(F32, i, a[i]);
                case F16 -> m.set(I16, 2L * i, Float.floatToFloat16(a[i]));
                case BF16 -> m.set(I16, 2L * i, (short) (Float.floatToRawIntBits(a[i]) >>> 16));
                default -> throw new IllegalArgumentException(dt.toString());
            }
        }
        return m;
    }

    static void assertSameBytes(MemorySegment want, MemorySegment got, String what) {
        long at = want.mismatch(got);
        assertEquals(-1, at, what + ": first differing byte at " + at + " (block " + (at / 34) + ")");
    }

    @Test
    void vectorBlocksEqualTheScalarReferenceByteForByte() {
        int blocks = 700; // more than two scratch loads, not a multiple of them
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scratch = arena.allocate(4L * 32 * Dequant.QUANT_SCRATCH_BLOCKS, 64);
            for (DType src : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                MemorySegment in = stored(values(blocks, 5), src, arena);
                MemorySegment want = arena.allocate(34L * blocks), got = arena.allocate(34L * blocks + 1).asSlice(1);
                Dequant.quantizeQ8(want, in, src, 32L * blocks);
                long[][] ranges = {{0, 3}, {3, 260}, {260, 261}, {261, 700}};
                for (long[] r : ranges) Dequant.quantizeQ8Blocks(got, in, src, r[0], r[1], scratch);
                assertSameBytes(want, got, src + " source");
            }
        }
    }

    @Test
    void pooledConversionEqualsTheScalarReferenceForEveryThreadCount() {
        float[] a = values(1000, 9); // 32,000 elements: several work units, the last one partial
        for (int threads : new int[] {1, 2, 3}) {
            try (Parallel pool = new Parallel(threads); Arena arena = Arena.ofShared()) {
                for (DType src : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                    Tensor t = new Tensor("w", src, new long[] {1000, 32}, stored(a, src, arena));
                    MemorySegment ref = arena.allocate(DType.Q8_0.byteSize(a.length));
                    Dequant.quantizeQ8(ref, t.data(), src, a.length);
                    assertSameBytes(ref, WeightConversion.to(t, DType.Q8_0, arena, pool).data(), threads + " threads, " + src + " -> Q8_0");
                    for (DType target : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                        if (target == src) continue;
                        MemorySegment want = arena.allocate(target.byteSize(a.length));
                        for (int i = 0; i < a.length; i++) {
                            float x = t.getFloat(i);
                            switch (target) {
                                case F32 -> want.setAtIndex(F32, i, x);
                                case F16 -> want.setAtIndex(I16, i, Float.floatToFloat16(x));
                                default -> want.setAtIndex(I16, i, io.gpt2j.core.io.SafeTensorsWriter.toBf16(x));
                            }
                        }
                        assertSameBytes(want, WeightConversion.to(t, target, arena, pool).data(), threads + " threads, " + src + " -> " + target);
                    }
                }
            }
        }
    }

    @Test
    void q8SourceIsDequantizedWhenConvertedBack() {
        float[] a = values(40, 3);
        try (Parallel pool = new Parallel(2); Arena arena = Arena.ofShared()) {
            Tensor f = new Tensor("w", DType.F32, new long[] {40, 32}, stored(a, DType.F32, arena));
            Tensor q = WeightConversion.to(f, DType.Q8_0, arena, pool);
            Tensor back = WeightConversion.to(q, DType.F32, arena, pool);
            for (int i = 0; i < a.length; i++) {
                float d = Dequant.scalarAt(q.data(), DType.Q8_0, i);
                assertEquals(Float.floatToRawIntBits(d), Float.floatToRawIntBits(back.getFloat(i)), "element " + i);
                assertEquals(Float.floatToRawIntBits(d), Float.floatToRawIntBits(q.getFloat(i)), "Tensor.getFloat on Q8_0, element " + i);
            }
        }
    }
}
