package io.gpt2j.bench.jmh;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.model.WeightConversion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Random weights and inputs for the JMH benchmarks: N(0, 0.02) like a fresh GPT-2, stored in any matmul dtype. */
final class Weights {
    private Weights() {
    }

    /** A (rows, cols) weight in {@code dt}, converted from F32 as {@code --dtype} does at load. */
    static MemorySegment matrix(Arena arena, DType dt, int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        MemorySegment f32 = arena.allocate(4L * rows * cols, 64);
        for (long i = 0; i < (long) rows * cols; i++) f32.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) (r.nextGaussian() * 0.02));
        if (dt == DType.F32) return f32;
        return WeightConversion.to(new Tensor("w", DType.F32, new long[] {rows, cols}, f32), dt, arena).data();
    }

    /** {@code count} distinct weights adding up to about {@code ringMb} MB (at least one). */
    static MemorySegment[] ring(Arena arena, DType dt, int rows, int cols, int ringMb) {
        long bytes = dt.byteSize((long) rows * cols);
        int count = (int) Math.max(1, ((long) ringMb << 20) / bytes);
        MemorySegment first = matrix(arena, dt, rows, cols, 1);
        MemorySegment[] ws = new MemorySegment[count];
        for (int i = 0; i < count; i++) {
            ws[i] = arena.allocate(first.byteSize(), 64);
            ws[i].copyFrom(first); // same values, distinct memory: every call streams its weight from DRAM
        }
        return ws;
    }

    static float[] vector(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }
}
