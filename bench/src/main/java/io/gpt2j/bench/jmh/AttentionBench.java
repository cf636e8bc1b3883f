package io.gpt2j.bench.jmh;

import io.gpt2j.core.kernels.Attention;
import java.util.Arrays;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One decode step's attention for one layer of gpt2 (12 heads of 64) over a KV cache of {@code positions} tokens,
 * laid out as the engine keeps it (head-major, [NH][capacity][HS]). Cache bytes read per call: 2 * 4 * 768 *
 * positions (1024 positions: 6.3 MB).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AttentionBench {
    static final int NH = 12, HS = 64, E = NH * HS;

    @Param({"128", "1024"})
    public int positions;

    float[] q, keys, values, out, scores;
    byte[] mask;

    @Setup
    public void setUp() {
        q = Weights.vector(E, 1);
        keys = Weights.vector(E * positions, 2);
        values = Weights.vector(E * positions, 3);
        out = new float[E];
        scores = new float[positions];
        mask = new byte[positions];
        Arrays.fill(mask, (byte) 1);
    }

    @Benchmark
    public float attend() {
        float scale = 1f / (float) Math.sqrt(HS);
        for (int h = 0; h < NH; h++) {
            Attention.attend(out, h * HS, q, h * HS, keys, values, h * positions * HS, mask, positions, HS, scale, scores);
        }
        return out[0];
    }
}
