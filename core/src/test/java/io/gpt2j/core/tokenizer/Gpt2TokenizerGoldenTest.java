package io.gpt2j.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every case of the transformers-generated tokenizer.jsonl files: ids, tokens, decoded, decoded_raw. */
class Gpt2TokenizerGoldenTest {

    @Test
    void tinyGpt2AgreesWithTransformersOnEveryCase() {
        check("golden/tiny-gpt2/tokenizer.jsonl", TokenizerTestData.tinyGpt2());
    }

    @Test
    void v1000AgreesWithTransformersOnEveryCase() {
        check("golden/tiny-gpt2-v1000/tokenizer.jsonl", TokenizerTestData.v1000());
    }

    private static void check(String file, Gpt2Tokenizer tok) {
        List<JsonNode> cases = TokenizerTestData.jsonl(TokenizerTestData.root().resolve(file));
        assertEquals(421, cases.size(), file + ": case count");
        List<String> failures = new ArrayList<>();
        int fields = 0;
        for (int c = 0; c < cases.size(); c++) {
            JsonNode k = cases.get(c);
            String text = k.get("text").asText();
            int[] want = TokenizerTestData.ints(k.get("ids"));
            int[] got = tok.encode(text);
            String where = file + " line " + (c + 1) + " " + TokenizerTestData.show(text);
            if (!Arrays.equals(want, got)) {
                failures.add(where + ": ids " + Arrays.toString(got) + " != " + Arrays.toString(want));
                continue;
            }
            String[] tokens = TokenizerTestData.strings(k.get("tokens"));
            for (int i = 0; i < tokens.length; i++) {
                if (!tokens[i].equals(tok.token(want[i]))) failures.add(where + ": token " + i);
            }
            if (!k.get("decoded").asText().equals(tok.decode(want, false, true))) failures.add(where + ": decoded");
            if (!k.get("decoded_raw").asText().equals(tok.decode(want))) failures.add(where + ": decoded_raw");
            if (k.get("roundtrip").asBoolean() != tok.decode(got).equals(text)) failures.add(where + ": roundtrip");
            fields += 4;
        }
        System.out.printf("%s: %d cases, %d field checks, %d failures%n", file, cases.size(), fields, failures.size());
        assertTrue(failures.isEmpty(), failures.size() + " mismatches:\n" + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
    }
}
