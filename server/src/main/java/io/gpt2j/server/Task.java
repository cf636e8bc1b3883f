package io.gpt2j.server;

import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

/**
 * A model call that a request thread hands to the scheduler thread and waits for ({@link #done}); the scheduler
 * runs it once, or fails it. A cancelled ticket's task fails instead of running.
 */
class Task {
    final Ticket ticket;
    final Supplier<?> work;
    final CountDownLatch done = new CountDownLatch(1);
    Object result;
    RuntimeException error;

    Task(Ticket ticket, Supplier<?> work) {
        this.ticket = ticket;
        this.work = work;
    }

    void run() {
        try {
            if (ticket.isCancelled()) throw ticket.cancellation();
            result = work.get();
        } catch (RuntimeException e) {
            error = e;
        } catch (Error e) { // e.g. OutOfMemoryError: fail this request, keep the scheduler alive
            error = new IllegalStateException("generation failed: " + e, e);
        } finally {
            done.countDown();
        }
    }

    void fail(RuntimeException e) {
        error = e;
        done.countDown();
    }
}
