package io.gpt2j.train;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Token-classification (NER) data: word lists with one tag per word, read from JSONL ({@code {"tokens": [...],
 * "ner_tags": [...]}}) or CoNLL column files, aligned to BPE tokens as transformers' run_ner does (first sub-token
 * of a word gets its label, the others -100). Immutable after loading; tokenisation only, no model math.
 */
public record TokenClassificationData(List<Example> examples, List<String> labelNames) implements TrainingData {

    /** One raw sentence: its words, one tag per word (Integer index or String name), and where it came from. */
    public record Sentence(List<String> words, List<Object> tags, String where) {
    }

    /**
     * One encoded sentence: BPE ids, a label per id (-100 on non-first sub-tokens), the word index of every id, the
     * words kept after truncation and the gold label id of every word (truncated words included).
     */
    public record Example(int[] ids, int[] labels, int[] wordIds, int wordsKept, int[] wordLabels, String where) {
    }

    /** JSONL when the file ends in .jsonl/.json or its first non-blank line starts with '{'; CoNLL columns otherwise. */
    public static List<Sentence> read(Path file, String tokenKey, String tagKey) {
        List<String> lines = lines(file);
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        String first = lines.stream().map(String::strip).filter(s -> !s.isEmpty()).findFirst().orElse("");
        boolean jsonl = name.endsWith(".jsonl") || name.endsWith(".json") || first.startsWith("{");
        return jsonl ? parseJsonl(file, lines, tokenKey, tagKey) : parseConll(file, lines);
    }

    public static List<Sentence> readJsonl(Path file, String tokenKey, String tagKey) {
        return parseJsonl(file, lines(file), tokenKey, tagKey);
    }

