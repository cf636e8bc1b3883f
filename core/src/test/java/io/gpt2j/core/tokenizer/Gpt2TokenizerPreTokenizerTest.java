package io.gpt2j.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hand-written scanner against Python's regex module (fixture made by gen_pretokenize_fuzz.py). */
class Gpt2TokenizerPreTokenizerTest {

    static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < s.length(); ) {
            int j = PreTokenizer.next(s, i, s.length());
            out.add(s.substring(i, j));
            i = j;
        }
        return out;
    }

    @Test
    void agreesWithPythonRegexOnTwoThousandRandomStrings() throws IOException {
        List<String> failures = new ArrayList<>();
        int n = 0;
        try (InputStream in = getClass().getResourceAsStream("/tokenizer/pretokenize_fuzz.jsonl")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                JsonNode k = TokenizerTestData.JSON.readTree(line);
                String text = k.get("text").asText();
                List<String> want = new ArrayList<>();
                for (JsonNode p : k.get("pieces")) want.add(text.substring(p.get(0).asInt(), p.get(1).asInt()));
                List<String> got = split(text);
                if (!want.equals(got)) failures.add(TokenizerTestData.show(text) + ": " + got.size() + " pieces, want " + want.size());
                n++;
            }
        }
        System.out.printf("pre-tokenizer fuzz: %d strings, %d failures%n", n, failures.size());
        assertEquals(2000, n);
        assertTrue(failures.isEmpty(), String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
    }

    @Test
    void knownSplits() {
        // every expectation here was checked with Python regex.findall
        assertEquals(List.of("Hello", ",", " world", "!"), split("Hello, world!"));
        assertEquals(List.of("I", "'m", " can", "'t", " we", "'ll", " it", "'", "S", " '", "re"), split("I'm can't we'll it'S 're")); // contractions are case-sensitive
        assertEquals(List.of("a", "  ", " b", " ", "\n", "c", "  "), split("a   b \nc  "));
        assertEquals(List.of("x", "\u00a0", "y", "\u3000", "z"), split("x\u00a0y\u3000z"));
        assertEquals(List.of("\t\t\t"), split("\t\t\t"));
        assertEquals(List.of("\t\t", "\t", "x"), split("\t\t\tx"));
        assertEquals(List.of(" 123", " abc", " ?!'", "s"), split(" 123 abc ?!'s"));
        assertEquals(List.of("\u001c", "x"), split("\u001cx")); // U+001C is not White_Space for Python's regex
        assertEquals(List.of("\uD835\uDC00\uD835\uDC1A", " \uD83D\uDE00"), split("\uD835\uDC00\uD835\uDC1A \uD83D\uDE00"));
    }

    @Test
    void characterClassesFollowPythonNotJavaWhitespace() {
        assertEquals(PreTokenizer.SPACE, PreTokenizer.classOf(0xA0));   // Java: !isWhitespace
        assertEquals(PreTokenizer.SPACE, PreTokenizer.classOf(0x85));
        assertEquals(PreTokenizer.OTHER, PreTokenizer.classOf(0x1F));   // Java: isWhitespace
        assertEquals(PreTokenizer.OTHER, PreTokenizer.classOf(0x200B)); // zero width space is Cf
        assertEquals(PreTokenizer.OTHER, PreTokenizer.classOf(0x180E)); // no longer White_Space since Unicode 6.3
        assertEquals(PreTokenizer.NUMBER, PreTokenizer.classOf(0x2160)); // Nl
        assertEquals(PreTokenizer.NUMBER, PreTokenizer.classOf(0xB2));   // No
        assertEquals(PreTokenizer.LETTER, PreTokenizer.classOf(0x10940)); // Unicode 17 letter, unassigned in Java 25
        assertEquals(PreTokenizer.NUMBER, PreTokenizer.classOf(0x11DE0)); // Unicode 17 digit
        assertEquals(PreTokenizer.OTHER, PreTokenizer.classOf(0x0301)); // combining mark (Mn)
    }
}
