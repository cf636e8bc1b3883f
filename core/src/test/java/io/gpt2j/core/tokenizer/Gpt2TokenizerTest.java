package io.gpt2j.core.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** API behaviour, decoding of invalid UTF-8, special tokens, file errors, concurrency. */
class Gpt2TokenizerTest {
    private final Gpt2Tokenizer tok = TokenizerTestData.gpt2();

    @Test
    void basics() {
        assertArrayEquals(new int[]{15496, 995}, tok.encode("Hello world"));
        assertArrayEquals(new int[]{262}, tok.encode(" the"));
        assertEquals(50257, tok.vocabSize());
        assertEquals(50256, tok.eosTokenId());
        assertArrayEquals(new int[]{50256}, tok.specialTokenIds());
        assertEquals("\u0120the", tok.token(262));
        assertEquals(262, tok.id("\u0120the"));
        assertEquals(-1, tok.id("no such token"));
        assertArrayEquals(" the".getBytes(StandardCharsets.UTF_8), tok.tokenBytes(262));
        assertArrayEquals(new int[0], tok.encode(""));
        assertEquals("", tok.decode(new int[0]));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[]{50257}));
        assertThrows(IllegalArgumentException.class, () -> tok.token(-1));
    }

    @Test
    void endOfTextIsOneTokenAnywhereButOrdinaryTextInEncodeOrdinary() {
        assertArrayEquals(new int[]{31373, 220, 50256}, tok.encode("hello <|endoftext|>"));
        assertArrayEquals(new int[]{64, 50256, 50256, 65}, tok.encode("a<|endoftext|><|endoftext|>b"));
        int[] ordinary = tok.encodeOrdinary("<|endoftext|>");
        assertTrue(ordinary.length > 1 && Arrays.stream(ordinary).noneMatch(i -> i == 50256));
        assertEquals("<|endoftext|>", tok.decode(ordinary));
        for (String bad : new String[]{"<|ENDOFTEXT|>", "<|endoftext", "<endoftext|>", "< |endoftext|>"}) {
            assertArrayEquals(tok.encodeOrdinary(bad), tok.encode(bad), bad);
        }
        int[] ids = tok.encode("Hi.<|endoftext|> Next");
        assertEquals("Hi.<|endoftext|> Next", tok.decode(ids));
        assertEquals("Hi. Next", tok.decode(ids, true, false));
    }

    @Test
    void cleanUpFollowsTransformers438() {
        assertEquals("a!= b", Gpt2Tokenizer.cleanUp("a != b"));
        assertEquals("C++ C# F#.NET", Gpt2Tokenizer.cleanUp("C++ C# F# .NET"));
        assertEquals("it's, isn't, I'm, we've, they're?", Gpt2Tokenizer.cleanUp("it 's , is n't , I 'm , we 've , they 're ?"));
        assertEquals("a'b", Gpt2Tokenizer.cleanUp("a ' b"));
        assertEquals("x. y", tok.decode(tok.encode("x . y"), false, true));
    }

    /** Expected strings computed with Python 3.11: bytes.fromhex(h).decode("utf-8", errors="replace"). */
    @Test
    void invalidUtf8IsReplacedLikePython() {
        String[][] cases = {
                {"80", "\ufffd"}, {"bf", "\ufffd"}, {"c0 80", "\ufffd\ufffd"}, {"c1 bf", "\ufffd\ufffd"}, {"c2", "\ufffd"},
                {"c2 41", "\ufffdA"}, {"e0 80 80", "\ufffd\ufffd\ufffd"}, {"e0 a0", "\ufffd"}, {"e0 a0 41", "\ufffdA"},
                {"ed a0 80", "\ufffd\ufffd\ufffd"}, {"ed 9f bf", "\ud7ff"}, {"ef bf bd", "\ufffd"},
                {"f0 80 80 80", "\ufffd\ufffd\ufffd\ufffd"}, {"f0 90 80", "\ufffd"}, {"f0 90 80 41", "\ufffdA"},
                {"f4 90 80 80", "\ufffd\ufffd\ufffd\ufffd"}, {"f4 8f bf bf", "\udbff\udfff"}, {"f5 80", "\ufffd\ufffd"},
                {"ff fe", "\ufffd\ufffd"}, {"e2 82 ac", "\u20ac"}, {"e2 82", "\ufffd"}, {"e2 41 82 ac", "\ufffdA\ufffd\ufffd"},
                {"c3 28", "\ufffd("}, {"a0 a1", "\ufffd\ufffd"}, {"e2 28 a1", "\ufffd(\ufffd"}, {"f0 28 8c bc", "\ufffd(\ufffd\ufffd"},
                {"f0 90 28 bc", "\ufffd(\ufffd"}, {"f8 88 80 80 80", "\ufffd\ufffd\ufffd\ufffd\ufffd"},
                {"fc 84 80 80 80 80", "\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"}, {"41 e3 81 82 e3 81 42", "A\u3042\ufffdB"},
                {"f0 9f 98", "\ufffd"},
        };
        for (String[] c : cases) {
            byte[] b = HexFormat.ofDelimiter(" ").parseHex(c[0]);
            assertEquals(c[1], Gpt2Tokenizer.decodeUtf8(b, 0, b.length), c[0]);
            int[] ids = new int[b.length]; // one byte token per byte
            for (int i = 0; i < b.length; i++) ids[i] = tok.id(String.valueOf(ByteLevel.charOf(b[i])));
            assertEquals(c[1], tok.decode(ids), c[0]);
            assertArrayEquals(b, tok.decodeBytes(ids));
        }
        // a token that splits a character: the emoji's first bytes alone decode to one replacement character
        int[] ids = tok.encode("\uD83D\uDE00");
        assertTrue(ids.length > 1);
        assertEquals("\ufffd", tok.decode(Arrays.copyOf(ids, ids.length - 1)));
    }

    @Test
    void randomTextRoundTrips() {
        Random rnd = new Random(7);
        int[] pool = {' ', ' ', 'a', 'e', 'z', 'Q', '0', '9', '\'', 's', '.', '\n', '\t', 0xA0, 0x3000, 0x2028, 0x85, 0xE9, 0x301,
                0x4E2D, 0x0627, 0x1F600, 0x1F3FD, 0x200D, 0x1D400, 0x10FFFF, 0, 0x1F, 0xFEFF, 0xE000, 0x10940};
        for (int n = 0; n < 3000; n++) {
            StringBuilder sb = new StringBuilder();
            int len = 1 + rnd.nextInt(n % 10 == 0 ? 400 : 20);
            for (int i = 0; i < len; i++) sb.appendCodePoint(pool[rnd.nextInt(pool.length)]);
            String s = sb.toString();
            assertEquals(s, tok.decode(tok.encode(s)), TokenizerTestData.show(s));
        }
    }

    @Test
    void loneSurrogatesAreEncodedAsReplacementCharacter() {
        assertEquals("a\ufffdb", tok.decode(tok.encode("a\uD800b")));
    }

    @Test
    void heapAndArrayMergesAgreeOnLongPieces() {
        Random rnd = new Random(11);
        String alphabet = "!!??..--__==**##@@$$%%^^&&(())[]{}<>/\\|~`+,;:\"'";
        for (int n = 0; n < 200; n++) {
            StringBuilder sb = new StringBuilder();
            int len = 65 + rnd.nextInt(400); // longer than Bpe.SMALL: uses the heap merge
            for (int i = 0; i < len; i++) sb.append(alphabet.charAt(rnd.nextInt(n % 2 == 0 ? 6 : alphabet.length())));
            String s = sb.toString();
            // no letters, digits or spaces: the whole string is one pre-token
            assertArrayEquals(literalBpe(s), tok.encode(s), s);
        }
        String a3000 = "a".repeat(3000);
        assertArrayEquals(literalBpe(a3000), tok.encode(a3000));
    }

    /** transformers' slow BPE on the string level, written independently of Bpe (test reference). */
    private int[] literalBpe(String piece) {
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        List<String> word = new ArrayList<>();
        for (byte b : bytes) word.add(String.valueOf(ByteLevel.charOf(b)));
        java.util.Map<String, Integer> ranks = mergeRanks();
        while (word.size() > 1) {
            int best = Integer.MAX_VALUE;
            String first = null, second = null;
            for (int i = 0; i < word.size() - 1; i++) {
                Integer r = ranks.get(word.get(i) + " " + word.get(i + 1));
                if (r != null && r < best) {
                    best = r;
                    first = word.get(i);
                    second = word.get(i + 1);
                }
            }
            if (first == null) break;
            List<String> next = new ArrayList<>();
            for (int i = 0; i < word.size(); ) {
                if (i < word.size() - 1 && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    next.add(first + second);
                    i += 2;
                } else {
                    next.add(word.get(i++));
                }
            }
            word = next;
        }
        return word.stream().mapToInt(tok::id).toArray();
    }

    private static java.util.Map<String, Integer> ranks;

    private static synchronized java.util.Map<String, Integer> mergeRanks() {
        if (ranks == null) {
            try {
                List<String> lines = Files.readAllLines(TokenizerTestData.root().resolve("golden/gpt2-tokenizer/merges.txt"));
                ranks = new java.util.HashMap<>();
                for (int i = 1; i < lines.size(); i++) ranks.put(lines.get(i), i - 1);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return ranks;
    }

    @Test
    void concurrentEncodingGivesTheSameIds() throws Exception {
        String text = Files.readString(TokenizerTestData.root().resolve("golden/texts/perplexity_text.txt"));
        int[] want = tok.encode(text);
        Gpt2Tokenizer fresh = Gpt2Tokenizer.fromDirectory(TokenizerTestData.root().resolve("golden/gpt2-tokenizer"));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<int[]>> fs = new ArrayList<>();
            for (int i = 0; i < 16; i++) fs.add(pool.submit(() -> fresh.encode(text)));
            for (Future<int[]> f : fs) assertArrayEquals(want, f.get());
        } finally {
            pool.shutdown();
        }
        assertEquals(1994, want.length); // golden README: perplexity text = 1,994 GPT-2 tokens
    }

    // ---- files ----

    private static void write(Path p, String s) throws IOException {
        Files.writeString(p, s, StandardCharsets.UTF_8);
    }

    /** A tiny valid vocabulary: the 256 byte symbols, merges "a b" → ab and "ab c" → abc, and <|endoftext|>. */
    private static String tinyVocab(String... extra) {
        StringBuilder sb = new StringBuilder("{");
        for (int b = 0; b < 256; b++) {
            sb.append(io.gpt2j.core.io.Json.write(String.valueOf(ByteLevel.charOf(b)))).append(':').append(b).append(',');
        }
        sb.append("\"ab\":256,\"abc\":257,\"<|endoftext|>\":258");
        for (String e : extra) sb.append(',').append(e);
        return sb.append('}').toString();
    }

    @Test
    void openAiNamesVersionHeaderAndMissingFinalNewline(@TempDir Path dir) throws IOException {
        write(dir.resolve("encoder.json"), tinyVocab());
        write(dir.resolve("vocab.bpe"), "#version: 0.2\na b\nab c"); // no final newline: the last merge still counts
        Gpt2Tokenizer t = Gpt2Tokenizer.fromDirectory(dir);
        assertArrayEquals(new int[]{257, 258, 256}, t.encode("abc<|endoftext|>ab"));
        Path d2 = Files.createDirectory(dir.resolve("noheader"));
        write(d2.resolve("vocab.json"), tinyVocab());
        write(d2.resolve("merges.txt"), "a b\r\nab c\r\n\n");
        assertArrayEquals(new int[]{257}, Gpt2Tokenizer.fromDirectory(d2).encode("abc"));
    }

    @Test
    void errorsNameTheFileAndProblem(@TempDir Path dir) throws IOException {
        assertMessage(() -> Gpt2Tokenizer.fromDirectory(dir), "no tokenizer files", dir.toString());
        Path vocab = dir.resolve("vocab.json"), merges = dir.resolve("merges.txt");
        write(merges, "#version: 0.2\na b\n");
        assertMessage(() -> Gpt2Tokenizer.fromFiles(vocab, merges), "vocab.json", "file not found");
        write(vocab, "{\"a\": 0,");
        assertMessage(() -> Gpt2Tokenizer.fromFiles(vocab, merges), "vocab.json", "malformed JSON");
        write(vocab, "[1, 2]");
        assertMessage(() -> Gpt2Tokenizer.fromFiles(vocab, merges), "vocab.json", "expected a JSON object");
        write(vocab, "{\"a\": 0, \"b\": 0}");
        assertMessage(() -> Gpt2Tokenizer.fromFiles(vocab, merges), "vocab.json", "used twice");
        write(vocab, "{\"a\": 0, \"b\": \"x\"}");
        assertMessage(() -> Gpt2Tokenizer.fromFiles(vocab, merges), "vocab.json", "\"b\" has id x");
        write(vocab, "{\"a\": 0, \"b\": 1}");
        assertMessage(() -> Gpt2Tokenizer.fromFiles(vocab, merges), "vocab.json", "byte symbol");
        write(vocab, tinyVocab());
        write(merges, "#version: 0.2\na b\nab c d\n");
        assertMessage(() -> Gpt2Tokenizer.fromFiles(vocab, merges), "merges.txt line 3", "expected two");
        write(merges, "#version: 0.2\na b\n\nab c\n");
        assertMessage(() -> Gpt2Tokenizer.fromFiles(vocab, merges), "merges.txt line 3", "empty line");
        write(merges, "#version: 0.2\na b\nb c\n");
        assertMessage(() -> Gpt2Tokenizer.fromFiles(vocab, merges), "merges.txt line 3", "merge result \"bc\" is not in vocab.json");
        Files.write(merges, new byte[]{'a', ' ', (byte) 0xFF, '\n'});
        assertMessage(() -> Gpt2Tokenizer.fromFiles(vocab, merges), "merges.txt", "not valid UTF-8");
        assertMessage(() -> Gpt2Tokenizer.fromDirectory(dir.resolve("nope")), "nope", "not a directory");
    }

    @Test
    void nonMonotoneMergesFollowTransformersPasses(@TempDir Path dir) throws IOException {
        // merge 0 (ab a) uses "ab", which only merge 1 (a b) produces. transformers merges every (a b) first:
        // a b a b a -> ab ab a -> ab aba. "Leftmost lowest pair first" would give aba b a instead.
        Path vocab = dir.resolve("vocab.json"), merges = dir.resolve("merges.txt");
        write(vocab, tinyVocab("\"aba\":259"));
        write(merges, "#version: 0.2\nab a\na b\n");
        Gpt2Tokenizer t = Gpt2Tokenizer.fromFiles(vocab, merges);
        assertArrayEquals(new int[]{256, 259}, t.encode("ababa"));
        String longer = "ab".repeat(50) + "a"; // over 64 bytes: would take the heap path if merges were monotone
        int[] ids = t.encode(longer);
        assertEquals(50, ids.length);
        assertEquals(259, ids[49]);
        assertTrue(t.isSpecial(258) && t.isSpecial(257), "unreachable tokens are added tokens");
        assertFalse(t.isSpecial(256));
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable e, String... parts) {
        TokenizerLoadException ex = assertThrows(TokenizerLoadException.class, e);
        for (String p : parts) assertTrue(ex.getMessage().contains(p), "'" + ex.getMessage() + "' lacks '" + p + "'");
    }
}
