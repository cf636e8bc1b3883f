package io.gpt2j.server;

import io.javalin.http.Context;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;

/**
 * Notices an HTTP/1.1 client that closed its connection while its request is still generating. Jetty does not read
 * from an HTTP/1.1 connection while a request is being handled (synchronously or async), so a closed socket goes
 * unnoticed until the response is written; this probe does a non-blocking read on the connection itself, at most
 * every {@link #INTERVAL_NANOS}, from whichever generation thread checks its ticket. Only used while the request
 * body has been read and no response byte is written, when Jetty itself does not touch the connection's input.
 * A client may not send anything then except a pipelined next request; if bytes arrive they are lost, so the
 * response then carries {@code Connection: close} and the client retries it (RFC 9112 9.3.2).
 */
final class ClientProbe {
    /** The probe of the request the current handler thread is serving (bound around every POST handler). */
    static final ScopedValue<ClientProbe> CURRENT = ScopedValue.newInstance();
    static final long INTERVAL_NANOS = 10_000_000L;

    private final Context ctx;
    private final ReentrantLock lock = new ReentrantLock();
    private final ByteBuffer one = BufferUtil.allocate(1);
    private EndPoint endPoint;
    private boolean resolved, stopped;
    private long nextNanos = System.nanoTime();
    private volatile boolean gone, consumedInput;

    ClientProbe(Context ctx) {
        this.ctx = ctx;
    }

    /** The current handler's probe, or null outside a POST handler. */
    static ClientProbe current() {
        return CURRENT.isBound() ? CURRENT.get() : null;
    }

    /** True once the client is known to have closed its connection (or reset it). Never blocks. */
    boolean isGone() {
        if (gone) return true;
        if (consumedInput || !lock.tryLock()) return false;
        try {
            long now = System.nanoTime();
            if (stopped || now - nextNanos < 0) return false;
            nextNanos = now + INTERVAL_NANOS;
            EndPoint ep = endPoint();
            if (ep == null) return false;
            BufferUtil.clear(one);
            int n = ep.fill(one);
            if (n < 0) gone = true;
            else if (n > 0) consumedInput = true;
        } catch (IOException e) {
            gone = true; // reset by peer
        } finally {
            lock.unlock();
        }
        return gone;
    }

    /** Stops probing (waits for a probe in progress): the response is about to be written. */
    void stop() {
        lock.lock();
        try {
            stopped = true;
        } finally {
            lock.unlock();
        }
    }

    /** Before the response is committed: if the probe swallowed a pipelined request, the connection must close. */
    void beforeCommit() {
        stop();
        if (consumedInput && !ctx.res().isCommitted()) ctx.res().setHeader("Connection", "close");
    }

    private EndPoint endPoint() {
        if (!resolved) {
            resolved = true;
            ServletContextRequest r = ServletContextRequest.getServletContextRequest(ctx.req());
            if (r != null) {
                HttpVersion v = r.getConnectionMetaData().getHttpVersion();
                if (v == HttpVersion.HTTP_1_1 || v == HttpVersion.HTTP_1_0) endPoint = r.getConnectionMetaData().getConnection().getEndPoint();
            }
        }
        return endPoint;
    }
}
