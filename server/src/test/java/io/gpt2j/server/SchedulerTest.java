package io.gpt2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.generate.CausalLm;
import io.gpt2j.generate.Gpt2Lm;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The scheduler without HTTP: prompts that queue up while the model is busy are prefilled in one pass (grouped by
 * {@link Prefill#GROUP_TOKENS}'s rule) and give the logits of a prefill alone. Tolerance 1e-5 absolute,
 * about 20 float ulps of tiny-gpt2's logits (|x| up to ~6): a row in a multi-row pass rounds differently in the last
 * bits (measured up to 6e-6); the argmax must agree exactly.
 */
class SchedulerTest {
    static LoadedCheckpoint ck;
    static Parallel pool;
    static Gpt2 model;

    @BeforeAll
    static void load() {
        ck = HfCheckpoint.load(TestServers.tiny());
        pool = new Parallel(2);
        model = new Gpt2(ck.config(), ck.weights(), pool);
    }

    @AfterAll
    static void close() {
        pool.close();
        ck.close();
    }

    @Test
    void promptsQueuedTogetherArePrefilledInOnePass() throws Exception {
        int[][] same = {{464, 2068, 7586, 21831, 18045}, {7454, 2402, 257, 640, 11}, {15496, 11, 616, 1438, 318}, {40, 1101, 257, 1310, 13}};
        assertEquals(List.of(1, 4), prefill(same), "one pass of 4 rows");
        // lengths 9, 6, 6, 2: the 3 longest share 6 positions ((3-1) x 6 = 12 beats 1 x 6 and 3 x 2); the 2-token one runs alone
        int[][] mixed = {{464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290}, {7454, 2402, 257, 640, 11, 612},
                {15496, 11, 616, 1438, 318, 1757}, {40, 1101}};
        assertEquals(List.of(2, 3), prefill(mixed), "two passes, the larger of 3 rows");
    }

    /** A busy scheduler with a decode step ready and a prompt queued runs the decode step first (no starvation). */
    @Test
    void aReadyDecodeStepRunsBeforeTheNextQueuedPrompt() throws Exception {
        int V = model.config().vocabSize();
        try (Scheduler sch = new Scheduler(model, 1 << 16, 2000); ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            long far = System.nanoTime() + 60_000_000_000L;
            Ticket t1 = sch.open(far), t2 = sch.open(far);
            CausalLm.Session running = sch.lm(t1).newSession(1, 32);
            running.forward(new int[][]{{464, 2068, 7586}}, null, new float[V], null, false);
            CountDownLatch busy = new CountDownLatch(1), release = new CountDownLatch(1);
            Future<?> hold = ex.submit(() -> sch.call(sch.open(far), () -> {
                busy.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return null;
            }));
            busy.await();
            long decodes0 = sch.batchCalls.get();
            Future<?> step = ex.submit(() -> {
                running.forward(new int[][]{{11}}, null, new float[V], null, false);
                return null;
            });
            while (sch.queued() < 1) Thread.sleep(1);
            Future<Long> prompt = ex.submit(() -> {
                sch.lm(t2).newSession(1, 32).forward(new int[][]{{7454, 2402, 257}}, null, new float[V], null, false);
                return sch.batchCalls.get() - decodes0; // decode steps that ran before this prefill finished
            });
            while (sch.queued() < 2) Thread.sleep(1);
            release.countDown();
            hold.get();
            step.get();
            assertEquals(1L, prompt.get(), "the decode step ran before the queued prompt's prefill");
            t1.close();
            t2.close();
        }
    }

    /** Prefills the prompts while the scheduler is held busy, checks their logits; returns [passes, most rows in one]. */
    private static List<Integer> prefill(int[][] prompts) throws Exception {
        int V = model.config().vocabSize();
        try (Scheduler sch = new Scheduler(model, 1 << 16, 2000); ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            long far = System.nanoTime() + 60_000_000_000L;
            CountDownLatch busy = new CountDownLatch(1), release = new CountDownLatch(1);
            Ticket holder = sch.open(far);
            Future<?> hold = ex.submit(() -> sch.call(holder, () -> {
                busy.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return null;
            }));
            busy.await();
            long calls0 = sch.prefillCalls.get(), rows0 = sch.prefillRows.get();
            List<Future<float[]>> fs = new ArrayList<>();
            for (int[] p : prompts) {
                fs.add(ex.submit(() -> {
                    try (Ticket t = sch.open(far)) {
                        CausalLm.Session s = sch.lm(t).newSession(1, 32);
                        float[] logits = new float[V];
                        s.forward(new int[][]{p}, null, logits, null, false);
                        return logits;
                    }
                }));
            }
            long end = System.nanoTime() + 10_000_000_000L;
            while (sch.queued() < prompts.length && System.nanoTime() < end) Thread.sleep(1);
            assertEquals(prompts.length, sch.queued(), "all prompts queued behind the busy scheduler");
            release.countDown();
            hold.get();
            Gpt2Lm alone = new Gpt2Lm(model);
            for (int i = 0; i < prompts.length; i++) {
                float[] got = fs.get(i).get(), want = new float[V];
                alone.newSession(1, 32).forward(new int[][]{prompts[i]}, null, want, null, false);
                double max = 0;
                for (int v = 0; v < V; v++) max = Math.max(max, Math.abs(got[v] - want[v]));
                System.out.printf("prompt %d (%d tokens): max abs diff %.3g vs a prefill alone%n", i, prompts[i].length, max);
                assertTrue(max <= 1e-5, "prompt " + i + ": " + max);
                assertEquals(argmax(want), argmax(got), "prompt " + i);
            }
            assertEquals(prompts.length, sch.prefillRows.get() - rows0, "every prompt prefilled once");
            assertEquals(0, sch.usedTokens(), "budget released");
            return List.of((int) (sch.prefillCalls.get() - calls0), (int) sch.maxPrefillRows.get());
        }
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