    /**
     * CoNLL columns ({@code word POS chunk NER}, or just {@code word TAG}): the word is the first column and the tag the
     * last; blank lines end sentences; {@code -DOCSTART-} lines are skipped.
     */
    public static List<Sentence> readConll(Path file) {
        return parseConll(file, lines(file));
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<Sentence> parseJsonl(Path file, List<String> lines, String tokenKey, String tagKey) {
        List<Sentence> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            String where = file + ":" + (i + 1);
            Map<String, Object> o;
            try {
                o = Json.parseObject(line);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + ": not a JSON object: " + e.getMessage(), e);
            }
            if (!(o.get(tokenKey) instanceof List<?> words)) {
                throw new IllegalArgumentException(where + ": field '" + tokenKey + "' missing or not a list of words (found " + Json.typeName(o.get(tokenKey)) + ")");
            }
            if (!(o.get(tagKey) instanceof List<?> tags)) {
                throw new IllegalArgumentException(where + ": field '" + tagKey + "' missing or not a list of tags (found " + Json.typeName(o.get(tagKey)) + ")");
            }
            List<String> w = new ArrayList<>();
            for (Object x : words) {
                if (!(x instanceof String s)) throw new IllegalArgumentException(where + ": '" + tokenKey + "' holds a " + Json.typeName(x) + ", expected strings");
                w.add(s);
            }
            List<Object> t = new ArrayList<>();
            for (Object x : tags) {
                if (x instanceof Number n && n.doubleValue() == n.longValue()) t.add((int) n.longValue());
                else if (x instanceof String s) t.add(s);
                else throw new IllegalArgumentException(where + ": '" + tagKey + "' holds " + x + ", expected integer label ids or label names");
            }
            out.add(sentence(w, t, where, tokenKey, tagKey));
        }
        if (out.isEmpty()) throw new IllegalArgumentException(file + ": no sentences (the file is empty)");
        return out;
    }

    private static List<Sentence> parseConll(Path file, List<String> lines) {
        List<Sentence> out = new ArrayList<>();
        List<String> w = new ArrayList<>();
        List<Object> t = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= lines.size(); i++) {
            String line = i < lines.size() ? lines.get(i).strip() : "";
            if (line.isEmpty()) {
                if (!w.isEmpty()) out.add(sentence(w, t, file + ":" + start, "word", "tag"));
                w = new ArrayList<>();
                t = new ArrayList<>();
                continue;
            }
            String[] cols = line.split("\\s+");
            if (cols[0].equals("-DOCSTART-")) continue;
            if (cols.length < 2) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": expected 'word ... tag' columns, found '" + line + "'");
            }
            if (w.isEmpty()) start = i + 1;
            w.add(cols[0]);
            t.add(cols[cols.length - 1]);
        }
        if (out.isEmpty()) throw new IllegalArgumentException(file + ": no sentences (the file is empty or only -DOCSTART- lines)");
        return out;
    }

    private static Sentence sentence(List<String> words, List<Object> tags, String where, String tokenKey, String tagKey) {
        if (words.size() != tags.size()) {
            throw new IllegalArgumentException(where + ": " + words.size() + " words in '" + tokenKey + "' but " + tags.size() + " tags in '" + tagKey + "'");
        }
        if (words.isEmpty()) throw new IllegalArgumentException(where + ": empty sentence (no words)");
        return new Sentence(List.copyOf(words), List.copyOf(tags), where);
    }

    /** One label name per non-blank line; the line index is the label id. */
    public static List<String> readLabels(Path file) {
        List<String> names = lines(file).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (names.isEmpty()) throw new IllegalArgumentException(file + ": no label names (the file is empty)");
        if (new TreeSet<>(names).size() != names.size()) throw new IllegalArgumentException(file + ": duplicate label names in " + names);
        return names;
    }

    /**
     * Label names: given names win; otherwise string tags sorted (as run_ner's get_label_list) or, for integer tags,
     * LABEL_0..LABEL_max (transformers' default names).
     */
    public static List<String> labelNames(List<Sentence> sentences, List<String> given) {
        if (given != null && !given.isEmpty()) return List.copyOf(given);
        boolean allInts = sentences.stream().allMatch(s -> s.tags().stream().allMatch(t -> t instanceof Integer));
        if (allInts) {
            int max = sentences.stream().flatMap(s -> s.tags().stream()).mapToInt(t -> (Integer) t).max().orElse(0);
            List<String> names = new ArrayList<>();
            for (int i = 0; i <= max; i++) names.add("LABEL_" + i);
            return names;
        }
        TreeSet<String> set = new TreeSet<>();
        for (Sentence s : sentences) for (Object t : s.tags()) set.add(String.valueOf(t));
        return List.copyOf(set);
    }

    /**
     * Encodes every word as {@code " " + word} (GPT-2's tokenizer with add_prefix_space=True on pre-split words),
     * labels the first sub-token of each word, truncates to maxSeqLength tokens.
     */
    public static TokenClassificationData encode(List<Sentence> sentences, List<String> names, Gpt2Tokenizer tok, int maxSeqLength) {
        if (maxSeqLength < 1) throw new IllegalArgumentException("max_seq_length must be >= 1, got " + maxSeqLength);
        Map<String, Integer> index = new java.util.HashMap<>();
        for (int i = 0; i < names.size(); i++) index.put(names.get(i), i);
        List<Example> out = new ArrayList<>(sentences.size());
        for (Sentence s : sentences) {
            int nw = s.words().size();
            int[] wordLabels = new int[nw];
            for (int w = 0; w < nw; w++) wordLabels[w] = labelId(s.tags().get(w), index, names, s.where(), w);
            int[] ids = new int[16], labels = new int[16], wordIds = new int[16];
            int n = 0, kept = 0;
            for (int w = 0; w < nw && n < maxSeqLength; w++) {
                int[] sub = tok.encode(" " + s.words().get(w));
                for (int j = 0; j < sub.length && n < maxSeqLength; j++) {
                    if (n == ids.length) {
                        ids = Arrays.copyOf(ids, 2 * n);
                        labels = Arrays.copyOf(labels, 2 * n);
                        wordIds = Arrays.copyOf(wordIds, 2 * n);
                    }
                    ids[n] = sub[j];
                    labels[n] = j == 0 ? wordLabels[w] : Batch.IGNORE_INDEX;
                    wordIds[n] = w;
                    n++;
                }
                if (sub.length > 0) kept = w + 1;
            }
            if (n == 0) throw new IllegalArgumentException(s.where() + ": the words encode to no tokens");
            out.add(new Example(Arrays.copyOf(ids, n), Arrays.copyOf(labels, n), Arrays.copyOf(wordIds, n), kept, wordLabels, s.where()));
        }
        return new TokenClassificationData(List.copyOf(out), List.copyOf(names));
    }

    private static int labelId(Object tag, Map<String, Integer> index, List<String> names, String where, int word) {
        if (tag instanceof Integer i) {
            if (i < 0 || i >= names.size()) {
                throw new IllegalArgumentException(where + ": word " + (word + 1) + ": label id " + i + " is out of range for " + names.size() + " labels " + names);
            }
            return i;
        }
        Integer id = index.get((String) tag);
        if (id == null) throw new IllegalArgumentException(where + ": word " + (word + 1) + ": unknown label '" + tag + "'; known labels: " + names);
        return id;
    }

    public int size() {
        return examples.size();
    }

    /** Total BPE tokens over all examples. */
    public long tokens() {
        long t = 0;
        for (Example e : examples) t += e.ids().length;
        return t;
    }

    /** Examples {@code order[from..to)} right-padded with {@code padId}, labels -100 and attention mask 0 at pads. */
    public Batch batch(int[] order, int from, int to, int padId) {
        int B = to - from, T = 1;
        for (int i = from; i < to; i++) T = Math.max(T, examples.get(order[i]).ids().length);
        int[] in = new int[B * T], mask = new int[B * T], lab = new int[B * T];
        Arrays.fill(in, padId);
        Arrays.fill(lab, Batch.IGNORE_INDEX);
        for (int b = 0; b < B; b++) {
            Example e = examples.get(order[from + b]);
            System.arraycopy(e.ids(), 0, in, b * T, e.ids().length);
            System.arraycopy(e.labels(), 0, lab, b * T, e.labels().length);
            Arrays.fill(mask, b * T, b * T + e.ids().length, 1);
        }
        return new Batch(in, mask, lab, null, B, T);
    }
}
