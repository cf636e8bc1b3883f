package io.gpt2j.core.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A persistent worker pool for kernels: the caller and {@code threads - 1} daemon workers split a range of
 * work items; no thread is created per operation. Jobs from different callers run one at a time.
 * Workers spin briefly between jobs (decode issues hundreds of small jobs per token) and then park.
 */
public final class Parallel implements AutoCloseable {
    /** Work over the item range [from, to). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private static final long SPIN_NANOS = 200_000;

    /** One forRange call; immutable except its counters, so a late worker can never mix two jobs. */
    private static final class Job {
        final RangeTask task;
        final int items, chunks, chunkSize;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(RangeTask task, int items, int chunks) {
            this.task = task;
            this.items = items;
            this.chunks = chunks;
            this.chunkSize = (items + chunks - 1) / chunks;
        }

        void runChunks() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                int from = c * chunkSize, to = Math.min(items, from + chunkSize);
                try {
                    if (from < to) task.run(from, to);
                } catch (Throwable ex) {
                    failure = ex;
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock jobLock = new ReentrantLock();
    private volatile Job current;
    private volatile boolean closed;

    public Parallel(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            Thread t = new Thread(this::workerLoop, "gpt2j-kernel-" + (i + 1));
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    /** Java cannot see physical cores; use all logical CPUs up to 2 per... simply all available processors. */
    public static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task} over [0, n) in chunks of at least {@code grain} items, on all threads, and returns when
     * every chunk is done. An exception in any chunk is rethrown here.
     */
    public void forRange(int n, int grain, RangeTask task) {
        if (n <= 0) return;
        int g = Math.max(1, grain);
        int maxChunks = (n + g - 1) / g;
        if (threads == 1 || maxChunks == 1) {
            task.run(0, n);
            return;
        }
        jobLock.lock();
        try {
            Job job = new Job(task, n, Math.min(maxChunks, threads * 4));
            current = job;
            for (Thread w : workers) LockSupport.unpark(w);
            job.runChunks();
            while (job.done.get() < job.chunks) Thread.onSpinWait();
            current = null;
            Throwable f = job.failure;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            if (f != null) throw new RuntimeException(f);
        } finally {
            jobLock.unlock();
        }
    }

    private void workerLoop() {
        Job last = null;
        while (!closed) {
            Job j = current;
            if (j != null && j != last) {
                last = j;
                j.runChunks();
                continue;
            }
            long start = System.nanoTime();
            while (current == last || current == null) {
                if (closed || System.nanoTime() - start > SPIN_NANOS) break;
                Thread.onSpinWait();
            }
            Job k = current;
            if (!closed && (k == null || k == last)) LockSupport.parkNanos(this, 2_000_000);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
