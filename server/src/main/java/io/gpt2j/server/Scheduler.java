package io.gpt2j.server;

import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.InferenceState;
import io.gpt2j.generate.CausalLm;
import io.gpt2j.generate.Gpt2Lm;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Continuous batching: the one thread that runs the model. Requests generate on their own threads through a
 * {@link CausalLm} ({@link #lm}) whose calls are executed here. New sequences (prefill) are admitted between decode
 * steps, and the single-token decode steps of every active single-row sequence run as ONE
 * {@link Gpt2#decodeBatch} call. Calls that cannot be batched (multi-row left-padded prefill, contrastive steps
 * that need hidden states) run here one at a time. No sampling or logits processing happens here. Every session
 * of a single-prompt generation (the server's only kind: beams and num_return_sequences are gathered from a
 * batch-1 prefill) is kept as independent batch-1 caches, so beams and return sequences join the shared batch too.
 */
public final class Scheduler implements AutoCloseable {
    private final Gpt2 model;
    private final Gpt2Lm plain;
    private final int V;
    private final long windowNanos;
    private final int budget;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final Condition budgetFreed = lock.newCondition();
    private final ArrayDeque<Task> tasks = new ArrayDeque<>();
    private final List<Step> steps = new ArrayList<>();
    private final Set<Seq> waitingFor = Collections.newSetFromMap(new IdentityHashMap<>());
    private long firstStepNanos;
    private int usedTokens;
    private volatile boolean running = true;
    private final Thread thread;
    private float[] logitsBuf = new float[0];
    /** Decode-batch statistics: calls, rows over all calls, and the largest batch. */
    final AtomicLong batchCalls = new AtomicLong(), batchRows = new AtomicLong(), maxBatch = new AtomicLong();

    public Scheduler(Gpt2 model, int maxBatchTokens, long windowMicros) {
        this.model = model;
        this.plain = new Gpt2Lm(model);
        this.V = model.config().vocabSize();
        this.windowNanos = windowMicros * 1000;
        this.budget = maxBatchTokens;
        this.thread = Thread.ofPlatform().name("gpt2j-scheduler").daemon(true).start(this::loop);
    }

    public Gpt2 model() {
        return model;
    }

    /** A new request's ticket, valid until {@code deadlineNanos} (System.nanoTime()). */
    Ticket open(long deadlineNanos) {
        return new Ticket(this, deadlineNanos);
    }

    /** The model as the request's Generator sees it; every session belongs to the ticket. */
    CausalLm lm(Ticket ticket) {
        return new CausalLm() {
            @Override
            public int vocabSize() {
                return V;
            }

            @Override
            public int contextLength() {
                return model.config().nPositions();
            }

            @Override
            public int hiddenSize() {
                return model.config().nEmbd();
            }

            @Override
            public Session newSession(int batch, int capacity) {
                reserve(ticket, batch * capacity);
                if (batch == 1) return register(new Seq(ticket, new InferenceState[]{model.newState(1, capacity)}, null));
                CausalLm.Session inner = call(ticket, () -> plain.newSession(batch, capacity));
                return register(new Seq(ticket, null, inner));
            }
        };
    }

    /** Log-probabilities of each token given the ones before it (index 0: NaN), with the top {@code top} alternatives. */
    record TokenLogprobs(float[] logprob, int[][] topIds, float[][] topLogprobs) {
    }

    /**
     * Scores a token sequence with one forward pass over all positions (in chunks, so the logits buffer stays
     * small): what OpenAI's echo + logprobs returns. The log_softmax is the only arithmetic done here.
     */
    TokenLogprobs tokenLogprobs(Ticket ticket, int[] ids, int top) {
        reserve(ticket, ids.length);
        return call(ticket, () -> {
            int T = ids.length, chunk = 32;
            float[] lp = new float[T];
            lp[0] = Float.NaN;
            int[][] topIds = new int[T][top];
            float[][] topLp = new float[T][top];
            InferenceState st = model.newState(1, T);
            float[] logits = new float[chunk * V];
            for (int s = 0; s < T - 1; s += chunk) {
                int n = Math.min(chunk, T - 1 - s);
                int[][] tok = {java.util.Arrays.copyOfRange(ids, s, s + n)};
                model.forward(st, tok, null, null, logits, null, true);
                for (int t = 0; t < n; t++) {
                    int off = t * V, next = s + t + 1;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int v = 0; v < V; v++) max = Math.max(max, logits[off + v]);
                    double sum = 0;
                    for (int v = 0; v < V; v++) sum += Math.exp(logits[off + v] - max);
                    float logZ = (float) (max + Math.log(sum));
                    lp[next] = logits[off + ids[next]] - logZ;
                    for (int k = 0; k < top; k++) {
                        int best = -1;
                        for (int v = 0; v < V; v++) {
                            boolean taken = false;
                            for (int q = 0; q < k; q++) taken |= topIds[next][q] == v;
                            if (!taken && (best < 0 || logits[off + v] > logits[off + best])) best = v;
                        }
                        topIds[next][k] = best;
                        topLp[next][k] = logits[off + best] - logZ;
                    }
                }
            }
            return new TokenLogprobs(lp, topIds, topLp);
        });
    }

    /** Runs {@code work} on the scheduler thread (between decode steps) and returns its result. */
    <T> T call(Ticket ticket, java.util.function.Supplier<T> work) {
        ticket.check();
        Task t = new Task(ticket, work);
        lock.lock();
        try {
            tasks.add(t);
            wake.signal();
        } finally {
            lock.unlock();
        }
        await(ticket, t.done);
        if (t.error != null) throw t.error;
        @SuppressWarnings("unchecked") T r = (T) t.result;
        return r;
    }

    private void await(Ticket ticket, CountDownLatch done) {
        try {
            while (!done.await(Math.min(50_000_000L, Math.max(1, ticket.remainingNanos())), TimeUnit.NANOSECONDS)) {
                ticket.check();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Ticket.Cancelled(Ticket.Reason.SHUTDOWN);
        }
    }

    private Seq register(Seq s) {
        lock.lock();
        try {
            s.ticket.seqs.add(s);
        } finally {
            lock.unlock();
        }
        return s;
    }

    private void reserve(Ticket ticket, int tokens) {
        if (tokens > budget) {
            throw new ApiError(400, "kv_budget_exceeded", "the request needs a cache of " + tokens
                    + " positions (rows x length); this server's --max-batch-tokens is " + budget);
        }
        lock.lock();
        try {
            while (usedTokens + tokens > budget) {
                ticket.check();
                budgetFreed.awaitNanos(Math.min(50_000_000L, Math.max(1, ticket.remainingNanos())));
            }
            usedTokens += tokens;
            ticket.reservedTokens += tokens;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Ticket.Cancelled(Ticket.Reason.SHUTDOWN);
        } finally {
            lock.unlock();
        }
    }

    /** Frees the ticket's budget and stops waiting for its sequences at once. */
    void release(Ticket ticket) {
        lock.lock();
        try {
            usedTokens -= ticket.reservedTokens;
            ticket.reservedTokens = 0;
            for (Seq s : ticket.seqs) {
                s.closed = true;
                waitingFor.remove(s);
            }
            budgetFreed.signalAll();
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    void wakeUp() {
        lock.lock();
        try {
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Cache positions reserved by live requests. */
    public int usedTokens() {
        return usedTokens;
    }

    /** Sequences waiting for a decode step or a task right now. */
    public int queued() {
        lock.lock();
        try {
            return steps.size() + tasks.size();
        } finally {
            lock.unlock();
        }
    }

    private void loop() {
        while (running) {
            Task task = null;
            List<Step> batch = null;
            lock.lock();
            try {
                if (!tasks.isEmpty()) {
                    task = tasks.poll();
                } else if (!steps.isEmpty()) {
                    long waited = System.nanoTime() - firstStepNanos;
                    if (waitingFor.isEmpty() || waited >= windowNanos) {
                        batch = new ArrayList<>(steps);
                        steps.clear();
                        waitingFor.clear();
                        for (Step s : batch) if (!s.seq.closed) waitingFor.add(s.seq);
                    } else {
                        wake.awaitNanos(windowNanos - waited);
                    }
                } else {
                    wake.await();
                }
            } catch (InterruptedException e) {
                if (!running) break;
            } finally {
                lock.unlock();
            }
            if (task != null) task.run();
            if (batch != null) runBatch(batch);
        }
        failAll();
    }

    private void runBatch(List<Step> all) {
        List<Step> live = new ArrayList<>(all.size());
        for (Step s : all) {
            if (s.seq.closed || s.seq.ticket.isCancelled()) s.fail(new Ticket.Cancelled(Ticket.Reason.TIMEOUT));
            else live.add(s);
        }
        int n = live.size();
        if (n == 0) return;
        InferenceState[] states = new InferenceState[n];
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
            states[i] = live.get(i).state;
            tokens[i] = live.get(i).token;
        }
        if (logitsBuf.length < n * V) logitsBuf = new float[n * V];
        try {
            model.decodeBatch(states, tokens, logitsBuf);
        } catch (RuntimeException | Error e) {
            RuntimeException r = e instanceof RuntimeException re ? re : new IllegalStateException("decode step failed: " + e, e);
            for (Step s : live) s.fail(r);
            return;
        }
        batchCalls.incrementAndGet();
        batchRows.addAndGet(n);
        maxBatch.accumulateAndGet(n, Math::max);
        for (int i = 0; i < n; i++) {
            Step s = live.get(i);
            if (s.out != null) System.arraycopy(logitsBuf, i * V, s.out, s.outOffset, V);
            s.group.countDown();
        }
    }

    private void failAll() {
        lock.lock();
        try {
            for (Task t : tasks) t.fail(new Ticket.Cancelled(Ticket.Reason.SHUTDOWN));
            for (Step s : steps) s.fail(new Ticket.Cancelled(Ticket.Reason.SHUTDOWN));
            tasks.clear();
            steps.clear();
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

    private static final class Task {
        final Ticket ticket;
        final java.util.function.Supplier<?> work;
        final CountDownLatch done = new CountDownLatch(1);
        Object result;
        RuntimeException error;

        Task(Ticket ticket, java.util.function.Supplier<?> work) {
            this.ticket = ticket;
            this.work = work;
        }

        void run() {
            try {
                if (ticket.isCancelled()) throw new Ticket.Cancelled(Ticket.Reason.TIMEOUT);
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

    private static final class Step {
        final Seq seq;
        final InferenceState state;
        final int token;
        final float[] out;
        final int outOffset;
        final CountDownLatch group;
        final RuntimeException[] error;

        Step(Seq seq, InferenceState state, int token, float[] out, int outOffset, CountDownLatch group, RuntimeException[] error) {
            this.seq = seq;
            this.state = state;
            this.token = token;
            this.out = out;
            this.outOffset = outOffset;
            this.group = group;
            this.error = error;
        }

        void fail(RuntimeException e) {
            error[0] = e;
            group.countDown();
        }
    }

    /**
     * One generation's cache. Single-row caches (and what is gathered from them) are kept as independent batch-1
     * states so that their decode steps can join the shared batch; a multi-row left-padded batch wraps the plain
     * Gpt2Lm session and runs alone.
     */
    final class Seq implements CausalLm.Session {
        final Ticket ticket;
        private InferenceState[] rows;
        private final CausalLm.Session inner;
        volatile boolean closed;

        Seq(Ticket ticket, InferenceState[] rows, CausalLm.Session inner) {
            this.ticket = ticket;
            this.rows = rows;
            this.inner = inner;
        }

        @Override
        public int batch() {
            return inner != null ? inner.batch() : rows.length;
        }

        @Override
        public int length() {
            return inner != null ? inner.length() : rows[0].length();
        }

        @Override
        public void forward(int[][] tokens, int[][] mask, float[] logits, float[] hidden, boolean allHidden) {
            ticket.check();
            if (inner != null) {
                call(ticket, () -> {
                    inner.forward(tokens, mask, logits, hidden, allHidden);
                    return null;
                });
            } else if (tokens[0].length == 1 && hidden == null && length() > 0 && allOnes(mask)) {
                decodeStep(tokens, logits);
            } else {
                call(ticket, () -> {
                    direct(tokens, mask, logits, hidden, allHidden);
                    return null;
                });
            }
        }

        private void direct(int[][] tokens, int[][] mask, float[] logits, float[] hidden, boolean allHidden) {
            int T = tokens[0].length, E = model.config().nEmbd();
            for (int r = 0; r < rows.length; r++) {
                int[][] tok = {tokens[r]};
                int[][] m = mask == null ? null : new int[][]{mask[r]};
                float[] lg = logits == null ? null : new float[allHidden && T > 1 ? T * V : V];
                float[] hd = hidden == null ? null : new float[(allHidden ? T : 1) * E];
                model.forward(rows[r], tok, null, m, lg, hd, allHidden && T > 1);
                if (lg != null) System.arraycopy(lg, lg.length - V, logits, r * V, V);
                if (hd != null) System.arraycopy(hd, 0, hidden, r * hd.length, hd.length);
            }
        }

        private void decodeStep(int[][] tokens, float[] logits) {
            int n = rows.length;
            CountDownLatch group = new CountDownLatch(n);
            RuntimeException[] error = new RuntimeException[1];
            lock.lock();
            try {
                if (steps.isEmpty()) firstStepNanos = System.nanoTime();
                for (int r = 0; r < n; r++) steps.add(new Step(this, rows[r], tokens[r][0], logits, r * V, group, error));
                waitingFor.remove(this);
                wake.signal();
            } finally {
                lock.unlock();
            }
            await(ticket, group);
            if (error[0] != null) throw error[0];
        }

        @Override
        public void reorder(int[] src) {
            if (inner != null) {
                inner.reorder(src);
                return;
            }
            InferenceState[] next = new InferenceState[src.length];
            boolean[] used = new boolean[rows.length];
            for (int i = 0; i < src.length; i++) {
                InferenceState s = rows[src[i]];
                next[i] = used[src[i]] ? s.gather(new int[]{0}, s.capacity()) : s;
                used[src[i]] = true;
            }
            rows = next;
        }

        @Override
        public CausalLm.Session gather(int[] idx, int capacity) {
            reserve(ticket, idx.length * capacity);
            if (inner != null) return register(new Seq(ticket, null, inner.gather(idx, capacity)));
            InferenceState[] next = new InferenceState[idx.length];
            for (int i = 0; i < idx.length; i++) next[i] = rows[idx[i]].gather(new int[]{0}, capacity);
            return register(new Seq(ticket, next, null));
        }
    }

    private static boolean allOnes(int[][] mask) {
        if (mask == null) return true;
        for (int[] m : mask) for (int v : m) if (v != 1) return false;
        return true;
    }
}
