package io.gpt2j.eval.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ROUGE-N, ROUGE-L (sentence-level LCS) and ROUGE-Lsum (summary-level union LCS over newline-separated sentences),
 * as defined by Lin (2004), reported as precision / recall / F1. Default tokenization lower-cases and splits on
 * anything that is not a letter or digit; no stemming. Pure functions.
 */
public final class Rouge {
    public record Score(double precision, double recall, double f1) {
        static Score of(double hits, double candTotal, double refTotal) {
            double p = candTotal == 0 ? 0 : hits / candTotal, r = refTotal == 0 ? 0 : hits / refTotal;
            return new Score(p, r, p + r == 0 ? 0 : 2 * p * r / (p + r));
        }
    }

    private Rouge() {
    }

    public static List<String> tokenize(String s) {
        List<String> out = new ArrayList<>();
        for (String t : s.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) if (!t.isEmpty()) out.add(t);
        return out;
    }

    public static Score n(String candidate, String reference, int n) {
        Map<List<String>, Integer> c = Bleu.ngrams(tokenize(candidate), n), r = Bleu.ngrams(tokenize(reference), n);
        long hits = 0, ct = 0, rt = 0;
        for (Map.Entry<List<String>, Integer> e : c.entrySet()) {
            hits += Math.min(e.getValue(), r.getOrDefault(e.getKey(), 0));
            ct += e.getValue();
        }
        for (int v : r.values()) rt += v;
        return Score.of(hits, ct, rt);
    }

    public static Score l(String candidate, String reference) {
        List<String> c = tokenize(candidate), r = tokenize(reference);
        return Score.of(lcsTable(c, r)[c.size()][r.size()], c.size(), r.size());
    }

    /** Summary-level ROUGE-L: for each reference sentence, the union of its LCS hits with every candidate sentence. */
    public static Score lsum(String candidate, String reference) {
        List<List<String>> cs = sentences(candidate), rs = sentences(reference);
        long ct = 0, rt = 0, hits = 0;
        for (List<String> c : cs) ct += c.size();
        for (List<String> r : rs) {
            rt += r.size();
            boolean[] union = new boolean[r.size()];
            for (List<String> c : cs) for (int j : lcsPositions(r, c)) union[j] = true;
            for (boolean u : union) if (u) hits++;
        }
        return Score.of(hits, ct, rt);
    }

    private static List<List<String>> sentences(String s) {
        List<List<String>> out = new ArrayList<>();
        for (String line : s.split("\n")) {
            List<String> t = tokenize(line);
            if (!t.isEmpty()) out.add(t);
        }
        return out;
    }

    private static int[][] lcsTable(List<String> a, List<String> b) {
        int[][] t = new int[a.size() + 1][b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            for (int j = 1; j <= b.size(); j++) {
                t[i][j] = a.get(i - 1).equals(b.get(j - 1)) ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
            }
        }
        return t;
    }

    /** Indices into {@code r} of one longest common subsequence of r and c. */
    private static int[] lcsPositions(List<String> r, List<String> c) {
        int[][] t = lcsTable(r, c);
        int i = r.size(), j = c.size(), k = t[i][j];
        int[] out = new int[k];
        while (i > 0 && j > 0) {
            if (r.get(i - 1).equals(c.get(j - 1))) {
                out[--k] = i - 1;
                i--;
                j--;
            } else if (t[i - 1][j] >= t[i][j - 1]) {
                i--;
            } else {
                j--;
            }
        }
        return Arrays.copyOf(out, out.length);
    }
}
