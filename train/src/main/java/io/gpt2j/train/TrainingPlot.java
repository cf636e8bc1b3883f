package io.gpt2j.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Draws a run's log history as a PNG with java.awt (headless): training and validation loss against the optimizer
 * step on the left, the chosen validation metric on the right. Pure function of the history; no state.
 */
public final class TrainingPlot {
    public static final int WIDTH = 960, HEIGHT = 400;
    private static final Color TRAIN = new Color(31, 119, 180), EVAL = new Color(255, 127, 14), METRIC = new Color(44, 160, 44);

    private TrainingPlot() {
    }

    /** Writes {@code png}; {@code metric} is a key of the eval records (e.g. eval_accuracy), or null for none. */
    public static void write(List<Map<String, Object>> history, String metric, Path png) {
        BufferedImage img = render(history, metric, WIDTH, HEIGHT);
        try {
            if (!ImageIO.write(img, "png", png.toFile())) throw new IOException("no PNG writer in this JDK");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
        }
    }

    public static BufferedImage render(List<Map<String, Object>> history, String metric, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        List<double[]> train = series(history, "loss"), eval = series(history, "eval_loss");
        panel(g, 0, 0, w / 2, h, "loss", List.of(train, eval), List.of(TRAIN, EVAL), List.of("train loss", "eval loss"));
        if (metric != null && !metric.equals("eval_loss")) {
            panel(g, w / 2, 0, w - w / 2, h, metric, List.of(series(history, metric)), List.of(METRIC), List.of(metric));
        }
        g.dispose();
        return img;
    }

    /** (step, value) pairs of the records that carry {@code key}. */
    static List<double[]> series(List<Map<String, Object>> history, String key) {
        List<double[]> out = new ArrayList<>();
        for (Map<String, Object> r : history) {
            if (r.get(key) instanceof Number v && r.get("step") instanceof Number s && Double.isFinite(v.doubleValue())) {
                out.add(new double[]{s.doubleValue(), v.doubleValue()});
            }
        }
        return out;
    }

    private static void panel(Graphics2D g, int x0, int y0, int w, int h, String title, List<List<double[]>> lines,
                              List<Color> colors, List<String> names) {
        int left = x0 + 60, right = x0 + w - 15, top = y0 + 30, bottom = y0 + h - 40;
        double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
        for (List<double[]> l : lines) {
            for (double[] p : l) {
                minX = Math.min(minX, p[0]);
                maxX = Math.max(maxX, p[0]);
                minY = Math.min(minY, p[1]);
                maxY = Math.max(maxY, p[1]);
            }
        }
        g.setColor(Color.DARK_GRAY);
        g.setStroke(new BasicStroke(1f));
        g.drawRect(left, top, right - left, bottom - top);
        text(g, title, left, top - 10);
        if (minX > maxX) {
            text(g, "no data", (left + right) / 2 - 20, (top + bottom) / 2);
            return;
        }
        if (maxX == minX) maxX = minX + 1;
        if (maxY == minY) {
            maxY += Math.max(1e-3, Math.abs(maxY) * 0.05);
            minY -= Math.max(1e-3, Math.abs(minY) * 0.05);
        }
        for (int i = 0; i <= 4; i++) {
            double v = minY + (maxY - minY) * i / 4;
            int y = bottom - (int) Math.round((bottom - top) * (double) i / 4);
            g.setColor(new Color(230, 230, 230));
            g.drawLine(left + 1, y, right - 1, y);
            g.setColor(Color.DARK_GRAY);
            text(g, String.format(Locale.ROOT, "%.3g", v), x0 + 5, y + 4);
        }
        text(g, String.format(Locale.ROOT, "step %.0f", minX), left, bottom + 15);
        text(g, String.format(Locale.ROOT, "%.0f", maxX), right - 30, bottom + 15);
        for (int k = 0; k < lines.size(); k++) {
            List<double[]> l = lines.get(k);
            g.setColor(colors.get(k));
            g.setStroke(new BasicStroke(2f));
            int px = -1, py = -1;
            for (double[] p : l) {
                int x = left + (int) Math.round((p[0] - minX) / (maxX - minX) * (right - left));
                int y = bottom - (int) Math.round((p[1] - minY) / (maxY - minY) * (bottom - top));
                if (px >= 0) g.drawLine(px, py, x, y);
                g.fillOval(x - 2, y - 2, 5, 5);
                px = x;
                py = y;
            }
            text(g, names.get(k), left + 10 + 110 * k, bottom + 32);
        }
    }

    /** Text needs a font; a JDK without any font (some minimal images) gets the plot without labels. */
    private static void text(Graphics2D g, String s, int x, int y) {
        try {
            g.drawString(s, x, y);
        } catch (RuntimeException | Error e) {
            // no usable font configuration: draw nothing rather than fail the run over a label
        }
    }
}
