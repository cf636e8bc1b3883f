package io.gpt2j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading JSONL / CoNLL NER data and aligning word tags to GPT-2 BPE tokens as transformers' run_ner does. */
class TokenClassificationDataTest {
    static Gpt2Tokenizer tok;

    @BeforeAll
    static void tokenizer() {
        tok = Gpt2Tokenizer.fromDirectory(TrainGolden.checkpoint("tiny-gpt2"));
    }

    static Path resource(String name) throws Exception {
        return Path.of(TokenClassificationDataTest.class.getResource("/ner/" + name).toURI());
    }

    @Test
    void conllTakesFirstAndLastColumnSplitsOnBlankLinesAndSkipsDocstart() throws Exception {
        var s = TokenClassificationData.read(resource("iob1.conll"), "tokens", "ner_tags");
        assertEquals(3, s.size());
        assertEquals(List.of("Anna", "Lindqvist", "visited", "Oslo", "for", "Nordbank", "."), s.get(0).words());
        assertEquals(List.of("I-PER", "I-PER", "O", "I-LOC", "O", "I-ORG", "O"), s.get(0).tags());
        assertEquals(List.of("I-LOC", "B-LOC", "O"), s.get(1).tags().subList(5, 8));
        assertEquals(List.of("UNBELIEVABLE", "Kowalczyk-Smith", "wins"), s.get(2).words());
        assertTrue(s.get(1).where().endsWith("iob1.conll:11"), s.get(1).where());
        // labels from the data: sorted, as run_ner's get_label_list
        assertEquals(List.of("B-LOC", "I-LOC", "I-ORG", "I-PER", "O"), TokenClassificationData.labelNames(s, null));
    }

    @Test
    void jsonlWithIntegerTagsUsesTheLabelsFile() throws Exception {
        var s = TokenClassificationData.read(resource("train.jsonl"), "tokens", "ner_tags");
        assertEquals(3, s.size(), "blank lines are skipped");
        List<String> names = TokenClassificationData.readLabels(resource("labels.txt"));
        assertEquals(9, names.size());
        var d = TokenClassificationData.encode(s, TokenClassificationData.labelNames(s, names), tok, 64);
        assertArrayEquals(new int[]{0, 7, 8, 0}, d.examples().get(2).wordLabels());
        assertEquals(names, d.labelNames());
        // without names: LABEL_0..LABEL_max
        assertEquals(List.of("LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3", "LABEL_4", "LABEL_5", "LABEL_6", "LABEL_7", "LABEL_8"),
                TokenClassificationData.labelNames(s, List.of()));
    }

    @Test
    void jsonlWithStringTagsAndOtherKeys() throws Exception {
        var s = TokenClassificationData.readJsonl(resource("string-tags.jsonl"), "words", "tags");
        List<String> names = TokenClassificationData.labelNames(s, null);
        assertEquals(List.of("B-MISC", "B-ORG", "B-PER", "I-MISC", "O"), names);
        var d = TokenClassificationData.encode(s, names, tok, 64);
        assertArrayEquals(new int[]{2, 4, 1, 4}, d.examples().get(0).wordLabels());
    }

    /** First sub-token of every word carries its label, the rest -100; ids equal the tokenisation of " w1 w2 ...". */
    @Test
    void firstSubTokenGetsTheLabelTheRestAreIgnored() throws Exception {
        var s = TokenClassificationData.readConll(resource("iob1.conll"));
        List<String> names = TokenClassificationData.labelNames(s, null);
        var d = TokenClassificationData.encode(s, names, tok, 512);
        for (int k = 0; k < s.size(); k++) {
            var sent = s.get(k);
            var e = d.examples().get(k);
            // GPT-2's pre-tokenizer splits at a space before letters/digits/punctuation runs, so with words free of
            // whitespace the per-word encoding with a prefix space equals encoding the space-joined sentence
            assertArrayEquals(tok.encode(" " + String.join(" ", sent.words())), e.ids(), sent.where());
            List<Integer> expectLabels = new ArrayList<>(), expectWords = new ArrayList<>();
            for (int w = 0; w < sent.words().size(); w++) {
                int[] sub = tok.encode(" " + sent.words().get(w));
                for (int j = 0; j < sub.length; j++) {
                    expectLabels.add(j == 0 ? names.indexOf((String) sent.tags().get(w)) : -100);
                    expectWords.add(w);
                }
            }
            assertArrayEquals(expectLabels.stream().mapToInt(i -> i).toArray(), e.labels());
            assertArrayEquals(expectWords.stream().mapToInt(i -> i).toArray(), e.wordIds());
            assertEquals(sent.words().size(), e.wordsKept());
        }
        // a word that BPE splits: " Kowalczyk-Smith" is several tokens, only the first labelled
        var e = d.examples().get(2);
        int first = 0;
        while (e.wordIds()[first] != 1) first++;
        int count = 0;
        for (int w : e.wordIds()) if (w == 1) count++;
        assertTrue(count > 2, "expected a multi-token word, got " + count);
        assertEquals(names.indexOf("I-PER"), e.labels()[first]);
        for (int j = first + 1; j < first + count; j++) assertEquals(-100, e.labels()[j]);
    }

