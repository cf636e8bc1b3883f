package io.gpt2j.eval.metrics;

import io.gpt2j.core.io.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scores generated texts against references: corpus BLEU-1..4 (whitespace tokens, optional lower-casing),
 * mean ROUGE-1/2/L/Lsum F1, mean exact match and token F1 (SQuAD normalization). Input: JSON lines with
 * "prediction" and "references" (a list, or a single string as "reference"). Returns a JSON-ready map.
 */
public final class GenerationEvaluation {
    private GenerationEvaluation() {
    }

    public record Example(String prediction, List<String> references) {
    }

    @SuppressWarnings("unchecked")
    public static List<Example> parseJsonl(String text) {
        List<Example> out = new ArrayList<>();
        int line = 0;
        for (String l : text.split("\n")) {
            line++;
            if (l.isBlank()) continue;
            Map<String, Object> m = Json.parseObject(l);
            Object p = m.get("prediction");
            Object refs = m.containsKey("references") ? m.get("references") : m.get("reference");
            if (!(p instanceof String)) throw new IllegalArgumentException("line " + line + ": \"prediction\" must be a string");
            List<String> rs = new ArrayList<>();
            if (refs instanceof String s) rs.add(s);
            else if (refs instanceof List<?> list) for (Object o : list) rs.add(String.valueOf(o));
            if (rs.isEmpty()) throw new IllegalArgumentException("line " + line + ": needs \"references\" (list) or \"reference\" (string)");
            out.add(new Example((String) p, rs));
        }
        return out;
    }

    public static Map<String, Object> evaluate(List<Example> examples, Bleu.Smoothing smoothing, boolean lowercase) {
        if (examples.isEmpty()) throw new IllegalArgumentException("no examples");
        List<List<List<String>>> refs = new ArrayList<>();
        List<List<String>> hyps = new ArrayList<>();
        double r1 = 0, r2 = 0, rl = 0, rlsum = 0, em = 0, f1 = 0;
        for (Example e : examples) {
            hyps.add(words(e.prediction(), lowercase));
            List<List<String>> rr = new ArrayList<>();
            for (String r : e.references()) rr.add(words(r, lowercase));
            refs.add(rr);
            double b1 = 0, b2 = 0, bl = 0, bls = 0;
            for (String r : e.references()) { // best reference, as rouge-score's multi-reference max
                b1 = Math.max(b1, Rouge.n(e.prediction(), r, 1).f1());
                b2 = Math.max(b2, Rouge.n(e.prediction(), r, 2).f1());
                bl = Math.max(bl, Rouge.l(e.prediction(), r).f1());
                bls = Math.max(bls, Rouge.lsum(e.prediction(), r).f1());
            }
            r1 += b1;
            r2 += b2;
            rl += bl;
            rlsum += bls;
            em += AnswerMatch.exactMatch(e.prediction(), e.references());
            f1 += AnswerMatch.f1(e.prediction(), e.references());
        }
        int n = examples.size();
        Map<String, Object> m = new LinkedHashMap<>();
        for (int order = 1; order <= 4; order++) {
            Bleu.Result b = Bleu.corpus(refs, hyps, order, smoothing);
            m.put("bleu_" + order, b.bleu());
            if (order == 4) {
                m.put("bleu_precisions", Arrays.stream(b.precisions()).boxed().toList());
                m.put("bleu_brevity_penalty", b.brevityPenalty());
            }
        }
        m.put("rouge1_f1", r1 / n);
        m.put("rouge2_f1", r2 / n);
        m.put("rougeL_f1", rl / n);
        m.put("rougeLsum_f1", rlsum / n);
        m.put("exact_match", em / n);
        m.put("token_f1", f1 / n);
        m.put("examples", n);
        m.put("bleu_smoothing", smoothing.name().toLowerCase(Locale.ROOT));
        return m;
    }

    static List<String> words(String s, boolean lowercase) {
        String t = lowercase ? s.toLowerCase(Locale.ROOT) : s;
        String trimmed = t.strip();
        return trimmed.isEmpty() ? List.of() : Arrays.asList(trimmed.split("\\s+"));
    }
}
