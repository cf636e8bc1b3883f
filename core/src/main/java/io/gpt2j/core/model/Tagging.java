package io.gpt2j.core.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Token classification from words to entities: splits raw text into words, encodes words as the fine-tuning data
 * does ({@code " " + word}, first sub-token labelled), reads each word's prediction from its first sub-token, and
 * groups IOB1/IOB2 tags into entity spans with character offsets. No model math; {@link Classifier} gives logits.
 */
public final class Tagging {
    /** Letters/digits runs (joined by inner - ' ’ . &), or one other non-space character: CoNLL-like words. */
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{M}\\p{N}]+(?:[-'’.&][\\p{L}\\p{M}\\p{N}]+)*|[^\\s\\p{L}\\p{M}\\p{N}]");

    /** A word of the input and its character offsets [start, end). */
    public record Word(String text, int start, int end) {
    }

    /** Words encoded to BPE ids; {@code firstToken[w]} is the index of word w's first id, -1 when truncated away. */
    public record Encoded(int[] ids, int[] firstToken, int wordsKept) {
    }

    /** A word's predicted label (from its first sub-token) and that label's probability. */
    public record WordTag(Word word, String label, float score) {
    }

    /** An entity: its type, the covered text and offsets, the mean of its words' scores, and its word range. */
    public record Entity(String type, String text, int start, int end, float score, int firstWord, int lastWord) {
    }

    private Tagging() {
    }

    /** Splits raw text into CoNLL-like words: "Oslo." is "Oslo" and ".", "1999-04-12" and "don't" stay whole. */
    public static List<Word> words(String text) {
        List<Word> out = new ArrayList<>();
        Matcher m = WORD.matcher(text);
        while (m.find()) out.add(new Word(m.group(), m.start(), m.end()));
        return out;
    }

    /** Words already split (e.g. a CoNLL sentence), with offsets as if joined by single spaces. */
    public static List<Word> joined(List<String> words) {
        List<Word> out = new ArrayList<>();
        int pos = 0;
        for (String w : words) {
            out.add(new Word(w, pos, pos + w.length()));
            pos += w.length() + 1;
        }
        return out;
    }

    /** Encodes each word as {@code encode(" " + word)}, keeping at most {@code maxTokens} ids (whole or cut words). */
    public static Encoded encode(List<Word> words, Function<String, int[]> encode, int maxTokens) {
        int[] ids = new int[16];
        int[] first = new int[words.size()];
        Arrays.fill(first, -1);
        int n = 0, kept = 0;
        for (int w = 0; w < words.size() && n < maxTokens; w++) {
            int[] sub = encode.apply(" " + words.get(w).text());
            if (sub.length == 0) continue;
            first[w] = n;
            kept = w + 1;
            for (int j = 0; j < sub.length && n < maxTokens; j++) {
                if (n == ids.length) ids = Arrays.copyOf(ids, 2 * n);
                ids[n++] = sub[j];
            }
        }
        return new Encoded(Arrays.copyOf(ids, n), first, kept);
    }

    /** Each word's prediction from the logits (T × K) of its first sub-token; truncated words get none (null). */
    public static List<WordTag> wordTags(List<Word> words, Encoded enc, float[] logits, ClassificationHead head) {
        int k = head.numLabels();
        List<WordTag> out = new ArrayList<>();
        for (int w = 0; w < words.size(); w++) {
            int t = enc.firstToken()[w];
            if (t < 0) {
                out.add(null);
                continue;
            }
            float[] p = head.scores(logits, t * k);
            int best = ClassificationHead.argmax(p, 0, k);
            out.add(new WordTag(words.get(w), head.labels().get(best), p[best]));
        }
        return out;
    }

    /**
     * Groups word tags into entities, conlleval-style so that IOB1 and IOB2 both work: an entity starts at B-X, or at
     * I-X after O or another type, and ends before O, B-, or a change of type. A tag without a B-/I- prefix (e.g.
     * PER) is treated as I-PER; O and missing (truncated) words are outside. {@code text} gives the entity's text.
     */
    public static List<Entity> entities(String text, List<WordTag> tags) {
        List<Entity> out = new ArrayList<>();
        String type = null;
        int start = -1;
        for (int i = 0; i <= tags.size(); i++) {
            WordTag wt = i < tags.size() ? tags.get(i) : null;
            String tag = wt == null ? "O" : wt.label();
            boolean outside = tag.equals("O");
            boolean begin = tag.length() > 2 && tag.startsWith("B-");
            String t = outside ? null : tag.length() > 2 && (begin || tag.startsWith("I-")) ? tag.substring(2) : tag;
            boolean continues = !outside && !begin && type != null && type.equals(t);
            if (type != null && !continues) {
                out.add(entity(text, tags, type, start, i - 1));
                type = null;
            }
            if (!outside && !continues) {
                type = t;
                start = i;
            }
        }
        return out;
    }

    private static Entity entity(String text, List<WordTag> tags, String type, int first, int last) {
        double s = 0;
        for (int i = first; i <= last; i++) s += tags.get(i).score();
        int start = tags.get(first).word().start(), end = tags.get(last).word().end();
        return new Entity(type, text.substring(start, end), start, end, (float) (s / (last - first + 1)), first, last);
    }
}
