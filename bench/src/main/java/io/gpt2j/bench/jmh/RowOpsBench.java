package io.gpt2j.bench.jmh;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.kernels.Kernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** Layer norm over {@code rows} rows of 768 and gelu_new over rows x 3072 (gpt2's MLP width), in place. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RowOpsBench {
    static final int C = 768, I = 3072;

    @Param({"1", "64"})
    public int rows;

    Arena arena;
    MemorySegment weight, bias;
    float[] x, xn, fc;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        weight = Weights.matrix(arena, DType.F32, 1, C, 1);
        bias = Weights.matrix(arena, DType.F32, 1, C, 2);
        x = Weights.vector(rows * C, 3);
        xn = new float[rows * C];
        fc = Weights.vector(rows * I, 4);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float layerNorm() {
        Kernels.layerNorm(xn, x, weight, bias, rows, C, 1e-5f);
        return xn[0];
    }

    /** In place, so values drift toward gelu's fixed points; the cost does not depend on them (no branches). */
    @Benchmark
    public float gelu() {
        Kernels.activation(fc, 0, rows * I, Kernels.Activation.GELU_NEW);
        return fc[0];
    }
}
