package io.gpt2j.generate;

import io.gpt2j.core.io.Json;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Test-only GPT-2 byte-level decoder (vocab.json + the bytes↔unicode table), standing in for the tokenizer module
 * until it lands: raw bytes, skip_special_tokens (only <|endoftext|>) and transformers' clean-up replacements.
 */
final class TestDecoder implements PipelineText.Decoder, Detokenizer {
    private final String[] tokens;
    private final int eos;
    private final int[] unicodeToByte = new int[512];

    TestDecoder(Path vocabJson) throws Exception {
        Map<String, Object> vocab = Json.parseObject(Files.readString(vocabJson));
        tokens = new String[vocab.size()];
        int e = -1;
        for (Map.Entry<String, Object> en : vocab.entrySet()) {
            int id = ((Number) en.getValue()).intValue();
            tokens[id] = en.getKey();
            if (en.getKey().equals("<|endoftext|>")) e = id;
        }
        eos = e;
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            unicodeToByte[printable ? b : 256 + n++] = b;
        }
    }

    @Override
    public byte[] decodeBytes(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id == eos) {
                out.writeBytes(tokens[id].getBytes(StandardCharsets.UTF_8));
                continue;
            }
            String t = tokens[id];
            for (int i = 0; i < t.length(); i++) out.write(unicodeToByte[t.charAt(i)]);
        }
        return out.toByteArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecial, boolean cleanUp) {
        int[] kept = skipSpecial ? java.util.Arrays.stream(ids).filter(i -> i != eos).toArray() : ids;
        String s = new String(decodeBytes(kept), StandardCharsets.UTF_8);
        if (!cleanUp) return s;
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                .replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s").replace(" 've", "'ve").replace(" 're", "'re");
    }
}
