package io.gpt2j.cli;

import io.gpt2j.core.io.Json;
import io.gpt2j.train.Trainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Shows a fine-tuning run: each log / eval record as one JSON line on stdout (as transformers prints its logs), and,
 * when enabled, a progress bar on stderr redrawn in place with the step, loss, learning rate, tokens/s and ETA.
 */
final class TrainProgress implements Trainer.Listener {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;
    private final PrintWriter out, err;
    private final boolean bar;
    private final long t0 = System.nanoTime();
    private long lastDraw;
    private int firstStep = -1;
    private boolean drawn;
    private double tokensPerSecond;

    TrainProgress(PrintWriter out, PrintWriter err, boolean bar) {
        this.out = out;
        this.err = err;
        this.bar = bar;
    }

    @Override
    public void onStep(int step, int total, double loss, double lr, double tps) {
        tokensPerSecond = tps;
        if (firstStep < 0) firstStep = step - 1;
        long now = System.nanoTime();
        if (!bar || (now - lastDraw < REDRAW_NANOS && step != total)) return;
        lastDraw = now;
        err.print('\r' + line(step, total, loss, lr, tps, (now - t0) / 1e9));
        err.flush();
        drawn = true;
    }

    /** {@code 37%|███████▏          | 37/100 [00:12<00:20] loss 1.2345 lr 4.10e-05 1523 tok/s} */
    String line(int step, int total, double loss, double lr, double tps, double elapsed) {
        double f = total == 0 ? 1 : (double) step / total;
        int full = (int) (f * WIDTH);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%3d%%|", (int) (f * 100)));
        for (int i = 0; i < WIDTH; i++) sb.append(i < full ? '#' : ' ');
        int done = step - Math.max(0, firstStep);
        double eta = done > 0 ? elapsed / done * (total - step) : 0;
        sb.append(String.format(Locale.ROOT, "| %d/%d [%s<%s] loss %.4f lr %.2e %.0f tok/s", step, total, clock(elapsed), clock(eta), loss, lr, tps));
        return sb.toString();
    }

    private static String clock(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String.format(Locale.ROOT, "%02d:%02d", t / 60, t % 60);
    }

    @Override
    public void onLog(Map<String, Object> record) {
        clearBar();
        out.println(Json.write(record));
        out.flush();
    }

    @Override
    public void onSave(Path checkpoint) {
        clearBar();
        out.println("saved checkpoint " + checkpoint);
        out.flush();
    }

    private void clearBar() {
        if (drawn) {
            err.print('\r' + " ".repeat(120) + '\r');
            err.flush();
            drawn = false;
            lastDraw = 0;
        }
    }

    void close() {
        if (drawn) {
            err.println();
            err.flush();
        }
    }

    double tokensPerSecond() {
        return tokensPerSecond;
    }
}
