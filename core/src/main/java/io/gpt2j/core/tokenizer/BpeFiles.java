package io.gpt2j.core.tokenizer;

import io.gpt2j.core.io.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads vocab.json/encoder.json and merges.txt/vocab.bpe into plain arrays, validating them. The only
 * tokenizer code that knows the file formats; every error names the file (and line) at fault.
 */
final class BpeFiles {
    /** The parsed files: tokens by id, and merges by rank (left/right/result ids; left -1 = cannot fire). */
    record Loaded(String[] tokens, Map<String, Integer> ids, int[] left, int[] right, int[] result) {
    }

    private BpeFiles() {
    }

    static Loaded load(Path vocabFile, Path mergesFile) {
        String[] tokens = readVocab(vocabFile);
        Map<String, Integer> ids = HashMap.newHashMap(tokens.length);
        for (int i = 0; i < tokens.length; i++) ids.put(tokens[i], i);
        for (int b = 0; b < 256; b++) {
            String sym = String.valueOf(ByteLevel.charOf(b));
            if (!ids.containsKey(sym)) {
                throw new TokenizerLoadException(vocabFile + ": the byte symbol '" + sym + "' (byte 0x"
                        + Integer.toHexString(b) + ") is missing; this is not a byte-level BPE vocabulary");
            }
        }
        return readMerges(mergesFile, vocabFile, tokens, ids);
    }

    static String readText(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (NoSuchFileException e) {
            throw new TokenizerLoadException(file + ": file not found");
        } catch (CharacterCodingException e) {
            throw new TokenizerLoadException(file + ": not valid UTF-8 text", e);
        } catch (IOException e) {
            throw new TokenizerLoadException(file + ": cannot read: " + e, e);
        }
    }

    private static String[] readVocab(Path file) {
        Map<String, Object> obj;
        try {
            obj = Json.parseObject(readText(file));
        } catch (Json.JsonException e) {
            throw new TokenizerLoadException(file + ": " + e.getMessage(), e);
        }
        if (obj.isEmpty()) throw new TokenizerLoadException(file + ": the vocabulary is empty");
        String[] tokens = new String[obj.size()];
        for (Map.Entry<String, Object> e : obj.entrySet()) {
            if (!(e.getValue() instanceof Long id) || id < 0 || id >= tokens.length) {
                throw new TokenizerLoadException(file + ": token " + Json.write(e.getKey()) + " has id " + e.getValue()
                        + "; ids must be integers 0.." + (tokens.length - 1));
            }
            int i = (int) (long) id;
            if (tokens[i] != null) {
                throw new TokenizerLoadException(file + ": id " + i + " is used twice (" + Json.write(tokens[i])
                        + " and " + Json.write(e.getKey()) + ")");
            }
            tokens[i] = e.getKey();
        }
        return tokens;
    }

    private static Loaded readMerges(Path file, Path vocabFile, String[] tokens, Map<String, Integer> ids) {
        String text = readText(file);
        int n = text.length(), pos = 0, lineNo = 0;
        int[] left = new int[1024], right = new int[1024], result = new int[1024];
        int count = 0;
        while (pos < n) {
            int eol = text.indexOf('\n', pos);
            if (eol < 0) eol = n; // a missing final newline must not lose the last merge
            lineNo++;
            String line = text.substring(pos, eol);
            pos = eol + 1;
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
            if (lineNo == 1 && line.startsWith("#version")) continue;
            if (line.isBlank()) {
                if (text.substring(Math.min(pos, n)).isBlank()) break; // trailing blank lines
                throw new TokenizerLoadException(file + " line " + lineNo + ": empty line inside the merges");
            }
            String[] parts = line.trim().split("[ \t]+");
            if (parts.length != 2) {
                throw new TokenizerLoadException(file + " line " + lineNo + ": expected two space-separated symbols, found "
                        + parts.length + " in " + Json.write(line));
            }
            Integer z = ids.get(parts[0] + parts[1]);
            if (z == null) {
                throw new TokenizerLoadException(file + " line " + lineNo + ": merge result " + Json.write(parts[0] + parts[1])
                        + " is not in " + vocabFile.getFileName());
            }
            if (count == left.length) {
                left = java.util.Arrays.copyOf(left, count * 2);
                right = java.util.Arrays.copyOf(right, count * 2);
                result = java.util.Arrays.copyOf(result, count * 2);
            }
            Integer a = ids.get(parts[0]), b = ids.get(parts[1]);
            // a part missing from the vocab can never be produced, so the merge can never fire
            left[count] = a == null || b == null ? -1 : a;
            right[count] = b == null ? -1 : b;
            result[count] = z;
            count++;
        }
        return new Loaded(tokens, ids, java.util.Arrays.copyOf(left, count), java.util.Arrays.copyOf(right, count),
                java.util.Arrays.copyOf(result, count));
    }
}
