package io.gpt2j.server;

import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission control: at most {@code max} generation requests run, at most {@code 2 * max} wait; beyond that a
 * request is refused at once with 429 and Retry-After. Waiting counts against the request's timeout.
 */
final class Admission {
    private final int max;
    private final Semaphore running;
    private final AtomicInteger present = new AtomicInteger();

    Admission(int max) {
        this.max = max;
        this.running = new Semaphore(max, true);
    }

    /** Blocks until the request may run; the returned handle must be closed. */
    AutoCloseable enter(Ticket ticket) {
        if (present.incrementAndGet() > 3 * max) {
            present.decrementAndGet();
            throw new ApiError(429, "too_many_requests", "the server is busy: " + max + " requests are running and "
                    + 2 * max + " are queued; retry later", Map.of("Retry-After", "1"));
        }
        boolean ok = false;
        try {
            while (!ok) {
                ticket.check(); // a queued request whose client hung up or timed out leaves the queue at once
                ok = running.tryAcquire(Math.min(Scheduler.CHECK_NANOS, Math.max(1, ticket.remainingNanos())), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (!ok) present.decrementAndGet();
        }
        if (!ok) throw new Ticket.Cancelled(Ticket.Reason.SHUTDOWN);
        return () -> {
            running.release();
            present.decrementAndGet();
        };
    }

    int queued() {
        return Math.max(0, present.get() - (max - running.availablePermits()));
    }

    int running() {
        return max - running.availablePermits();
    }
}
