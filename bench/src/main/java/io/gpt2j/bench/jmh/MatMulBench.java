package io.gpt2j.bench.jmh;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.kernels.TypedMatMul;
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

/**
 * Prefill's and batched decode's matrix-matrix product: T rows (8 = the largest streaming batch, 64 = the tiled
 * prefill kernel) times gpt2's c_fc weight (768 x 3072) per dtype, plus the tied LM head (T x 768 times a
 * 8192 x 768 slice of wte, transposed). FLOPs per conv1d call: 2 * T * 768 * 3072 (T = 64: 302 MFLOP).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MatMulBench {
    static final int C = 768, OC = 3072, V = 8192;

    @Param({"F32", "F16", "BF16", "Q8_0"})
    public DType dtype;
    @Param({"8", "64"})
    public int rows;
    @Param({"1"})
    public int threads;

    Arena arena;
    Parallel pool;
    MemorySegment w, bias, head;
    TypedMatMul.Work work;
    float[] x, out, logits;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        pool = new Parallel(threads);
        w = Weights.matrix(arena, dtype, C, OC, 1);
        head = Weights.matrix(arena, dtype, V, C, 4);
        bias = Weights.matrix(arena, DType.F32, 1, OC, 2);
        work = new TypedMatMul.Work();
        x = Weights.vector(rows * C, 3);
        out = new float[rows * OC];
        logits = new float[rows * V];
    }

    @TearDown
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float conv1d() {
        TypedMatMul.conv1d(out, x, w, dtype, bias, rows, C, OC, pool, work);
        return out[0];
    }

    @Benchmark
    public float lmHead() {
        TypedMatMul.linearT(logits, x, head, dtype, rows, C, V, pool, work);
        return logits[0];
    }
}
