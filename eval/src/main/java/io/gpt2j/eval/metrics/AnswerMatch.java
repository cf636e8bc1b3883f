package io.gpt2j.eval.metrics;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Exact match and token-level F1 as in the SQuAD v1.1 evaluation: answers are normalized (lower-case, punctuation
 * removed, articles a/an/the removed, whitespace collapsed); with several gold answers the best score counts.
 */
public final class AnswerMatch {
    private AnswerMatch() {
    }

    public static String normalize(String s) {
        String t = s.toLowerCase(Locale.ROOT).replaceAll("\\p{Punct}", "");
        t = t.replaceAll("\\b(a|an|the)\\b", " ");
        return String.join(" ", t.trim().split("\\s+")).trim();
    }

    public static double exactMatch(String prediction, List<String> golds) {
        String p = normalize(prediction);
        for (String g : golds) if (p.equals(normalize(g))) return 1;
        return 0;
    }

    public static double f1(String prediction, List<String> golds) {
        double best = 0;
        for (String g : golds) best = Math.max(best, f1(prediction, g));
        return best;
    }

    static double f1(String prediction, String gold) {
        String p = normalize(prediction), g = normalize(gold);
        String[] pt = p.isEmpty() ? new String[0] : p.split(" "), gt = g.isEmpty() ? new String[0] : g.split(" ");
        if (pt.length == 0 || gt.length == 0) return pt.length == gt.length ? 1 : 0;
        Map<String, Integer> gc = new HashMap<>();
        for (String t : gt) gc.merge(t, 1, Integer::sum);
        int same = 0;
        for (String t : pt) {
            Integer n = gc.get(t);
            if (n != null && n > 0) {
                same++;
                gc.put(t, n - 1);
            }
        }
        if (same == 0) return 0;
        double prec = (double) same / pt.length, rec = (double) same / gt.length;
        return 2 * prec * rec / (prec + rec);
    }
}
