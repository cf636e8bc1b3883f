package io.gpt2j.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * GPT-2's byte-level BPE tokenizer with the exact behaviour of transformers' GPT2Tokenizer (4.38): text ↔ ids.
 * Immutable and thread-safe (its word cache is lock-free); it knows nothing about models or generation.
 */
public final class Gpt2Tokenizer {
    /** The end-of-text token of GPT-2 vocabularies. */
    public static final String END_OF_TEXT = "<|endoftext|>";

    private final String[] tokens;
    private final byte[][] tokenBytes;
    private final Map<String, Integer> ids;
    private final int[] byteToId = new int[256];
    private final Bpe bpe;
    /** Added (special) tokens: longest first, so the first hit at a position is the longest. */
    private final String[] specials;
    private final int[] specialIds;
    private final boolean[] isSpecial;
    private final int eosId;
    private final WordCache cache = new WordCache(1 << 15);

    private Gpt2Tokenizer(BpeFiles.Loaded f) {
        tokens = f.tokens();
        ids = f.ids();
        int v = tokens.length;
        for (int b = 0; b < 256; b++) byteToId[b] = ids.get(String.valueOf(ByteLevel.charOf(b)));
        bpe = new Bpe(f.left(), f.right(), f.result(), v);
        // A token that is neither a byte symbol nor the result of a merge can only be an added token
        // (GPT-2: <|endoftext|> alone); transformers matches those in the raw text before BPE.
        boolean[] reachable = new boolean[v];
        for (int id : byteToId) reachable[id] = true;
        for (int id : f.result()) reachable[id] = true;
        isSpecial = new boolean[v];
        List<Integer> special = new ArrayList<>();
        for (int i = 0; i < v; i++) {
            if (!reachable[i] && !tokens[i].isEmpty()) {
                isSpecial[i] = true;
                special.add(i);
            }
        }
        special.sort((a, b) -> Integer.compare(tokens[b].length(), tokens[a].length()));
        specialIds = special.stream().mapToInt(Integer::intValue).toArray();
        specials = special.stream().map(i -> tokens[i]).toArray(String[]::new);
        tokenBytes = new byte[v][];
        for (int i = 0; i < v; i++) {
            byte[] b = ByteLevel.toBytesOrNull(tokens[i]);
            tokenBytes[i] = b != null ? b : tokens[i].getBytes(StandardCharsets.UTF_8);
        }
        Integer eos = ids.get(END_OF_TEXT);
        eosId = eos == null ? -1 : eos;
    }

