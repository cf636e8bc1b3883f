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
 * Decode's matrix-vector product (one row, T = 1) on gpt2's MLP c_fc shape (768 x 3072) per weight dtype, each call
 * on the next weight of a ring much larger than the last-level cache, as decode streams its weights. Weight bytes
 * per call: F32 9.4 MB, F16/BF16 4.7 MB, Q8_0 2.5 MB; divide by the time for GB/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MatVecBench {
    static final int C = 768, OC = 3072;

    @Param({"F32", "F16", "BF16", "Q8_0"})
    public DType dtype;
    @Param({"1"})
    public int threads;
    /** Size of the weight ring in MB; 0 keeps one weight (cache-resident when it fits). */
    @Param({"256"})
    public int ringMb;

    Arena arena;
    Parallel pool;
    MemorySegment[] ring;
    MemorySegment bias;
    TypedMatMul.Work work;
    float[] x, out;
    int next;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        pool = new Parallel(threads);
        ring = Weights.ring(arena, dtype, C, OC, ringMb);
        bias = Weights.matrix(arena, DType.F32, 1, OC, 2);
        work = new TypedMatMul.Work();
        x = Weights.vector(C, 3);
        out = new float[OC];
    }

    @TearDown
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float conv1d() {
        MemorySegment w = ring[next];
        next = next + 1 == ring.length ? 0 : next + 1;
        TypedMatMul.conv1d(out, x, w, dtype, bias, 1, C, OC, pool, work);
        return out[0];
    }
}
