package io.gpt2j.server;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Admission control: at most {@code max} requests that use the model (generation or classification) run, at most
 * {@code 2 * max} wait (first come, first served); beyond that a request is refused at once with 429 and
 * Retry-After. Waiting counts against the request's timeout, and a waiting request checks its ticket every
 * {@link Scheduler#CHECK_NANOS}, so one whose client hung up leaves the queue at once.
 */
final class Admission {
    private final int max;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Ticket> waiting = new ArrayDeque<>(); // guarded by lock
    private int running;                                             // guarded by lock
    private final AtomicInteger present = new AtomicInteger();

    Admission(int max) {
        this.max = max;
    }

    /** Blocks until the request may run; the returned handle must be closed. */
    AutoCloseable enter(Ticket ticket) {
        if (present.incrementAndGet() > 3 * max) {
            present.decrementAndGet();
            throw new ApiError(429, "too_many_requests", "the server is busy: " + max + " requests are running and "
                    + 2 * max + " are queued; retry later", Map.of("Retry-After", "1"));
        }
        lock.lock();
        try {
            waiting.add(ticket);
            while (waiting.peekFirst() != ticket || running >= max) {
                ticket.check();
                changed.awaitNanos(Math.min(Scheduler.CHECK_NANOS, Math.max(1, ticket.remainingNanos())));
            }
            waiting.pollFirst();
            running++;
            changed.signalAll(); // the next in line may run too
        } catch (RuntimeException | InterruptedException e) {
            waiting.remove(ticket);
            present.decrementAndGet();
            changed.signalAll();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw new Ticket.Cancelled(Ticket.Reason.SHUTDOWN);
            }
            throw (RuntimeException) e;
        } finally {
            lock.unlock();
        }
        return this::leave;
    }

    private void leave() {
        lock.lock();
        try {
            running--;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        present.decrementAndGet();
    }

    int queued() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    int running() {
        lock.lock();
        try {
            return running;
        } finally {
            lock.unlock();
        }
    }
}