    /** Loads vocab.json + merges.txt (Hugging Face names) or encoder.json + vocab.bpe (OpenAI names) from dir. */
    public static Gpt2Tokenizer fromDirectory(Path dir) {
        if (!Files.isDirectory(dir)) throw new TokenizerLoadException(dir + ": not a directory");
        if (Files.exists(dir.resolve("vocab.json")) || Files.exists(dir.resolve("merges.txt"))) {
            return fromFiles(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
        }
        if (Files.exists(dir.resolve("encoder.json")) || Files.exists(dir.resolve("vocab.bpe"))) {
            return fromFiles(dir.resolve("encoder.json"), dir.resolve("vocab.bpe"));
        }
        throw new TokenizerLoadException(dir + ": no tokenizer files; expected vocab.json + merges.txt"
                + " (Hugging Face) or encoder.json + vocab.bpe (OpenAI)");
    }

    /** Loads a vocabulary (token → id JSON object) and its merges file. */
    public static Gpt2Tokenizer fromFiles(Path vocabJson, Path merges) {
        return new Gpt2Tokenizer(BpeFiles.load(vocabJson, merges));
    }

    /** Text → ids as transformers does: added tokens such as {@code <|endoftext|>} become their single id. */
    public int[] encode(String text) {
        return encode(text, true);
    }

    /** Text → ids treating {@code <|endoftext|>} and other added tokens as ordinary text. */
    public int[] encodeOrdinary(String text) {
        return encode(text, false);
    }

    private int[] encode(String text, boolean withSpecials) {
        IntList out = new IntList(text.length() / 3 + 8);
        Bpe.Scratch scratch = new Bpe.Scratch();
        int n = text.length();
        if (!withSpecials || specials.length == 0) {
            encodeSegment(text, 0, n, out, scratch);
            return out.toArray();
        }
        int[] nextAt = new int[specials.length];
        Arrays.fill(nextAt, -2);
        int pos = 0;
        while (pos < n) {
            int best = -1, bestAt = n;
            for (int k = 0; k < specials.length; k++) {
                if (nextAt[k] != -1 && nextAt[k] < pos) nextAt[k] = text.indexOf(specials[k], pos);
                if (nextAt[k] >= 0 && nextAt[k] < bestAt) {
                    bestAt = nextAt[k];
                    best = k;
                }
            }
            encodeSegment(text, pos, bestAt, out, scratch);
            if (best < 0) break;
            out.add(specialIds[best]);
            pos = bestAt + specials[best].length();
        }
        return out.toArray();
    }

    private void encodeSegment(String text, int from, int to, IntList out, Bpe.Scratch s) {
        int i = from;
        while (i < to) {
            int j = PreTokenizer.next(text, i, to);
            encodePiece(text, i, j, out, s);
            i = j;
        }
    }

    private void encodePiece(String text, int from, int to, IntList out, Bpe.Scratch s) {
        int len = to - from;
        char c0 = text.charAt(from);
        if (len == 1 && c0 < 0x80) {
            out.add(byteToId[c0]);
            return;
        }
        int h = 0;
        boolean cacheable = len <= WordCache.MAX_KEY_CHARS;
        if (cacheable) {
            h = WordCache.hash(text, from, to);
            int[] hit = cache.get(text, from, len, h);
            if (hit != null) {
                out.addAll(hit, hit.length);
                return;
            }
        }
        int[] syms = s.syms(len * 3);
        int n = 0;
        for (int i = from; i < to; i++) {
            int c = text.charAt(i);
            if (c < 0x80) {
                syms[n++] = byteToId[c];
                continue;
            }
            if (Character.isHighSurrogate((char) c) && i + 1 < to && Character.isLowSurrogate(text.charAt(i + 1))) {
                c = Character.toCodePoint((char) c, text.charAt(++i));
            } else if (Character.isSurrogate((char) c)) {
                c = 0xFFFD; // a lone surrogate has no UTF-8 form; encode the replacement character
            }
            if (c < 0x800) {
                syms[n++] = byteToId[0xC0 | (c >> 6)];
            } else if (c < 0x10000) {
                syms[n++] = byteToId[0xE0 | (c >> 12)];
                syms[n++] = byteToId[0x80 | ((c >> 6) & 0x3F)];
            } else {
                syms[n++] = byteToId[0xF0 | (c >> 18)];
                syms[n++] = byteToId[0x80 | ((c >> 12) & 0x3F)];
                syms[n++] = byteToId[0x80 | ((c >> 6) & 0x3F)];
            }
            syms[n++] = byteToId[0x80 | (c & 0x3F)];
        }
        n = bpe.merge(syms, n, s);
        out.addAll(syms, n);
        if (cacheable) cache.put(text.substring(from, to), h, Arrays.copyOf(syms, n));
    }

    /** The raw bytes of the tokens, concatenated (added tokens included) — for streaming decoders. */
    public byte[] decodeBytes(int[] ids) {
        return decodeBytes(ids, false);
    }

    private byte[] decodeBytes(int[] ids, boolean skipSpecial) {
        int total = 0;
        for (int id : ids) {
            checkId(id);
            if (!(skipSpecial && isSpecial[id])) total += tokenBytes[id].length;
        }
        byte[] out = new byte[total];
        int p = 0;
        for (int id : ids) {
            if (skipSpecial && isSpecial[id]) continue;
            byte[] b = tokenBytes[id];
            System.arraycopy(b, 0, out, p, b.length);
            p += b.length;
        }
        return out;
    }

    /** Ids → text, the exact inverse of {@link #encode}: invalid UTF-8 becomes U+FFFD as in Python's "replace". */
    public String decode(int[] ids) {
        return decode(ids, false, false);
    }

    /**
     * Ids → text as transformers' {@code decode(ids, skip_special_tokens, clean_up_tokenization_spaces)};
     * transformers 4.38's default for GPT-2 is {@code (false, true)}. The clean-up is lossy: " ." → "." etc.
     */
    public String decode(int[] ids, boolean skipSpecialTokens, boolean cleanUpTokenizationSpaces) {
        byte[] b = decodeBytes(ids, skipSpecialTokens);
        String s = Utf8.decode(b, 0, b.length);
        return cleanUpTokenizationSpaces ? cleanUp(s) : s;
    }

    /** transformers' clean_up_tokenization: plain replacements, in this order. */
    public static String cleanUp(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    /** Python's {@code bytes.decode("utf-8", errors="replace")}: one U+FFFD per maximal invalid subpart. */
    public static String decodeUtf8(byte[] bytes, int offset, int length) {
        return Utf8.decode(bytes, offset, length);
    }

    /** The vocabulary string of a token, in GPT-2's byte-level alphabet (" the" is "\u0120the"). */
    public String token(int id) {
        checkId(id);
        return tokens[id];
    }

    /** The id of a vocabulary string (byte-level alphabet), or -1 when it is not in the vocabulary. */
    public int id(String token) {
        Integer i = ids.get(token);
        return i == null ? -1 : i;
    }

    /** The raw bytes of one token (a copy). */
    public byte[] tokenBytes(int id) {
        checkId(id);
        return tokenBytes[id].clone();
    }

    public int vocabSize() {
        return tokens.length;
    }

    /** The id of {@code <|endoftext|>}, or -1 when the vocabulary has none. */
    public int eosTokenId() {
        return eosId;
    }

    /** True for added tokens (not produced by BPE), e.g. {@code <|endoftext|>}; these are skipped by skipSpecialTokens. */
    public boolean isSpecial(int id) {
        checkId(id);
        return isSpecial[id];
    }

    /** The added (special) tokens' ids, e.g. [50256] for GPT-2. */
    public int[] specialTokenIds() {
        int[] r = specialIds.clone();
        Arrays.sort(r);
        return r;
    }

    private void checkId(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException("token id " + id + " is out of range 0.." + (tokens.length - 1));
        }
    }

    /** A growable int array, to avoid boxing. */
    private static final class IntList {
        int[] a;
        int n;

        IntList(int cap) {
            a = new int[Math.max(8, cap)];
        }

        void add(int v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        void addAll(int[] src, int len) {
            if (n + len > a.length) a = Arrays.copyOf(a, Math.max(n + len, n * 2));
            System.arraycopy(src, 0, a, n, len);
            n += len;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
