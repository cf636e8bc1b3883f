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
 * Prefill attention of one gpt2 layer (12 heads of 64) over a {@code tokens}-token prompt, causal, the cache laid out
 * as the engine keeps it: {@code perQuery} runs the decode kernel once per query (what prefill did before),
 * {@code blocks} runs {@link Attention#prefill4} over blocks of {@link Attention#QB} queries (what forward() runs
 * from 8 new rows per sequence). Same arithmetic: tokens * (tokens + 1) / 2 query-key pairs per head.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PrefillAttentionBench {
    static final int NH = 12, HS = 64, E = NH * HS;
    static final float SCALE = 0.125f;

    @Param({"128", "512"})
    public int tokens;

    float[] q, keys, values, out, scores, qT, sT;
    byte[] mask;

    @Setup
    public void setUp() {
        q = Weights.vector(E * tokens, 1);
        keys = Weights.vector(E * tokens, 2);
        values = Weights.vector(E * tokens, 3);
        out = new float[E * tokens];
        scores = new float[tokens];
        qT = new float[HS * Attention.QB];
        sT = new float[tokens * Attention.QB];
        mask = new byte[tokens];
        Arrays.fill(mask, (byte) 1);
    }

    @Benchmark
    public float perQuery() {
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < NH; h++) {
                Attention.attend(out, t * E + h * HS, q, t * E + h * HS, keys, values, h * tokens * HS, mask, t + 1, HS, SCALE, scores);
            }
        }
        return out[0];
    }

    @Benchmark
    public float blocks() {
        for (int t0 = 0; t0 < tokens; t0 += Attention.QB) {
            int nq = Math.min(Attention.QB, tokens - t0);
            for (int h = 0; h < NH; h++) {
                Attention.prefill4(out, t0 * E + h * HS, E, q, t0 * E + h * HS, E, nq, keys, values, h * tokens * HS, mask, t0, SCALE, qT, sT);
            }
        }
        return out[0];
    }
}
