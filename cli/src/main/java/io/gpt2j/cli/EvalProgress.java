package io.gpt2j.cli;

import io.gpt2j.eval.Progress;
import java.io.PrintWriter;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * An evaluation's progress (windows or examples done) as a me.tongfei:progressbar bar on stderr: redrawn in place on a
 * terminal, else one plain line at most every {@link #LOG_INTERVAL_MS} (CI logs). stdout stays pure JSON.
 */
final class EvalProgress implements Progress, AutoCloseable {
    static final int TERMINAL_INTERVAL_MS = 200, LOG_INTERVAL_MS = 10_000;
    private final PrintWriter err;
    private final String task;
    private final TrainProgress.Mode mode;
    private final int intervalMs;
    private ProgressBar bar;
    private boolean drawn;
    private String printed = "";

    EvalProgress(PrintWriter err, String task, TrainProgress.Mode mode, int intervalMs) {
        this.err = err;
        this.task = task;
        this.mode = mode;
        this.intervalMs = intervalMs;
    }

    /** For a command run: off with --quiet, else in place on a terminal or plain lines otherwise. */
    static EvalProgress forRun(PrintWriter err, String task, boolean quiet) {
        TrainProgress.Mode mode = TrainProgress.mode(quiet);
        return new EvalProgress(err, task, mode, mode == TrainProgress.Mode.LOG ? LOG_INTERVAL_MS : TERMINAL_INTERVAL_MS);
    }

    @Override
    public synchronized void update(long done, long total) {
        if (mode == TrainProgress.Mode.OFF || total <= 0) return;
        if (bar == null) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(intervalMs).setConsumer(new DelegatingProgressBarConsumer(this::draw, 100)).build();
        }
        bar.maxHint(total);
        bar.stepTo(done);
    }

    private synchronized void draw(String line) {
        if (mode == TrainProgress.Mode.TERMINAL) {
            err.print('\r' + line);
            drawn = true;
        } else {
            String state = line.replaceAll("\\(.*?\\)", "").strip();
            if (state.equals(printed)) return; // the library re-renders on close; one line per state is enough
            printed = state;
            err.println(line.stripTrailing());
        }
        err.flush();
    }

    /** Renders the final state and ends the bar's line. */
    @Override
    public void close() {
        ProgressBar b;
        synchronized (this) {
            b = bar;
            bar = null;
        }
        if (b == null) return;
        b.close();
        synchronized (this) {
            if (drawn) err.println();
            err.flush();
            drawn = false;
        }
    }
}
