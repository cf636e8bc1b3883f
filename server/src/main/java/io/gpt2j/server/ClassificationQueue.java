package io.gpt2j.server;

import io.gpt2j.core.model.Classifier;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one thread that runs a classification model's forward passes (the {@link Scheduler}'s counterpart for
 * GPT2For{Sequence,Token}Classification checkpoints). Requests hand in their texts under their ticket and wait; each
 * pass takes waiting texts of the queued requests, at most {@link #passTokens()} positions (texts x longest text), so
 * concurrent requests share passes, no pass holds the model for long, and a request that timed out or whose client
 * left is dropped before the next pass. The math is core's {@link Classifier}.
 */
final class ClassificationQueue implements Ticket.Owner, AutoCloseable {
    /** Most positions one pass may carry: bounds how long a pass keeps a cancelled request's work running. */
    static final int PASS_TOKENS = 1024;

    private final Classifier classifier;
    private final int passTokens;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final ArrayDeque<Job> jobs = new ArrayDeque<>(); // guarded by lock: jobs with texts not yet in a pass
    private int waitingTexts;                                // guarded by lock
    private volatile int passTexts, passPositions;           // the pass running now
    private volatile boolean running = true;
    private final Thread thread;
    /** Passes run, texts they carried, and the most texts in one pass. */
    final AtomicLong passes = new AtomicLong(), texts = new AtomicLong(), maxTexts = new AtomicLong();

    /** {@code maxBatchTokens}: the server's KV-cache budget; a pass never holds more positions than that either. */
    ClassificationQueue(Classifier classifier, int maxBatchTokens) {
        this.classifier = classifier;
        this.passTokens = Math.min(PASS_TOKENS, maxBatchTokens);
        this.thread = Thread.ofPlatform().name("gpt2j-classifier").daemon(true).start(this::loop);
    }

    int passTokens() {
        return passTokens;
    }

    /** A new request's ticket, valid until {@code deadlineNanos} (System.nanoTime()). */
    Ticket open(long deadlineNanos) {
        return new Ticket(this, deadlineNanos);
    }

    /**
     * The logits of {@code ids} (as {@link Classifier#logits} returns them), computed on this queue's thread within
     * the ticket's deadline; throws {@link Ticket.Cancelled} when the ticket is cancelled or times out meanwhile.
     */
    List<float[]> logits(Ticket ticket, List<int[]> ids) {
        for (int i = 0; i < ids.size(); i++) {
            if (ids.get(i).length > passTokens) {
                throw new ApiError(400, "kv_budget_exceeded", "input " + i + " has " + ids.get(i).length
                        + " tokens; this server's --max-batch-tokens is " + passTokens);
            }
        }
        if (ids.isEmpty()) return List.of();
        ticket.check();
        Job job = new Job(ticket, ids);
        lock.lock();
        try {
            if (ticket.isReleased()) throw ticket.cancellation();
            jobs.add(job);
            waitingTexts += ids.size();
            wake.signal();
        } finally {
            lock.unlock();
        }
        Scheduler.await(ticket, job.done);
        if (job.error != null) throw job.error;
        return Arrays.asList(job.out);
    }

    /** Texts of live requests that wait for a pass or are in the pass running now; 0 when idle. */
    int activeTexts() {
        lock.lock();
        try {
            return waitingTexts + passTexts;
        } finally {
            lock.unlock();
        }
    }

    /** Positions (texts x longest) of the pass running now, 0 when idle. */
    int passPositions() {
        return passPositions;
    }

    @Override
    public void wakeUp() {
        lock.lock();
        try {
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    /** The ticket's texts that wait for a pass leave the queue at once. */
    @Override
    public void release(Ticket ticket) {
        lock.lock();
        try {
            for (Iterator<Job> it = jobs.iterator(); it.hasNext(); ) {
                Job j = it.next();
                if (j.ticket == ticket) {
                    waitingTexts -= j.order.length - j.next;
                    it.remove();
                }
            }
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    private void loop() {
        while (running) {
            List<Job> owner = new ArrayList<>();
            List<Integer> index = new ArrayList<>();
            List<int[]> batch = new ArrayList<>();
            lock.lock();
            try {
                dropCancelled();
                if (jobs.isEmpty()) {
                    wake.await();
                    continue;
                }
                int longest = take(owner, index, batch);
                waitingTexts -= batch.size();
                passTexts = batch.size();
                passPositions = batch.size() * longest;
            } catch (InterruptedException e) {
                if (!running) break;
                continue;
            } finally {
                lock.unlock();
            }
            run(owner, index, batch);
        }
        failAll();
    }

    /** Under the lock: cancelled requests leave the queue and their threads are released. */
    private void dropCancelled() {
        for (Iterator<Job> it = jobs.iterator(); it.hasNext(); ) {
            Job j = it.next();
            if (j.ticket.isCancelled()) {
                waitingTexts -= j.order.length - j.next;
                it.remove();
                j.fail(j.ticket.cancellation());
            }
        }
    }

    /**
     * Under the lock: the next pass, the waiting texts of the queued requests (each request's shortest first) while
     * texts x longest stays within {@link #passTokens}; returns the longest length. The first request in line fills
     * the pass first, the others fill what room is left; a request with texts left then goes to the back of the line,
     * so a long request does not hold up the short ones behind it.
     */
    private int take(List<Job> owner, List<Integer> index, List<int[]> batch) {
        Job first = jobs.peekFirst();
        int longest = 0;
        for (Iterator<Job> it = jobs.iterator(); it.hasNext(); ) {
            Job j = it.next();
            while (j.next < j.order.length) {
                int[] ids = j.ids.get(j.order[j.next]);
                int len = Math.max(longest, ids.length);
                if (!batch.isEmpty() && (long) (batch.size() + 1) * len > passTokens) break;
                owner.add(j);
                index.add(j.order[j.next]);
                batch.add(ids);
                longest = len;
                j.next++;
            }
            if (j.next == j.order.length) it.remove();
        }
        if (jobs.peekFirst() == first && jobs.size() > 1) jobs.addLast(jobs.pollFirst());
        return longest;
    }

    private void run(List<Job> owner, List<Integer> index, List<int[]> batch) {
        List<float[]> out;
        try {
            out = classifier.logits(batch);
        } catch (RuntimeException | Error e) { // e.g. OutOfMemoryError: fail these requests, keep the queue alive
            RuntimeException r = e instanceof RuntimeException re ? re : new IllegalStateException("classification failed: " + e, e);
            endPass();
            lock.lock();
            try { // a failed request's texts still waiting must not run in later passes
                for (Job j : new java.util.LinkedHashSet<>(owner)) if (jobs.remove(j)) waitingTexts -= j.order.length - j.next;
            } finally {
                lock.unlock();
            }
            for (Job j : owner) j.fail(r);
            return;
        }
        endPass(); // before the results go out: a request that has its answer is no longer counted
        passes.incrementAndGet();
        texts.addAndGet(batch.size());
        maxTexts.accumulateAndGet(batch.size(), Math::max);
        for (int k = 0; k < batch.size(); k++) owner.get(k).deliver(index.get(k), out.get(k));
    }

    private void endPass() {
        lock.lock();
        try {
            passTexts = 0;
            passPositions = 0;
        } finally {
            lock.unlock();
        }
    }

    private void failAll() {
        lock.lock();
        try {
            for (Job j : jobs) j.fail(new Ticket.Cancelled(Ticket.Reason.SHUTDOWN));
            jobs.clear();
            waitingTexts = 0;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One request's texts: which have gone into a pass ({@code next}, in length order) and the logits so far. */
    private static final class Job {
        final Ticket ticket;
        final List<int[]> ids;
        final int[] order;
        final float[][] out;
        final CountDownLatch done = new CountDownLatch(1);
        int next;                     // guarded by the queue's lock
        private int left;             // the queue's thread only
        volatile RuntimeException error;

        Job(Ticket ticket, List<int[]> ids) {
            this.ticket = ticket;
            this.ids = ids;
            this.out = new float[ids.size()][];
            this.left = ids.size();
            Integer[] o = new Integer[ids.size()];
            for (int i = 0; i < o.length; i++) o[i] = i;
            Arrays.sort(o, (a, b) -> Integer.compare(ids.get(a).length, ids.get(b).length));
            this.order = new int[o.length];
            for (int i = 0; i < o.length; i++) order[i] = o[i];
        }

        void deliver(int i, float[] logits) {
            out[i] = logits;
            if (--left == 0 && error == null) done.countDown();
        }

        void fail(RuntimeException e) {
            if (error == null) error = e;
            done.countDown();
        }
    }
}
