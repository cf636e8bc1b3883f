package io.gpt2j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.gpt2j.core.model.ClassificationHead.Kind;
import io.gpt2j.core.model.ClassificationHead.Problem;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Word splitting, first-sub-token alignment and IOB1/IOB2 grouping into entity spans. */
class TaggingTest {
    static List<Tagging.WordTag> tags(String text, String... labels) {
        List<Tagging.Word> words = Tagging.words(text);
        assertEquals(labels.length, words.size(), words.toString());
        List<Tagging.WordTag> out = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) out.add(new Tagging.WordTag(words.get(i), labels[i], 0.5f + 0.1f * (i % 3)));
        return out;
    }

    @Test
    void wordsAreConllLike() {
        List<Tagging.Word> w = Tagging.words("Anna's trip to Oslo, on 1999-04-12 (U.S-style).");
        assertEquals(List.of("Anna's", "trip", "to", "Oslo", ",", "on", "1999-04-12", "(", "U.S-style", ")", "."),
                w.stream().map(Tagging.Word::text).toList());
        assertEquals(15, w.get(3).start());
        assertEquals(19, w.get(3).end());
    }

    @Test
    void iob2AndIob1GiveTheSameSpans() {
        String text = "Anna Lindqvist visited New York and Oslo .";
        var iob2 = Tagging.entities(text, tags(text, "B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "B-LOC", "O"));
        var iob1 = Tagging.entities(text, tags(text, "I-PER", "I-PER", "O", "I-LOC", "I-LOC", "O", "I-LOC", "O"));
        assertEquals(iob2, iob1);
        assertEquals(List.of("PER:Anna Lindqvist:0:14", "LOC:New York:23:31", "LOC:Oslo:36:40"),
                iob2.stream().map(e -> e.type() + ":" + e.text() + ":" + e.start() + ":" + e.end()).toList());
        assertEquals((0.5f + 0.6f) / 2, iob2.get(0).score(), 1e-6f, "mean of the words' scores");
    }

    @Test
    void bTagsSplitAdjacentEntitiesAndTypeChangesEndThem() {
        String text = "Paris London Berlin Inc";
        var e = Tagging.entities(text, tags(text, "I-LOC", "B-LOC", "I-LOC", "I-ORG"));
        assertEquals(List.of("LOC:Paris", "LOC:London Berlin", "ORG:Inc"), e.stream().map(x -> x.type() + ":" + x.text()).toList());
        var plain = Tagging.entities(text, tags(text, "LOC", "LOC", "O", "PER"));
        assertEquals(List.of("LOC:Paris London", "PER:Inc"), plain.stream().map(x -> x.type() + ":" + x.text()).toList());
    }

    @Test
    void firstSubTokenCarriesTheWordAndTruncationDropsWords() {
        List<Tagging.Word> words = Tagging.joined(List.of("ab", "c", "def"));
        // fake encoder: one id per character of the word (the leading space included)
        Tagging.Encoded enc = Tagging.encode(words, s -> s.chars().toArray(), 6);
        assertArrayEquals(new int[]{' ', 'a', 'b', ' ', 'c', ' '}, enc.ids());
        assertArrayEquals(new int[]{0, 3, 5}, enc.firstToken());
        assertEquals(3, enc.wordsKept());
        ClassificationHead head = new ClassificationHead(Kind.TOKEN_CLASSIFICATION, Problem.SINGLE_LABEL, new float[4], new float[2],
                List.of("O", "B-X"), -1);
        float[] logits = {0, 5, 9, 0, 9, 0, 0, 5, 0, 0, 1, 0}; // 6 tokens x 2 labels
        var wt = Tagging.wordTags(words, enc, logits, head);
        assertEquals(List.of("B-X", "B-X", "O"), wt.stream().map(Tagging.WordTag::label).toList());
        Tagging.Encoded cut = Tagging.encode(words, s -> s.chars().toArray(), 3);
        assertArrayEquals(new int[]{0, -1, -1}, cut.firstToken());
        assertNull(Tagging.wordTags(words, cut, logits, head).get(1));
    }
}
