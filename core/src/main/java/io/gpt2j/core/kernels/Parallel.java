package io.gpt2j.core.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A persistent worker pool for kernels: the caller and {@code threads - 1} daemon workers split a range of
 * work items; no thread is created per operation. Jobs from different callers run one at a time.
 * Workers spin briefly between jobs (decode issues hundreds of small jobs per token) and then park. A call
 * allocates nothing: pass a task object that is created once (see TypedMatMul.Work), not a capturing lambda.
 */
public final class Parallel implements AutoCloseable {
    /** Work over the item range [from, to). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private static final long SPIN_NANOS = 200_000;
    /** Next-chunk value of a finished job: above any chunk count. */
    private static final int CLOSED = Integer.MAX_VALUE;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock jobLock = new ReentrantLock();
    private volatile boolean closed;

    // The one job in flight. Its fields are reused from call to call (no allocation per forRange) and written only
    // by the caller holding jobLock, before it publishes the job through `ticket`, and never while a chunk of the
    // previous job runs. `ticket` packs (job generation << 32 | next chunk); a finished job's next chunk reads
    // CLOSED. A worker claims a chunk with a CAS that also checks the generation, so a worker that wakes up late
    // can never run a chunk of a newer job with the task of an older one.
    private RangeTask task;
    private int items, chunks, chunkSize;
    private final AtomicLong ticket = new AtomicLong();
    private final AtomicInteger done = new AtomicInteger();
    private volatile Throwable failure;

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
    public void forRange(int n, int grain, RangeTask t) {
        if (n <= 0) return;
        int g = Math.max(1, grain);
        int maxChunks = (n + g - 1) / g;
        if (threads == 1 || maxChunks == 1) {
            t.run(0, n);
            return;
        }
        jobLock.lock();
        try {
            task = t;
            items = n;
            chunks = Math.min(maxChunks, threads * 4);
            chunkSize = (n + chunks - 1) / chunks;
            failure = null;
            done.set(0);
            long gen = ((ticket.get() >>> 32) + 1) & 0xFFFF_FFFFL;
            ticket.set(gen << 32); // publishes the fields above
            for (Thread w : workers) LockSupport.unpark(w);
            runChunks(gen);
            while (done.get() < chunks) Thread.onSpinWait();
            // close the job before the next call rewrites the fields: a worker that read the old ticket will
            // fail its CAS instead of claiming "chunk `chunks`" against the next job's larger chunk count
            ticket.set(gen << 32 | CLOSED);
            task = null;
            Throwable f = failure;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            if (f != null) throw new RuntimeException(f);
        } finally {
            jobLock.unlock();
        }
    }

    /** Claims and runs chunks of job {@code gen} until none is left or a newer job has replaced it. */
    private void runChunks(long gen) {
        while (true) {
            long tk = ticket.get();
            int c = (int) tk;
            if (tk >>> 32 != gen || c >= chunks) return;
            if (!ticket.compareAndSet(tk, tk + 1)) continue;
            // the chunk is ours: the caller cannot start another job before `done` counts it
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

    private void workerLoop() {
        long last = 0;
        while (!closed) {
            long gen = ticket.get() >>> 32;
            if (gen != last) {
                last = gen;
                runChunks(gen);
                continue;
            }
            long start = System.nanoTime();
            while (ticket.get() >>> 32 == last) {
                if (closed || System.nanoTime() - start > SPIN_NANOS) break;
                Thread.onSpinWait();
            }
            if (!closed && ticket.get() >>> 32 == last) LockSupport.parkNanos(this, 2_000_000);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
