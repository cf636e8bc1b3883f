package io.gpt2j.core.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.kernels.Kernels;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.load.RandomCheckpoint;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue #2 "no allocation per token": a decode step (Gpt2.forward of one token per row, Gpt2.decodeBatch) allocates
 * nothing on the calling thread or the pool's workers once warm. Measured with ThreadMXBean's per-thread allocation
 * counters over WINDOW steps, after a prefill and a warm-up. The model is random, of small real-GPT-2-like shape
 * (E=128, 2 heads of 64 as in every GPT-2 size, 2 layers, V=512) so that every pool path (streaming parts, attention
 * chunks, LM head) runs on 2 threads, and attention takes its register path for 64-float heads.
 *
 * Bounds. Scalar engine (-Dgpt2j.scalar=true, surefire's scalar-engine run): 0 bytes, exactly: nothing on the path
 * allocates, interpreted or compiled. It too gets more than one window, because a deoptimization (C2 code meeting a
 * branch it never saw, e.g. a new cache length) re-creates on the heap the objects escape analysis had removed, once
 * (seen: 1056 bytes in one window). Vector engine: until C2 has compiled a kernel, the interpreter boxes every
 * Vector API value (hundreds of KB per step); so the test measures window after window (for up to WARM_NANOS) and
 * needs one window at or under VECTOR_BOUND bytes (16 B a step on average). One forRange with a capturing lambda
 * per step (~40 B) fails every window; before this work a step allocated ~8 KB. Typically the first to eleventh
 * window reads 0 bytes. The F16 KV cache (its store and its own attention tasks) is measured the same way.
 */
class DecodeAllocationTest {
    static final int WINDOW = 64, VECTOR_BOUND = WINDOW * 16;
    /** How long the vector engine may take to reach steady state (C2 compiles in the background; the machine is shared). */
    static final long WARM_NANOS = 30_000_000_000L;

    @TempDir
    static Path dir;
    static LoadedCheckpoint checkpoint;
    static Parallel pool;

    @BeforeAll
    static void writeModel() {
        RandomCheckpoint.write(dir, Gpt2Config.of(512, 128, 128, 2, 2), DType.F32, 7, null);
        checkpoint = HfCheckpoint.load(dir);
        pool = new Parallel(2);
    }

    @AfterAll
    static void close() {
        pool.close();
        checkpoint.close();
    }

    static Gpt2 model(DType dt) {
        return model(dt, KvDtype.F32);
    }

    static Gpt2 model(DType dt, KvDtype kv) {
        Gpt2Weights w = dt == DType.F32 ? checkpoint.weights() : WeightConversion.convert(checkpoint.weights(), dt);
        return new Gpt2(checkpoint.config(), w, pool, kv);
    }

    /** The F16 KV cache: its store in the layer loop and its two attention tasks (F32 and Q8_0 weights). */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "Q8_0"})
    void f16CacheAllocatesNothing(DType dt) {
        Gpt2 model = model(dt, KvDtype.F16);
        forwardSteps(model, 1, dt);
        forwardSteps(model, 2, dt);
        decodeBatchSteps(model, dt);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "Q8_0"})
    void forwardOneTokenAllocatesNothing(DType dt) {
        Gpt2 model = model(dt);
        forwardSteps(model, 1, dt); // single sequence: the fused one-row kernels
        forwardSteps(model, 2, dt); // a batch: the panel-widening kernels
    }

    private static void forwardSteps(Gpt2 model, int B, DType dt) {
        int V = model.config().vocabSize();
        InferenceState state = model.newState(B, model.config().nPositions());
        float[] logits = new float[B * V];
        int[][] prompt = new int[B][8];
        for (int b = 0; b < B; b++) for (int t = 0; t < 8; t++) prompt[b][t] = 1 + 8 * b + t;
        int[][] step = new int[B][1];
        assertWindow("forward B=" + B + " " + dt + " " + model.kvDtype() + " cache", () -> {
            state.reset();
            model.forward(state, prompt, null, null, logits, null, false);
        }, () -> {
            for (int b = 0; b < B; b++) step[b][0] = argmax(logits, b * V, V);
            model.forward(state, step, null, null, logits, null, false);
        });
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "Q8_0"})
    void decodeBatchAllocatesNothing(DType dt) {
        decodeBatchSteps(model(dt), dt);
    }

    private static void decodeBatchSteps(Gpt2 model, DType dt) {
        int n = 5, V = model.config().vocabSize();
        InferenceState[] states = new InferenceState[n];
        for (int i = 0; i < n; i++) states[i] = model.newState(1, model.config().nPositions());
        float[] logits = new float[n * V];
        int[] next = new int[n];
        assertWindow("decodeBatch n=" + n + " " + dt + " " + model.kvDtype() + " cache", () -> {
            for (int i = 0; i < n; i++) {
                states[i].reset();
                int[][] prompt = new int[1][1 + i]; // different lengths, as in continuous batching
                Arrays.fill(prompt[0], 3 + i);
                model.forward(states[i], prompt, null, null, null, null, false);
            }
        }, () -> {
            model.decodeBatch(states, next, logits);
            for (int i = 0; i < n; i++) next[i] = argmax(logits, i * V, V);
        });
    }

    /** Warm-up, then windows of WINDOW steps after a fresh prefill each, until one is within the bound. */
    private static void assertWindow(String what, Runnable prefill, Runnable step) {
        AllocationMeter meter = new AllocationMeter();
        long bound = Kernels.SCALAR ? 0 : VECTOR_BOUND;
        for (int r = 0; r < 3; r++) { // warm-up: grows the scratch buffers, loads classes
            prefill.run();
            for (int s = 0; s < WINDOW; s++) step.run();
        }
        long deadline = System.nanoTime() + WARM_NANOS, min = Long.MAX_VALUE, last = 0;
        int w = 0;
        do {
            prefill.run();
            long before = meter.bytes();
            for (int s = 0; s < WINDOW; s++) step.run();
            last = meter.bytes() - before;
            min = Math.min(min, last);
            w++;
            if (last <= bound) {
                System.out.println(what + ": " + last + " bytes over " + WINDOW + " decode steps (window " + w
                        + ", bound " + bound + ", engine " + (Kernels.SCALAR ? "scalar" : "vector") + ", "
                        + meter.threads() + " threads)");
                return;
            }
        } while (System.nanoTime() < deadline);
        throw new AssertionError(what + ": " + w + " windows of " + WINDOW + " decode steps each allocated more than "
                + bound + " bytes (least " + min + ", last " + last + ")");
    }

    private static int argmax(float[] x, int o, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (x[o + i] > x[o + best]) best = i;
        return best;
    }

    /** Bytes allocated so far by the calling thread and every kernel-pool worker (threads named gpt2j-kernel-*). */
    static final class AllocationMeter {
        private final com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        private final long[] ids;

        AllocationMeter() {
            ids = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t == Thread.currentThread() || t.getName().startsWith("gpt2j-kernel-"))
                    .mapToLong(Thread::threadId).toArray();
            assertTrue(ids.length >= 2, "no kernel worker thread found");
            assertTrue(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled(), "allocation counters off");
        }

        long bytes() {
            long sum = 0;
            for (long id : ids) sum += mx.getThreadAllocatedBytes(id);
            return sum;
        }

        int threads() {
            return ids.length;
        }
    }
}
