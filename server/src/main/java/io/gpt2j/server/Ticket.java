package io.gpt2j.server;

import java.util.ArrayList;
import java.util.List;

/**
 * One HTTP request's claim on the scheduler: its deadline, its cancellation flag and the cache budget its sequences
 * hold. Closing it frees everything at once, whatever state the generation was in.
 */
final class Ticket implements AutoCloseable {
    /** Why a generation was cut short. */
    enum Reason { TIMEOUT, DISCONNECT, SHUTDOWN }

    /** Thrown into the generation loop (from the model call) when the ticket is cancelled or past its deadline. */
    static final class Cancelled extends RuntimeException {
        final Reason reason;

        Cancelled(Reason reason) {
            super("generation cancelled: " + reason.name().toLowerCase(java.util.Locale.ROOT), null, false, false);
            this.reason = reason;
        }
    }

    final long deadlineNanos;
    private final Scheduler scheduler;
    private volatile Reason cancelled;
    final List<Scheduler.Seq> seqs = new ArrayList<>(); // guarded by the scheduler's lock
    int reservedTokens;                                  // guarded by the scheduler's lock
    private boolean closed;

    Ticket(Scheduler scheduler, long deadlineNanos) {
        this.scheduler = scheduler;
        this.deadlineNanos = deadlineNanos;
    }

    void cancel(Reason r) {
        if (cancelled == null) cancelled = r;
        scheduler.wakeUp();
    }

    /** Throws {@link Cancelled} when cancelled or past the deadline. */
    void check() {
        Reason r = cancelled;
        if (r == null && System.nanoTime() - deadlineNanos > 0) {
            cancelled = r = Reason.TIMEOUT;
        }
        if (r != null) throw new Cancelled(r);
    }

    boolean isCancelled() {
        return cancelled != null || System.nanoTime() - deadlineNanos > 0;
    }

    long remainingNanos() {
        return deadlineNanos - System.nanoTime();
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        scheduler.release(this);
    }
}
