package io.gpt2j.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Public GPT-2 / r50k_base vectors (llama.cpp, JTokkit, tiktoken) and our derived wikitext set. */
class Gpt2TokenizerVectorsTest {
    private static final Path DIR = TokenizerTestData.root().resolve("tokenizer-vectors");

    @Test
    void llamaCpp() throws IOException {
        String inp = Files.readString(DIR.resolve("llama.cpp/ggml-vocab-gpt-2.gguf.inp"), StandardCharsets.UTF_8);
        String[] inputs = inp.split("\n__ggml_vocab_test__\n", -1);
        List<String> outs = Files.readAllLines(DIR.resolve("llama.cpp/ggml-vocab-gpt-2.gguf.out"));
        assertEquals(47, inputs.length, "46 inputs plus the empty trailing piece");
        assertEquals("", inputs[46]);
        List<String> texts = new ArrayList<>();
        List<int[]> ids = new ArrayList<>();
        for (int i = 0; i < 46; i++) {
            texts.add(inputs[i]);
            String line = outs.get(i).trim();
            ids.add(line.isEmpty() ? new int[0] : Arrays.stream(line.split(" +")).mapToInt(Integer::parseInt).toArray());
        }
        check("llama.cpp", texts, ids, true);
    }

    @Test
    void jtokkitR50kBase() throws IOException {
        List<List<String>> rows = Csv.parse(Files.readString(DIR.resolve("jtokkit/r50k_base_encodings.csv"), StandardCharsets.UTF_8));
        assertEquals(List.of("input", "output", "outputMaxTokens10"), rows.get(0));
        List<String> texts = new ArrayList<>();
        List<int[]> ids = new ArrayList<>();
        Gpt2Tokenizer tok = TokenizerTestData.gpt2();
        for (List<String> r : rows.subList(1, rows.size())) {
            texts.add(r.get(0));
            ids.add(TokenizerTestData.ints(TokenizerTestData.JSON.readTree(r.get(1))));
            // outputMaxTokens10: the longest prefix of at most 10 ids whose text is a prefix of the input
            int[] want10 = TokenizerTestData.ints(TokenizerTestData.JSON.readTree(r.get(2)));
            int[] all = tok.encodeOrdinary(r.get(0));
            int k = Math.min(10, all.length);
            while (k > 0 && !r.get(0).startsWith(tok.decode(Arrays.copyOf(all, k)))) k--;
            assertEquals(Arrays.toString(want10), Arrays.toString(Arrays.copyOf(all, k)), TokenizerTestData.show(r.get(0)));
        }
        assertEquals(423, texts.size());
        check("jtokkit", texts, ids, false);
    }

    @Test
    void tiktoken() {
        List<JsonNode> cases = TokenizerTestData.jsonl(DIR.resolve("tiktoken/tiktoken_gpt2_test_cases.jsonl"));
        assertEquals(20, cases.size());
        Gpt2Tokenizer tok = TokenizerTestData.gpt2();
        for (JsonNode k : cases) {
            String text = k.get("text").asText();
            int[] got = "all".equals(k.get("allowed_special").asText()) ? tok.encode(text) : tok.encodeOrdinary(text);
            assertEquals(Arrays.toString(TokenizerTestData.ints(k.get("ids"))), Arrays.toString(got), text);
            assertEquals(text, tok.decode(got));
        }
    }

    @Test
    void derivedWikitext() {
        List<String> texts = new ArrayList<>();
        List<int[]> ids = new ArrayList<>();
        for (JsonNode k : TokenizerTestData.jsonl(DIR.resolve("derived/wikitext2_test_first300lines.jsonl"))) {
            texts.add(k.get("text").asText());
            ids.add(TokenizerTestData.ints(k.get("ids")));
        }
        assertEquals(300, texts.size());
        check("wikitext", texts, ids, true);
    }

    private static void check(String name, List<String> texts, List<int[]> ids, boolean specials) {
        Gpt2Tokenizer tok = TokenizerTestData.gpt2();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            int[] got = specials ? tok.encode(t) : tok.encodeOrdinary(t);
            if (!Arrays.equals(ids.get(i), got)) {
                failures.add(name + " #" + i + " " + TokenizerTestData.show(t) + ": " + Arrays.toString(got) + " != " + Arrays.toString(ids.get(i)));
            } else if (!tok.decode(got).equals(t)) {
                failures.add(name + " #" + i + " " + TokenizerTestData.show(t) + ": round trip");
            }
        }
        System.out.printf("%s: %d vectors, %d failures%n", name, texts.size(), failures.size());
        assertTrue(failures.isEmpty(), String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
    }

    /** RFC 4180: quoted fields may hold commas, quotes ("") and newlines. */
    static final class Csv {
        static List<List<String>> parse(String s) {
            List<List<String>> rows = new ArrayList<>();
            List<String> row = new ArrayList<>();
            StringBuilder f = new StringBuilder();
            boolean quoted = false, any = false;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (quoted) {
                    if (c == '"' && i + 1 < s.length() && s.charAt(i + 1) == '"') {
                        f.append('"');
                        i++;
                    } else if (c == '"') {
                        quoted = false;
                    } else {
                        f.append(c);
                    }
                } else if (c == '"') {
                    quoted = true;
                    any = true;
                } else if (c == ',') {
                    row.add(f.toString());
                    f.setLength(0);
                    any = true;
                } else if (c == '\n' || c == '\r') {
                    if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') i++;
                    row.add(f.toString());
                    f.setLength(0);
                    rows.add(row);
                    row = new ArrayList<>();
                    any = false;
                } else {
                    f.append(c);
                    any = true;
                }
            }
            if (any || f.length() > 0) {
                row.add(f.toString());
                rows.add(row);
            }
            return rows;
        }
    }
}
