package io.gpt2j.server;

import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.InferenceState;
import io.gpt2j.generate.CausalLm;
import io.gpt2j.generate.Gpt2Lm;
import io.gpt2j.generate.TokenLogprobs;
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
 * {@link CausalLm} ({@link #lm}) whose calls are executed here. New sequences are admitted between decode steps,
 * the prompts queued meanwhile prefilled in one pass ({@link Prefill}), and the single-token decode steps of
 * every active single-row sequence run as ONE {@link Gpt2#decodeBatch} call. Calls that cannot be batched (multi-row left-padded prefill, contrastive steps
 * that need hidden states) run here one at a time. No sampling or logits processing happens here. Every session
 * of a single-prompt generation (the server's only kind: beams and num_return_sequences are gathered from a
 * batch-1 prefill) is kept as independent batch-1 caches ({@link Gpt2Lm#newRowSession}), so beams and return
 * sequences join the shared batch too. The model math lives in core and generate; this class only schedules.
 */
public final class Scheduler implements Ticket.Owner, AutoCloseable {
    /** How often a waiting request thread checks its ticket (deadline, cancellation, client still connected). */
    static final long CHECK_NANOS = 20_000_000L;
    private final Gpt2 model;
    private final Gpt2Lm lm;
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
    private int liveSeqs;
    private volatile boolean running = true;
    private final Thread thread;
    private float[] logitsBuf = new float[0];
    /** Decode-batch statistics: calls, rows over all calls, and the largest batch. */
    final AtomicLong batchCalls = new AtomicLong(), batchRows = new AtomicLong(), maxBatch = new AtomicLong();
    /** Prefill passes and the prompts they carried (several when prompts arrive together). */
    final AtomicLong prefillCalls = new AtomicLong(), prefillRows = new AtomicLong(), maxPrefillRows = new AtomicLong();
    /** Time the scheduler thread spent in batched decode steps and in other model calls (prefill, tasks). */
    final AtomicLong decodeNanos = new AtomicLong(), taskNanos = new AtomicLong();

    public Scheduler(Gpt2 model, int maxBatchTokens, long windowMicros) {
        this.model = model;
        this.lm = new Gpt2Lm(model);
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
                return register(new Seq(ticket, batch == 1 ? lm.newRowSession(1, capacity) : lm.newSession(batch, capacity)));
            }
        };
    }

    /** Scores a token sequence on the scheduler thread: what OpenAI's echo + logprobs returns ({@link Gpt2Lm#tokenLogprobs}). */
    TokenLogprobs tokenLogprobs(Ticket ticket, int[] ids, int top) {
        reserve(ticket, ids.length);
        return call(ticket, () -> lm.tokenLogprobs(ids, top));
    }

    /** Runs {@code work} on the scheduler thread (between decode steps) and returns its result. */
    <T> T call(Ticket ticket, java.util.function.Supplier<T> work) {
        @SuppressWarnings("unchecked") T r = (T) submit(new Task(ticket, work));
        return r;
    }

    /** Queues the task, waits for it (within the ticket's deadline) and returns its result. */
    private Object submit(Task t) {
        t.ticket.check();
        lock.lock();
        try {
            tasks.add(t);
            wake.signal();
        } finally {
            lock.unlock();
        }
        await(t.ticket, t.done);
        if (t.error != null) throw t.error;
        return t.result;
    }

    /** Waits for {@code done}, checking the ticket every {@link #CHECK_NANOS}: throws once it is cancelled. */
    static void await(Ticket ticket, CountDownLatch done) {
        try {
            while (!done.await(Math.min(CHECK_NANOS, Math.max(1, ticket.remainingNanos())), TimeUnit.NANOSECONDS)) {
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
            if (s.ticket.isReleased()) {
                s.closed = true;
            } else {
                s.ticket.seqs.add(s);
                liveSeqs++;
            }
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
                if (ticket.isReleased()) throw ticket.cancellation();
                budgetFreed.awaitNanos(Math.min(CHECK_NANOS, Math.max(1, ticket.remainingNanos())));
            }
            if (ticket.isReleased()) throw ticket.cancellation(); // budget taken after release would never return
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
    @Override
    public void release(Ticket ticket) {
        lock.lock();
        try {
            usedTokens -= ticket.reservedTokens;
            ticket.reservedTokens = 0;
            for (Seq s : ticket.seqs) {
                s.closed = true;
                waitingFor.remove(s);
            }
            liveSeqs -= ticket.seqs.size();
            ticket.seqs.clear();
            budgetFreed.signalAll();
            wake.signal();
        } finally {
            lock.unlock();
        }
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

    /** Cache positions reserved by live requests. */
    public int usedTokens() {
        return usedTokens;
    }

    /** Caches (sessions) held by requests that are still generating; 0 once every request has finished or gone. */
    public int activeSequences() {
        lock.lock();
        try {
            return liveSeqs;
        } finally {
            lock.unlock();
        }
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

    /**
     * Tasks (prefills first of all) and decode steps alternate: after a task, a decode step that is ready runs before
     * the next task. A prompt so waits at most one decode step, the running sequences are never starved by a stream
     * of arrivals, and the prompts that arrive during a step are prefilled together in one pass after it.
     */
    private void loop() {
        boolean taskLast = false;
        while (running) {
            Task task = null;
            List<Prefill> prefills = null;
            List<Step> batch = null;
            lock.lock();
            try {
                long waited = steps.isEmpty() ? 0 : System.nanoTime() - firstStepNanos;
                boolean decodeReady = !steps.isEmpty() && (waitingFor.isEmpty() || waited >= windowNanos);
                if (!tasks.isEmpty() && !(decodeReady && taskLast)) {
                    task = tasks.poll();
                    if (task instanceof Prefill p) {
                        prefills = Prefill.group(tasks, p);
                        task = null;
                    }
                } else if (decodeReady) {
                    batch = new ArrayList<>(steps);
                    steps.clear();
                    waitingFor.clear();
                    for (Step s : batch) if (!s.seq.closed) waitingFor.add(s.seq);
                } else if (!steps.isEmpty()) {
                    wake.awaitNanos(windowNanos - waited);
                } else {
                    wake.await();
                }
            } catch (InterruptedException e) {
                if (!running) break;
            } finally {
                lock.unlock();
            }
            long t0 = System.nanoTime();
            if (task != null || prefills != null) {
                if (task != null) task.run();
                else prefillStats(Prefill.run(lm, prefills));
                taskNanos.addAndGet(System.nanoTime() - t0);
                taskLast = true;
            }
            if (batch != null) {
                runBatch(batch);
                decodeNanos.addAndGet(System.nanoTime() - t0);
                taskLast = false;
            }
        }
        failAll();
    }

    private void prefillStats(int prompts) {
        if (prompts == 0) return;
        prefillCalls.incrementAndGet();
        prefillRows.addAndGet(prompts);
        maxPrefillRows.accumulateAndGet(prompts, Math::max);
    }

    private void runBatch(List<Step> all) {
        List<Step> live = new ArrayList<>(all.size());
        for (Step s : all) {
            if (s.seq.closed || s.seq.ticket.isCancelled()) s.fail(s.seq.ticket.cancellation());
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
     * One generation's cache as the request's Generator sees it. Single-row caches (and what is gathered from them)
     * are {@link Gpt2Lm.Rows}, independent batch-1 caches whose decode steps join the shared batch; a multi-row
     * left-padded batch is a plain Gpt2Lm session whose calls run alone on the scheduler thread.
     */
    final class Seq implements CausalLm.Session {
        final Ticket ticket;
        private final CausalLm.Session inner;
        private final Gpt2Lm.Rows rows; // inner, when its decode steps can be batched; else null
        volatile boolean closed;

        Seq(Ticket ticket, CausalLm.Session inner) {
            this.ticket = ticket;
            this.inner = inner;
            this.rows = inner instanceof Gpt2Lm.Rows r ? r : null;
        }

        @Override
        public int batch() {
            return inner.batch();
        }

        @Override
        public int length() {
            return inner.length();
        }

        @Override
        public void forward(int[][] tokens, int[][] mask, float[] logits, float[] hidden, boolean allHidden) {
            ticket.check();
            if (rows != null && tokens[0].length == 1 && hidden == null && length() > 0 && allOnes(mask)) {
                decodeStep(tokens, logits);
            } else if (rows != null && rows.batch() == 1 && length() == 0 && hidden == null && logits != null && allOnes(mask)) {
                submit(new Prefill(ticket, rows, tokens[0], logits));
            } else {
                call(ticket, () -> {
                    inner.forward(tokens, mask, logits, hidden, allHidden);
                    return null;
                });
            }
        }

        private void decodeStep(int[][] tokens, float[] logits) {
            int n = rows.batch();
            CountDownLatch group = new CountDownLatch(n);
            RuntimeException[] error = new RuntimeException[1];
            lock.lock();
            try {
                if (steps.isEmpty()) firstStepNanos = System.nanoTime();
                for (int r = 0; r < n; r++) steps.add(new Step(this, rows.row(r), tokens[r][0], logits, r * V, group, error));
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
            inner.reorder(src); // copies rows between steps; no forward pass
        }

        @Override
        public CausalLm.Session gather(int[] idx, int capacity) {
            reserve(ticket, idx.length * capacity);
            return register(new Seq(ticket, inner.gather(idx, capacity)));
        }
    }

    private static boolean allOnes(int[][] mask) {
        if (mask == null) return true;
        for (int[] m : mask) for (int v : m) if (v != 1) return false;
        return true;
    }
}
