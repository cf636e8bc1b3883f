package io.gpt2j.eval;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders an {@link LmEvaluation} report as a terminal table or an HTML page beside the paper's Table 3. No I/O. */
public final class ReportFormat {
    private ReportFormat() {
    }

    @SuppressWarnings("unchecked")
    public static String table(Map<String, Object> report) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-50s %s%n", "task", report.get("task")));
        for (String section : List.of("metrics", "counts", "time")) {
            Map<String, Object> m = (Map<String, Object>) report.get(section);
            for (Map.Entry<String, Object> e : m.entrySet()) {
                sb.append(String.format(Locale.ROOT, "%-50s %s%n", section + "." + e.getKey(), fmt(e.getValue())));
            }
        }
        Map<String, Object> paper = (Map<String, Object>) report.get("paper_table_3");
        Map<String, Object> ours = (Map<String, Object>) paper.get("ours");
        for (Map.Entry<String, Object> e : ours.entrySet()) {
            Object p = paper.get(e.getKey());
            sb.append(String.format(Locale.ROOT, "%-50s %s   (paper, %s: %s)%n", "paper column " + e.getKey(), fmt(e.getValue()),
                    paper.get("size") == null ? "no matching size" : paper.get("size"), p == null ? "-" : fmt(p)));
        }
        return sb.toString();
    }

    /** One HTML page: our row for the task's columns beside every row of the paper's Table 3. */
    @SuppressWarnings("unchecked")
    public static String html(List<Map<String, Object>> reports) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>gpt2j evaluation</title>\n")
                .append("<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;")
                .append("padding:4px 8px;text-align:right}tr.ours{background:#ffe}</style></head><body>\n")
                .append("<h1>gpt2j zero-shot evaluation</h1>\n<table>\n<tr><th>model</th>");
        for (String c : PaperTable.COLUMNS) sb.append("<th>").append(esc(c)).append("</th>");
        sb.append("</tr>\n");
        for (Map.Entry<String, double[]> row : PaperTable.ROWS.entrySet()) {
            sb.append("<tr><td>paper ").append(esc(row.getKey())).append("</td>");
            for (String c : PaperTable.COLUMNS) sb.append("<td>").append(PaperTable.printed(row.getKey(), c)).append("</td>");
            sb.append("</tr>\n");
        }
        for (Map<String, Object> r : reports) {
            Map<String, Object> paper = (Map<String, Object>) r.get("paper_table_3");
            Map<String, Object> ours = (Map<String, Object>) paper.get("ours");
            Object size = paper.get("size");
            sb.append("<tr class=\"ours\"><td>gpt2j ").append(esc(size == null ? "(other size)" : String.valueOf(size)))
                    .append(" — ").append(esc(String.valueOf(r.get("task")))).append("</td>");
            for (String c : PaperTable.COLUMNS) {
                Object v = ours.get(c);
                sb.append("<td>").append(v == null ? "" : fmt(v)).append("</td>");
            }
            sb.append("</tr>\n");
        }
        sb.append("</table>\n<p>Paper rows: Radford et al. (2019), Table 3. Accuracies in %, perplexities per word ")
                .append("(LAMBADA: per last word), enwik8 bits per byte, text8 bits per character. ")
                .append("See docs/evaluation.md for why our numbers can differ.</p>\n");
        for (Map<String, Object> r : reports) {
            sb.append("<h2>").append(esc(String.valueOf(r.get("task")))).append("</h2>\n<pre>").append(esc(table(r))).append("</pre>\n");
            for (Object n : (List<Object>) r.get("notes")) sb.append("<p>").append(esc(String.valueOf(n))).append("</p>\n");
        }
        return sb.append("</body></html>\n").toString();
    }

    static String fmt(Object v) {
        if (v instanceof Double d) {
            double a = Math.abs(d);
            if (a != 0 && (a < 1e-3 || a >= 1e7)) return String.format(Locale.ROOT, "%.4e", d);
            return String.format(Locale.ROOT, "%.4f", d).replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return String.valueOf(v);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
