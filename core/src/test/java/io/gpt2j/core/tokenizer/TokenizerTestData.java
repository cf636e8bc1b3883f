package io.gpt2j.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Locates the committed test data and loads the tokenizers once per JVM (tests only). */
final class TokenizerTestData {
    static final ObjectMapper JSON = new ObjectMapper();
    private static Gpt2Tokenizer gpt2, tiny, v1000;

    private TokenizerTestData() {
    }

    static Path root() {
        String p = System.getProperty("gpt2j.testdata");
        if (p == null) throw new IllegalStateException("system property gpt2j.testdata is not set (surefire sets it)");
        return Path.of(p);
    }

    static synchronized Gpt2Tokenizer gpt2() {
        if (gpt2 == null) gpt2 = Gpt2Tokenizer.fromDirectory(root().resolve("golden/gpt2-tokenizer"));
        return gpt2;
    }

    static synchronized Gpt2Tokenizer tinyGpt2() {
        if (tiny == null) tiny = Gpt2Tokenizer.fromDirectory(root().resolve("golden/checkpoints/tiny-gpt2"));
        return tiny;
    }

    static synchronized Gpt2Tokenizer v1000() {
        if (v1000 == null) v1000 = Gpt2Tokenizer.fromDirectory(root().resolve("golden/checkpoints/tiny-gpt2-v1000"));
        return v1000;
    }

    static List<JsonNode> jsonl(Path file) {
        try {
            List<JsonNode> out = new ArrayList<>();
            for (String line : Files.readAllLines(file)) if (!line.isBlank()) out.add(JSON.readTree(line));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode arr) {
        int[] r = new int[arr.size()];
        for (int i = 0; i < r.length; i++) r[i] = arr.get(i).asInt();
        return r;
    }

    static String[] strings(JsonNode arr) {
        String[] r = new String[arr.size()];
        for (int i = 0; i < r.length; i++) r[i] = arr.get(i).asText();
        return r;
    }

    /** A short, escaped preview of a test string for failure messages. */
    static String show(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().limit(60).forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7F) sb.append((char) cp);
            else sb.append(String.format("\\u{%X}", cp));
        });
        if (s.length() > 60) sb.append("...(").append(s.length()).append(" chars)");
        return sb.toString();
    }
}
