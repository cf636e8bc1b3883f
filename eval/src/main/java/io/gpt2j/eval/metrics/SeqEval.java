package io.gpt2j.eval.metrics;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Entity-level precision / recall / F1 for IOB-tagged sequences, like seqeval's default (conlleval-compatible)
 * mode: an entity starts at B-X, or at I-X after O or another type (which is how IOB1 starts entities), and ends
 * before O, B-, or a change of type. STRICT_IOB2 accepts only entities that start with B-X (orphan I- tags are
 * dropped). Micro-averaged over all entities.
 */
public final class SeqEval {
    public enum Mode { CONLLEVAL, STRICT_IOB2 }

    public record Entity(int sentence, String type, int start, int end) {
    }

    public record Result(double precision, double recall, double f1, long goldEntities, long predictedEntities, long correct) {
    }

    private SeqEval() {
    }

    public static List<Entity> entities(List<List<String>> sentences, Mode mode) {
        List<Entity> out = new ArrayList<>();
        for (int s = 0; s < sentences.size(); s++) {
            List<String> tags = sentences.get(s);
            String type = null;
            int start = -1;
            for (int i = 0; i <= tags.size(); i++) {
                String tag = i < tags.size() ? tags.get(i) : "O";
                char prefix = tag.equals("O") || tag.length() < 2 ? 'O' : tag.charAt(0);
                String t = prefix == 'O' ? null : tag.substring(2);
                boolean continues = prefix == 'I' && type != null && type.equals(t);
                if (type != null && !continues) {
                    out.add(new Entity(s, type, start, i - 1));
                    type = null;
                }
                if (prefix == 'B' || (prefix == 'I' && !continues)) {
                    if (prefix == 'I' && mode == Mode.STRICT_IOB2) continue; // orphan I-: not an entity in strict IOB2
                    type = t;
                    start = i;
                }
            }
        }
        return out;
    }

    public static Result evaluate(List<List<String>> gold, List<List<String>> predicted, Mode mode) {
        if (gold.size() != predicted.size()) throw new IllegalArgumentException(gold.size() + " gold sentences but " + predicted.size() + " predicted");
        for (int i = 0; i < gold.size(); i++) {
            if (gold.get(i).size() != predicted.get(i).size()) {
                throw new IllegalArgumentException("sentence " + i + ": " + gold.get(i).size() + " gold tags but " + predicted.get(i).size() + " predicted");
            }
        }
        List<Entity> g = entities(gold, mode), p = entities(predicted, mode);
        Set<Entity> gs = new HashSet<>(g);
        return result(g.size(), p.size(), p.stream().filter(gs::contains).count());
    }

    /** Precision, recall and F1 from entity counts; a 0/0 ratio counts as 0. */
    private static Result result(long gold, long predicted, long correct) {
        double prec = predicted == 0 ? 0 : (double) correct / predicted, rec = gold == 0 ? 0 : (double) correct / gold;
        return new Result(prec, rec, prec + rec == 0 ? 0 : 2 * prec * rec / (prec + rec), gold, predicted, correct);
    }

    /** {@link #evaluate} restricted to each entity type that occurs in the gold or predicted tags, by type name. */
    public static java.util.SortedMap<String, Result> perType(List<List<String>> gold, List<List<String>> predicted, Mode mode) {
        evaluate(gold, predicted, mode); // validates the shapes
        List<Entity> g = entities(gold, mode), p = entities(predicted, mode);
        java.util.SortedMap<String, Result> out = new java.util.TreeMap<>();
        java.util.TreeSet<String> types = new java.util.TreeSet<>();
        for (Entity e : g) types.add(e.type());
        for (Entity e : p) types.add(e.type());
        for (String t : types) {
            Set<Entity> gs = new HashSet<>();
            long gn = 0, pn = 0, correct = 0;
            for (Entity e : g) if (e.type().equals(t)) { gs.add(e); gn++; }
            for (Entity e : p) if (e.type().equals(t)) { pn++; if (gs.contains(e)) correct++; }
            out.put(t, result(gn, pn, correct));
        }
        return out;
    }

    /** Token-level accuracy (every tag, O included), as seqeval's accuracy_score. */
    public static double accuracy(List<List<String>> gold, List<List<String>> predicted) {
        long ok = 0, n = 0;
        for (int i = 0; i < gold.size(); i++) {
            for (int j = 0; j < gold.get(i).size(); j++) {
                if (gold.get(i).get(j).equals(predicted.get(i).get(j))) ok++;
                n++;
            }
        }
        return n == 0 ? 0 : (double) ok / n;
    }
}
