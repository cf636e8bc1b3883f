package io.gpt2j.server;

import io.gpt2j.generate.Gpt2Lm;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The first forward pass of a fresh single-row session (a prompt), and how the scheduler groups queued prompts into
 * one multi-row prefill pass ({@link Gpt2Lm#prefill}, which shares the weight reads of the common prefix length).
 * Used on the scheduler thread only; the model math is Gpt2Lm's.
 */
final class Prefill extends Task {
    /** Most prompt positions (rows x shared prefix) one grouped prefill pass may carry: bounds the decode stall. */
    static final int GROUP_TOKENS = 1024;

    final Gpt2Lm.Rows rows;
    final int[] prompt;
    final float[] logits;

    Prefill(Ticket ticket, Gpt2Lm.Rows rows, int[] prompt, float[] logits) {
        super(ticket, null);
        this.rows = rows;
        this.prompt = prompt;
        this.logits = logits;
    }

    /**
     * The prefills to run together with {@code first} (taken from {@code tasks}, under the scheduler's lock): of all
     * queued prefills, the k longest where k maximises (k - 1) x the k-th longest length (the prompt positions whose
     * weight reads are shared), within {@link #GROUP_TOKENS}. The others go back to the head of the queue, in their
     * order.
     */
    static List<Prefill> group(ArrayDeque<Task> tasks, Prefill first) {
        List<Prefill> all = new ArrayList<>();
        all.add(first);
        for (var it = tasks.iterator(); it.hasNext(); ) {
            if (it.next() instanceof Prefill p) {
                all.add(p);
                it.remove();
            }
        }
        List<Prefill> byLength = new ArrayList<>(all);
        byLength.sort((a, b) -> Integer.compare(b.prompt.length, a.prompt.length));
        int best = 1;
        long bestGain = 0;
        for (int k = 2; k <= byLength.size(); k++) {
            int len = byLength.get(k - 1).prompt.length;
            if ((long) k * len > GROUP_TOKENS) break;
            long gain = (long) (k - 1) * len;
            if (gain > bestGain) {
                bestGain = gain;
                best = k;
            }
        }
        List<Prefill> group = new ArrayList<>(byLength.subList(0, best));
        List<Prefill> rest = new ArrayList<>(all);
        rest.removeAll(group);
        for (int i = rest.size() - 1; i >= 0; i--) tasks.addFirst(rest.get(i));
        return group;
    }

    /**
     * Runs the group's live prefills as one pass and releases their threads; cancelled ones fail at once, and an
     * error fails every prefill of the pass. Returns how many prompts the pass carried (0 when it did not run).
     */
    static int run(Gpt2Lm lm, List<Prefill> group) {
        List<Prefill> live = new ArrayList<>(group.size());
        for (Prefill p : group) {
            if (p.ticket.isCancelled()) p.fail(p.ticket.cancellation());
            else live.add(p);
        }
        if (live.isEmpty()) return 0;
        Gpt2Lm.Rows[] sessions = new Gpt2Lm.Rows[live.size()];
        int[][] prompts = new int[live.size()][];
        float[][] logits = new float[live.size()][];
        for (int i = 0; i < sessions.length; i++) {
            sessions[i] = live.get(i).rows;
            prompts[i] = live.get(i).prompt;
            logits[i] = live.get(i).logits;
        }
        try {
            lm.prefill(sessions, prompts, logits);
        } catch (RuntimeException | Error e) {
            RuntimeException r = e instanceof RuntimeException re ? re : new IllegalStateException("prefill failed: " + e, e);
            for (Prefill p : live) p.fail(r);
            return 0;
        }
        for (Prefill p : live) p.done.countDown();
        return live.size();
    }
}