    @Test
    void truncatesToMaxSeqLengthAndPadsBatches() throws Exception {
        var s = TokenClassificationData.readConll(resource("iob1.conll"));
        var names = TokenClassificationData.labelNames(s, null);
        var full = TokenClassificationData.encode(s, names, tok, 512);
        var cut = TokenClassificationData.encode(s, names, tok, 3);
        for (int k = 0; k < s.size(); k++) {
            var f = full.examples().get(k);
            var c = cut.examples().get(k);
            int n = Math.min(3, f.ids().length);
            assertArrayEquals(java.util.Arrays.copyOf(f.ids(), n), c.ids());
            assertArrayEquals(java.util.Arrays.copyOf(f.labels(), n), c.labels());
            assertEquals(c.wordIds()[n - 1] + 1, c.wordsKept());
            assertEquals(s.get(k).words().size(), c.wordLabels().length, "gold word labels stay complete");
        }
        Batch b = full.batch(new int[]{2, 0}, 0, 2, 50256);
        int t2 = full.examples().get(2).ids().length, t0 = full.examples().get(0).ids().length;
        assertEquals(Math.max(t2, t0), b.T());
        int row = t2 < t0 ? 0 : 1, len = Math.min(t2, t0);
        for (int t = len; t < b.T(); t++) {
            assertEquals(50256, b.inputIds()[row * b.T() + t]);
            assertEquals(-100, b.labels()[row * b.T() + t]);
            assertEquals(0, b.attentionMask()[row * b.T() + t]);
        }
        assertEquals(1, b.attentionMask()[row * b.T() + len - 1]);
    }

    static String error(Runnable r) {
        String m = assertThrows(IllegalArgumentException.class, r::run).getMessage();
        System.out.println("[tokcls-data] " + m);
        return m;
    }

    @Test
    void badInputNamesFileLineAndProblem(@TempDir Path dir) throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.jsonl"), "\n\n");
        assertTrue(error(() -> TokenClassificationData.read(empty, "tokens", "ner_tags")).contains("empty.jsonl: no sentences"));
        Path emptyConll = Files.writeString(dir.resolve("empty.txt"), "-DOCSTART- -X- O O\n\n");
        assertTrue(error(() -> TokenClassificationData.read(emptyConll, "tokens", "ner_tags")).contains("no sentences"));

        Path mismatch = Files.writeString(dir.resolve("m.jsonl"), "{\"tokens\": [\"a\"], \"ner_tags\": [0]}\n{\"tokens\": [\"a\", \"b\"], \"ner_tags\": [0]}\n");
        String m = error(() -> TokenClassificationData.read(mismatch, "tokens", "ner_tags"));
        assertTrue(m.contains("m.jsonl:2") && m.contains("2 words") && m.contains("1 tags"), m);

        Path missing = Files.writeString(dir.resolve("k.jsonl"), "{\"tokens\": [\"a\"], \"tags\": [0]}\n");
        assertTrue(error(() -> TokenClassificationData.read(missing, "tokens", "ner_tags")).contains("k.jsonl:1: field 'ner_tags' missing"));

        Path notJson = Files.writeString(dir.resolve("n.jsonl"), "{\"tokens\": [\"a\"], \"ner_tags\": [0]}\n{oops\n");
        assertTrue(error(() -> TokenClassificationData.read(notJson, "tokens", "ner_tags")).contains("n.jsonl:2: not a JSON object"));

        Path oneCol = Files.writeString(dir.resolve("c.conll"), "EU B-ORG\nrejects\n");
        assertTrue(error(() -> TokenClassificationData.read(oneCol, "tokens", "ner_tags")).contains("c.conll:2: expected 'word ... tag' columns"));

        Path unknown = Files.writeString(dir.resolve("u.conll"), "EU B-ORG\n\nBonn B-LOCATION\n");
        var sent = TokenClassificationData.read(unknown, "tokens", "ner_tags");
        String u = error(() -> TokenClassificationData.encode(sent, List.of("O", "B-ORG", "B-LOC"), tok, 16));
        assertTrue(u.contains("u.conll:3") && u.contains("unknown label 'B-LOCATION'"), u);

        Path range = Files.writeString(dir.resolve("r.jsonl"), "{\"tokens\": [\"a\", \"b\"], \"ner_tags\": [0, 9]}\n");
        var rs = TokenClassificationData.read(range, "tokens", "ner_tags");
        String r = error(() -> TokenClassificationData.encode(rs, List.of("O", "B-PER"), tok, 16));
        assertTrue(r.contains("r.jsonl:1") && r.contains("label id 9 is out of range for 2 labels"), r);

        Path emptyLabels = Files.writeString(dir.resolve("labels.txt"), "\n");
        assertTrue(error(() -> TokenClassificationData.readLabels(emptyLabels)).contains("no label names"));
        Path dup = Files.writeString(dir.resolve("dup.txt"), "O\nB-PER\nO\n");
        assertTrue(error(() -> TokenClassificationData.readLabels(dup)).contains("duplicate label names"));
    }
}
