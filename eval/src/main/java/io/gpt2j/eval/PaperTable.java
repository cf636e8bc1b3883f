package io.gpt2j.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Table 3 of "Language Models are Unsupervised Multitask Learners" (Radford et al., 2019): zero-shot results of
 * the four GPT-2 sizes. Every figure was checked against a text extraction of the paper's Table 3; nothing is
 * interpolated. Values only, no formatting.
 */
public final class PaperTable {
    private PaperTable() {
    }

    /** Column names in the paper's order, with the task that produces each. */
    public static final List<String> COLUMNS = List.of("LAMBADA (PPL)", "LAMBADA (ACC)", "CBT-CN (ACC)", "CBT-NE (ACC)",
            "WikiText2 (PPL)", "PTB (PPL)", "enwik8 (BPB)", "text8 (BPC)", "WikiText103 (PPL)", "1BW (PPL)");

    public static final Map<String, double[]> ROWS;

    static {
        Map<String, double[]> m = new LinkedHashMap<>();
        m.put("SOTA (2019)", new double[] {99.8, 59.23, 85.7, 82.3, 39.14, 46.54, 0.99, 1.08, 18.3, 21.8});
        m.put("117M", new double[] {35.13, 45.99, 87.65, 83.4, 29.41, 65.85, 1.16, 1.17, 37.50, 75.20});
        m.put("345M", new double[] {15.60, 55.48, 92.35, 87.1, 22.76, 47.33, 1.01, 1.06, 26.37, 55.72});
        m.put("762M", new double[] {10.87, 60.12, 93.45, 88.0, 19.93, 40.31, 0.97, 1.02, 22.05, 44.575});
        m.put("1542M", new double[] {8.63, 63.24, 93.30, 89.05, 18.34, 35.76, 0.93, 0.98, 17.48, 42.16});
        ROWS = java.util.Collections.unmodifiableMap(m);
    }

    /** A figure as printed in the paper (trailing zeros kept: "37.50", "88.0"). */
    public static String printed(String row, String column) {
        return PRINTED.get(row)[COLUMNS.indexOf(column)];
    }

    private static final Map<String, String[]> PRINTED = Map.of(
            "SOTA (2019)", "99.8 59.23 85.7 82.3 39.14 46.54 0.99 1.08 18.3 21.8".split(" "),
            "117M", "35.13 45.99 87.65 83.4 29.41 65.85 1.16 1.17 37.50 75.20".split(" "),
            "345M", "15.60 55.48 92.35 87.1 22.76 47.33 1.01 1.06 26.37 55.72".split(" "),
            "762M", "10.87 60.12 93.45 88.0 19.93 40.31 0.97 1.02 22.05 44.575".split(" "),
            "1542M", "8.63 63.24 93.30 89.05 18.34 35.76 0.93 0.98 17.48 42.16".split(" "));

    /** The paper's name for a model of this shape (117M = gpt2, 345M = gpt2-medium, ...), or null. */
    public static String sizeOf(int nLayer, int nEmbd) {
        if (nLayer == 12 && nEmbd == 768) return "117M";
        if (nLayer == 24 && nEmbd == 1024) return "345M";
        if (nLayer == 36 && nEmbd == 1280) return "762M";
        if (nLayer == 48 && nEmbd == 1600) return "1542M";
        return null;
    }

    /** The columns a task fills, in COLUMNS order. */
    public static List<String> columnsOf(String task) {
        return switch (task) {
            case "lambada" -> List.of("LAMBADA (PPL)", "LAMBADA (ACC)");
            case "cbt-cn" -> List.of("CBT-CN (ACC)");
            case "cbt-ne" -> List.of("CBT-NE (ACC)");
            case "wikitext-2" -> List.of("WikiText2 (PPL)");
            case "ptb" -> List.of("PTB (PPL)");
            case "enwik8" -> List.of("enwik8 (BPB)");
            case "text8" -> List.of("text8 (BPC)");
            case "wikitext-103" -> List.of("WikiText103 (PPL)");
            case "1bw" -> List.of("1BW (PPL)");
            default -> List.of();
        };
    }

    public static double value(String row, String column) {
        return ROWS.get(row)[COLUMNS.indexOf(column)];
    }
}
