package io.gpt2j.eval.metrics;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Draws a confusion matrix as a PNG (java.awt, headless): rows gold, columns predicted, cells shaded by their share
 * of the gold row, with the count in each cell. The size depends only on the number of labels:
 * {@link #width(int)} × {@link #height(int)} pixels.
 */
public final class ConfusionMatrixImage {
    static final int CELL = 48, LEFT = 140, TOP = 140, MARGIN = 24;

    private ConfusionMatrixImage() {
    }

    public static int width(int labels) {
        return LEFT + labels * CELL + MARGIN;
    }

    public static int height(int labels) {
        return TOP + labels * CELL + MARGIN;
    }

    public static BufferedImage render(List<String> labels, long[][] m) {
        int k = labels.size();
        if (k == 0 || m.length != k) throw new IllegalArgumentException("confusion matrix has " + m.length + " rows for " + k + " labels");
        BufferedImage img = new BufferedImage(width(k), height(k), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            FontMetrics fm = g.getFontMetrics();
            g.setColor(Color.DARK_GRAY);
            g.drawString("gold \u2193  predicted \u2192", 8, 16);
            for (int i = 0; i < k; i++) {
                long row = 0;
                for (long v : m[i]) row += v;
                for (int j = 0; j < k; j++) {
                    double share = row == 0 ? 0 : (double) m[i][j] / row;
                    int shade = (int) Math.round(255 - 200 * share);
                    g.setColor(new Color(shade, shade, 255));
                    int x = LEFT + j * CELL, y = TOP + i * CELL;
                    g.fillRect(x, y, CELL, CELL);
                    g.setColor(share > 0.5 ? Color.WHITE : Color.BLACK);
                    String s = Long.toString(m[i][j]);
                    g.drawString(s, x + (CELL - fm.stringWidth(s)) / 2, y + (CELL + fm.getAscent()) / 2 - 2);
                }
                g.setColor(Color.BLACK);
                String name = fit(labels.get(i), fm, LEFT - 10);
                g.drawString(name, LEFT - 6 - fm.stringWidth(name), TOP + i * CELL + (CELL + fm.getAscent()) / 2 - 2);
            }
            AffineTransform plain = g.getTransform();
            for (int j = 0; j < k; j++) { // column labels, rotated
                String name = fit(labels.get(j), fm, TOP - 10);
                g.setTransform(plain);
                g.translate(LEFT + j * CELL + (CELL + fm.getAscent()) / 2 - 2, TOP - 6);
                g.rotate(-Math.PI / 2);
                g.setColor(Color.BLACK);
                g.drawString(name, 0, 0);
            }
            g.setTransform(plain);
            g.setColor(Color.GRAY);
            g.setStroke(new BasicStroke(1));
            g.drawRect(LEFT, TOP, k * CELL, k * CELL);
        } finally {
            g.dispose();
        }
        return img;
    }

    private static String fit(String s, FontMetrics fm, int width) {
        if (fm.stringWidth(s) <= width) return s;
        while (s.length() > 1 && fm.stringWidth(s + "\u2026") > width) s = s.substring(0, s.length() - 1);
        return s + "\u2026";
    }

    public static void writePng(Path file, List<String> labels, long[][] m) {
        try {
            if (!ImageIO.write(render(labels, m), "png", file.toFile())) throw new IOException("no PNG writer");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
