package io.gpt2j.core.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Texts in, labelled predictions out, for the CLI, the server and evaluation: tokenises (through the given
 * encoder), truncates to the context window, runs a {@link Classifier} in batches and names the labels. A caller that
 * schedules the forward passes itself (the server) passes its own {@link Logits} in place of the classifier's.
 */
public final class Predictions {
    private Predictions() {
    }

    /**
     * One text's sequence-classification result. {@code label} is the arg-max label (for regression the single
     * label's name, with the raw value as its score); {@code labels} are the labels with score ≥ 0.5 for multi-label
     * heads (otherwise just {@code label}).
     */
    public record Prediction(String label, int labelId, List<String> labels, float[] scores, float[] logits, int tokens, boolean truncated) {
    }

    /** Token ids of texts in, {@link Classifier#logits} out (same order, same shapes). */
    @FunctionalInterface
    public interface Logits {
        List<float[]> of(List<int[]> texts);
    }

    /** One text's token-classification result: each word's tag (null when truncated away) and the entities. */
    public record Tagged(List<Tagging.Word> words, List<Tagging.WordTag> tags, List<Tagging.Entity> entities, int tokens, boolean truncated) {
    }

    /**
     * Texts to token ids: {@code encode(text)}, an empty text becomes [eos] (as fine-tuning does), cut to n_positions;
     * {@code truncated[i]} (when not null) tells whether text i was cut.
     */
    public static List<int[]> encode(Classifier c, List<String> texts, Function<String, int[]> encode, boolean[] truncated) {
        int max = c.model().config().nPositions(), eos = c.model().config().eosTokenId();
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            int[] ids = encode.apply(texts.get(i));
            if (ids.length == 0) {
                if (eos < 0) throw new IllegalArgumentException("text " + i + " is empty and the model has no eos token to stand in for it");
                ids = new int[]{eos};
            }
            if (truncated != null) truncated[i] = ids.length > max;
            out.add(ids.length > max ? java.util.Arrays.copyOf(ids, max) : ids);
        }
        return out;
    }

    public static List<Prediction> classify(Classifier c, List<String> texts, Function<String, int[]> encode) {
        return classify(c, texts, encode, c::logits);
    }

    /** {@link #classify(Classifier, List, Function)} with the logits computed by {@code logits}. */
    public static List<Prediction> classify(Classifier c, List<String> texts, Function<String, int[]> encode, Logits logits) {
        ClassificationHead h = c.head();
        if (h.kind() != ClassificationHead.Kind.SEQUENCE_CLASSIFICATION) {
            throw new IllegalArgumentException("the model is a " + h.kind().architecture() + ": it tags tokens, it does not classify texts");
        }
        boolean[] cut = new boolean[texts.size()];
        List<int[]> ids = encode(c, texts, encode, cut);
        List<float[]> all = logits.of(ids);
        List<Prediction> out = new ArrayList<>();
        int k = h.numLabels();
        for (int i = 0; i < texts.size(); i++) {
            float[] l = all.get(i), s = h.scores(l, 0);
            int best = ClassificationHead.argmax(s, 0, k);
            List<String> labels = new ArrayList<>();
            if (h.problem() == ClassificationHead.Problem.MULTI_LABEL) {
                for (int j = 0; j < k; j++) if (s[j] >= 0.5f) labels.add(h.labels().get(j));
            } else {
                labels.add(h.labels().get(best));
            }
            out.add(new Prediction(h.labels().get(best), best, List.copyOf(labels), s, l, ids.get(i).length, cut[i]));
        }
        return out;
    }

    /** Raw texts: split into words ({@link Tagging#words}), tagged, grouped into entities. */
    public static List<Tagged> tag(Classifier c, List<String> texts, Function<String, int[]> encode) {
        return tag(c, texts, encode, c::logits);
    }

    /** {@link #tag(Classifier, List, Function)} with the logits computed by {@code logits}. */
    public static List<Tagged> tag(Classifier c, List<String> texts, Function<String, int[]> encode, Logits logits) {
        List<List<Tagging.Word>> words = new ArrayList<>();
        for (String t : texts) words.add(Tagging.words(t));
        return tagWords(c, texts, words, encode, c.model().config().nPositions(), logits);
    }

    /**
     * Pre-split words (e.g. CoNLL sentences); {@code texts.get(i)} is the text the word offsets point into. Words past
     * {@code maxTokens} BPE ids are not tagged (their tag is null), as run_ner drops truncated words.
     */
    public static List<Tagged> tagWords(Classifier c, List<String> texts, List<List<Tagging.Word>> words,
                                        Function<String, int[]> encode, int maxTokens) {
        return tagWords(c, texts, words, encode, maxTokens, c::logits);
    }

    private static List<Tagged> tagWords(Classifier c, List<String> texts, List<List<Tagging.Word>> words,
                                         Function<String, int[]> encode, int maxTokens, Logits logitsOf) {
        ClassificationHead h = c.head();
        if (h.kind() != ClassificationHead.Kind.TOKEN_CLASSIFICATION) {
            throw new IllegalArgumentException("the model is a " + h.kind().architecture() + ": it classifies whole texts, it does not tag tokens");
        }
        int max = Math.min(maxTokens, c.model().config().nPositions());
        List<Tagging.Encoded> enc = new ArrayList<>();
        List<int[]> ids = new ArrayList<>();
        List<Integer> nonEmpty = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            Tagging.Encoded e = Tagging.encode(words.get(i), encode, max);
            enc.add(e);
            if (e.ids().length > 0) {
                ids.add(e.ids());
                nonEmpty.add(i);
            }
        }
        List<float[]> logits = logitsOf.of(ids);
        float[][] byText = new float[words.size()][];
        for (int j = 0; j < nonEmpty.size(); j++) byText[nonEmpty.get(j)] = logits.get(j);
        List<Tagged> out = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            Tagging.Encoded e = enc.get(i);
            List<Tagging.WordTag> tags = byText[i] == null ? java.util.Collections.nCopies(words.get(i).size(), null)
                    : Tagging.wordTags(words.get(i), e, byText[i], h);
            boolean cut = false;
            for (Tagging.WordTag t : tags) cut |= t == null;
            out.add(new Tagged(words.get(i), tags, Tagging.entities(texts.get(i), tags), e.ids().length, cut && e.wordsKept() < words.get(i).size()));
        }
        return out;
    }
}
