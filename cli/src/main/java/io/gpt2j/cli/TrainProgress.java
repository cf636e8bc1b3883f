package io.gpt2j.cli;

import io.gpt2j.core.io.Json;
import io.gpt2j.train.Trainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows a fine-tuning run: each log / eval record as one JSON line on stdout (as transformers prints its logs), and a
 * me.tongfei:progressbar bar on stderr with the step, ETA, loss, learning rate and tokens/s. On a terminal the bar
 * is redrawn in place; otherwise (CI logs, files) it is printed as a plain line at most every {@link #LOG_INTERVAL_MS}.
 */
final class TrainProgress implements Trainer.Listener {
    /** How the bar is shown: not at all, redrawn in place on a terminal, or as whole lines now and then (logs). */
    enum Mode { OFF, TERMINAL, LOG }

    static final int TERMINAL_INTERVAL_MS = 200, LOG_INTERVAL_MS = 30_000;
    private final PrintWriter out, err;
    private final Mode mode;
    private final int intervalMs, width;
    /** Serialises the bar (drawn by the library's thread) with the records printed by the training thread. */
    private final Object lock = new Object();
    private ProgressBar bar;
    private boolean drawn;
    /** LOG mode: the last line printed, without its elapsed / ETA times. */
    private String printed = "";
    private volatile double tokensPerSecond;

    TrainProgress(PrintWriter out, PrintWriter err, Mode mode) {
        this(out, err, mode, mode == Mode.LOG ? LOG_INTERVAL_MS : TERMINAL_INTERVAL_MS);
    }

    TrainProgress(PrintWriter out, PrintWriter err, Mode mode, int intervalMs) {
        this.out = out;
        this.err = err;
        this.mode = mode;
        this.intervalMs = intervalMs;
        this.width = mode == Mode.TERMINAL ? terminalWidth() : 100;
    }

    /** The bar's mode for a run: --disable_tqdm wins; otherwise in place on a terminal, else plain lines. */
    static Mode mode(Boolean disableTqdm) {
        if (Boolean.TRUE.equals(disableTqdm)) return Mode.OFF;
        java.io.Console c = System.console();
        return c != null && c.isTerminal() ? Mode.TERMINAL : Mode.LOG;
    }

    @Override
    public void onStep(int step, int total, double loss, double lr, double tps) {
        tokensPerSecond = tps;
        if (mode == Mode.OFF) return;
        if (bar == null) bar = build(step - 1, total);
        bar.setExtraMessage(message(loss, lr, tps));
        bar.stepTo(step);
    }

    /** {@code loss 1.2346 lr 4.10e-05 1523 tok/s}: what the bar shows after its ETA. */
    static String message(double loss, double lr, double tps) {
        return String.format(Locale.ROOT, "loss %.4f lr %.2e %.0f tok/s", loss, lr, tps);
    }

    /** A bar over {@code total} optimizer steps; a resumed run starts at its checkpoint's step, so the ETA counts only new steps. */
    private ProgressBar build(int startStep, int total) {
        DelegatingProgressBarConsumer consumer = new DelegatingProgressBarConsumer(this::draw, width);
        return new ProgressBarBuilder().setTaskName("train").setInitialMax(total).startsFrom(startStep, Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(intervalMs).setConsumer(consumer).build();
    }

    private void draw(String line) {
        synchronized (lock) {
            if (mode == Mode.TERMINAL) {
                err.print('\r' + line);
                drawn = true;
            } else {
                // the library renders once more on close: skip a line that only differs in its times
                String state = line.replaceAll("\\(.*?\\)", "").strip();
                if (state.equals(printed)) return;
                printed = state;
                err.println(line.stripTrailing());
            }
            err.flush();
        }
    }

    @Override
    public void onLog(Map<String, Object> record) {
        println(Json.write(record));
    }

    @Override
    public void onSave(Path checkpoint) {
        println("saved checkpoint " + checkpoint);
    }

    /** A stdout line; on a terminal the bar is wiped first and comes back with the next step. */
    private void println(String s) {
        synchronized (lock) {
            if (drawn) {
                err.print('\r' + " ".repeat(width) + '\r');
                err.flush();
                drawn = false;
            }
            out.println(s);
            out.flush();
        }
    }

    /** Draws the final state (the library renders once more when closed) and ends the bar's line. */
    void close() {
        if (bar == null) return;
        bar.close();
        bar = null;
        synchronized (lock) {
            if (drawn) {
                err.println();
                err.flush();
                drawn = false;
            }
        }
    }

    /** Draws the current state now instead of at the library's next refresh tick (tests; no timing involved). */
    void refreshNow() {
        if (bar != null) bar.refresh();
    }

    double tokensPerSecond() {
        return tokensPerSecond;
    }

    /** $COLUMNS when the shell exports it, else 100; the bar must fit one line for the in-place redraw to work. */
    private static int terminalWidth() {
        try {
            int c = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "100").strip());
            return Math.clamp(c - 1, 40, 200);
        } catch (NumberFormatException e) {
            return 100;
        }
    }
}
