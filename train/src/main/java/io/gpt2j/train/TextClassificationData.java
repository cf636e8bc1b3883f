package io.gpt2j.train;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A text-classification JSONL file ({@code {"text": ..., "label": int or string}} per line), tokenised and
 * truncated to max_seq_length; label ids index {@code labelNames}. Immutable after loading.
 */
public record TextClassificationData(List<int[]> ids, int[] labels, List<String> labelNames) implements TrainingData {

    /** One raw example before tokenisation. */
    public record Row(String text, Object label) {
    }

    public static List<Row> readJsonl(Path file, String textField, String labelField) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            Map<String, Object> o;
            try {
                o = Json.parseObject(line);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": not a JSON object: " + e.getMessage(), e);
            }
            if (!(o.get(textField) instanceof String text)) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": field '" + textField + "' missing or not a string");
            }
            Object label = o.get(labelField);
            if (!(label instanceof Number) && !(label instanceof String)) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": field '" + labelField + "' missing or not a number/string");
            }
            rows.add(new Row(text, label));
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(file + ": no examples");
        return rows;
    }

    /**
     * Label names: given names win (integer labels index them); otherwise integer labels 0..max become LABEL_i
     * (transformers' default names) and string labels are sorted.
     */
    public static List<String> labelNames(List<Row> rows, List<String> given) {
        if (given != null && !given.isEmpty()) return List.copyOf(given);
        if (rows.stream().allMatch(r -> r.label() instanceof Number)) {
            int max = rows.stream().mapToInt(r -> ((Number) r.label()).intValue()).max().orElse(0);
            List<String> names = new ArrayList<>();
            for (int i = 0; i <= max; i++) names.add("LABEL_" + i);
            return names;
        }
        TreeSet<String> set = new TreeSet<>();
        for (Row r : rows) set.add(String.valueOf(r.label()));
        return List.copyOf(set);
    }

    public static TextClassificationData encode(List<Row> rows, List<String> names, Gpt2Tokenizer tok, int maxSeqLength) {
        List<int[]> ids = new ArrayList<>();
        int[] labels = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            int label = r.label() instanceof Number n ? n.intValue() : names.indexOf(String.valueOf(r.label()));
            if (label < 0 || label >= names.size()) {
                throw new IllegalArgumentException("example " + (i + 1) + ": label " + r.label() + " is not one of " + names);
            }
            int[] t = tok.encode(r.text());
            if (t.length == 0) t = new int[]{tok.eosTokenId()};
            if (t.length > maxSeqLength) t = java.util.Arrays.copyOf(t, maxSeqLength);
            ids.add(t);
            labels[i] = label;
        }
        return new TextClassificationData(List.copyOf(ids), labels, List.copyOf(names));
    }

    public int size() {
        return labels.length;
    }

    /**
     * Rows {@code order[from..to)} right-padded with {@code padId} to the longest one; attention mask 0 at pads.
     * Note pooling happens before the first pad id, so a text that itself contains the pad id is cut there (as in
     * transformers).
     */
    public Batch batch(int[] order, int from, int to, int padId) {
        int B = to - from, T = 1;
        for (int i = from; i < to; i++) T = Math.max(T, ids.get(order[i]).length);
        int[] in = new int[B * T], mask = new int[B * T], lab = new int[B];
        java.util.Arrays.fill(in, padId);
        for (int b = 0; b < B; b++) {
            int[] t = ids.get(order[from + b]);
            System.arraycopy(t, 0, in, b * T, t.length);
            java.util.Arrays.fill(mask, b * T, b * T + t.length, 1);
            lab[b] = labels[order[from + b]];
        }
        return new Batch(in, mask, lab, null, B, T);
    }
}
