package io.gpt2j.eval.metrics;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Corpus BLEU (Papineni et al., 2002): clipped n-gram counts summed over the corpus, geometric mean of the
 * precisions with uniform weights up to {@code maxOrder}, brevity penalty against the closest reference length
 * (shorter one on ties). Works on token lists; tokenization is the caller's choice. Pure functions.
 */
public final class Bleu {
    /** NONE: a zero precision gives BLEU 0; FLOOR: a zero numerator becomes 0.1; ADD_ONE: +1 to numerator and denominator for n >= 2 (Lin and Och, 2004). */
    public enum Smoothing { NONE, FLOOR, ADD_ONE }

    public record Result(double bleu, double[] precisions, double brevityPenalty, long hypothesisLength, long referenceLength) {
    }

    private Bleu() {
    }

    public static Result corpus(List<List<List<String>>> references, List<List<String>> hypotheses, int maxOrder, Smoothing smoothing) {
        if (references.size() != hypotheses.size()) {
            throw new IllegalArgumentException(hypotheses.size() + " hypotheses but " + references.size() + " reference sets");
        }
        if (maxOrder < 1) throw new IllegalArgumentException("max order must be >= 1, got " + maxOrder);
        long[] num = new long[maxOrder], den = new long[maxOrder];
        long c = 0, r = 0;
        for (int i = 0; i < hypotheses.size(); i++) {
            List<String> h = hypotheses.get(i);
            List<List<String>> refs = references.get(i);
            if (refs.isEmpty()) throw new IllegalArgumentException("hypothesis " + i + " has no reference");
            for (int n = 1; n <= maxOrder; n++) {
                Map<List<String>, Integer> hc = ngrams(h, n), maxRef = new HashMap<>();
                for (List<String> ref : refs) ngrams(ref, n).forEach((k, v) -> maxRef.merge(k, v, Math::max));
                for (Map.Entry<List<String>, Integer> e : hc.entrySet()) {
                    num[n - 1] += Math.min(e.getValue(), maxRef.getOrDefault(e.getKey(), 0));
                    den[n - 1] += e.getValue();
                }
            }
            c += h.size();
            int best = refs.get(0).size();
            for (List<String> ref : refs) {
                int d = Math.abs(ref.size() - h.size()), bd = Math.abs(best - h.size());
                if (d < bd || (d == bd && ref.size() < best)) best = ref.size();
            }
            r += best;
        }
        double[] p = new double[maxOrder];
        double logSum = 0;
        boolean zero = false;
        for (int n = 0; n < maxOrder; n++) {
            double a = num[n], b = den[n];
            if (smoothing == Smoothing.ADD_ONE && n > 0) {
                a += 1;
                b += 1;
            } else if (smoothing == Smoothing.FLOOR && a == 0 && b > 0) {
                a = 0.1;
            }
            p[n] = b == 0 ? 0 : a / b;
            if (p[n] == 0) zero = true;
            else logSum += Math.log(p[n]) / maxOrder;
        }
        double bp = c == 0 ? 0 : (c > r ? 1 : Math.exp(1 - (double) r / c));
        return new Result(zero ? 0 : bp * Math.exp(logSum), p, bp, c, r);
    }

    static Map<List<String>, Integer> ngrams(List<String> s, int n) {
        Map<List<String>, Integer> m = new HashMap<>();
        for (int i = 0; i + n <= s.size(); i++) m.merge(List.copyOf(s.subList(i, i + n)), 1, Integer::sum);
        return m;
    }
}
