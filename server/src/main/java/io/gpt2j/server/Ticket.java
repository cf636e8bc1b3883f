package io.gpt2j.server;

import java.util.ArrayList;
import java.util.List;

/**
 * One HTTP request's claim on the thread that runs the model (the generation {@link Scheduler} or the
 * {@link ClassificationQueue}): its deadline, its cancellation flag and the cache budget its sequences hold. Closing
 * it frees everything at once, whatever state the work was in.
 */
final class Ticket implements AutoCloseable {
    /** Why a request's work was cut short. */
    enum Reason { TIMEOUT, DISCONNECT, SHUTDOWN }

    /** The model thread a ticket belongs to: woken when the ticket is cancelled, told when it is closed. */
    interface Owner {
        void wakeUp();

        void release(Ticket ticket);
    }

    /** Thrown into the request's work (from the model call) when the ticket is cancelled or past its deadline. */
    static final class Cancelled extends RuntimeException {
        final Reason reason;

        Cancelled(Reason reason) {
            super("generation cancelled: " + reason.name().toLowerCase(java.util.Locale.ROOT), null, false, false);
            this.reason = reason;
        }
    }

    final long deadlineNanos;
    private final Owner owner;
    private final ClientProbe client; // null outside an HTTP handler
    private volatile Reason cancelled;
    final List<Scheduler.Seq> seqs = new ArrayList<>(); // guarded by the scheduler's lock
    int reservedTokens;                                  // guarded by the scheduler's lock
    private boolean closed;

    Ticket(Owner owner, long deadlineNanos) {
        this.owner = owner;
        this.deadlineNanos = deadlineNanos;
        this.client = ClientProbe.current();
    }

    void cancel(Reason r) {
        if (cancelled == null) cancelled = r;
        owner.wakeUp();
    }

    /**
     * Throws {@link Cancelled} when cancelled, past the deadline, or when the HTTP client has closed its connection
     * (probed at most every 10 ms). Called by the request's threads before and while waiting for model calls.
     */
    void check() {
        Reason r = cancelled;
        if (r == null && System.nanoTime() - deadlineNanos > 0) {
            cancelled = r = Reason.TIMEOUT;
        }
        if (r == null && client != null && client.isGone()) {
            cancel(Reason.DISCONNECT);
            r = cancelled;
        }
        if (r != null) throw new Cancelled(r);
    }

    /** The exception for a cancelled ticket (a closed one counts as timed out unless a reason was recorded). */
    Cancelled cancellation() {
        Reason r = cancelled;
        return new Cancelled(r == null ? Reason.TIMEOUT : r);
    }

    /** Whether {@link #close} has run (guarded by the scheduler's lock when it matters). */
    boolean isReleased() {
        synchronized (this) {
            return closed;
        }
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
        owner.release(this);
    }
}
