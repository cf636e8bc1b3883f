package io.gpt2j.core.tokenizer;

/**
 * GPT-2's pre-tokenizer as a hand-written scanner, equivalent to the regex
 * {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+} under Python's
 * {@code regex} module, with character classes taken per code point. Stateless; no java.util.regex.
 */
final class PreTokenizer {
    static final int LETTER = 1, NUMBER = 2, SPACE = 3, OTHER = 4;

    private static final byte[] ASCII = new byte[128];

    static {
        for (int c = 0; c < 128; c++) {
            byte k = OTHER;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) k = LETTER;
            else if (c >= '0' && c <= '9') k = NUMBER;
            else if (c == ' ' || (c >= 0x09 && c <= 0x0D)) k = SPACE; // not 0x1C..0x1F: not White_Space
            ASCII[c] = k;
        }
    }

    /**
     * Code points that Java 25 (Unicode 16) leaves unassigned but Unicode 17 makes letters (1) or numbers (2),
     * as Python's regex module (2026.x) classifies them: {first, last, class} triples. Found by comparing
     * every code point with Python; \s and all assigned code points agree.
     */
    private static final int[] UNICODE_17 = {
            0x88F, 0x88F, 1,
            0xC5C, 0xC5C, 1,
            0xCDC, 0xCDC, 1,
            0xA7CE, 0xA7CF, 1,
            0xA7D2, 0xA7D2, 1,
            0xA7D4, 0xA7D4, 1,
            0xA7F1, 0xA7F1, 1,
            0x10940, 0x10959, 1,
            0x10EC5, 0x10EC7, 1,
            0x11DB0, 0x11DDB, 1,
            0x11DE0, 0x11DE9, 2,
            0x16EA0, 0x16EB8, 1,
            0x16EBB, 0x16ED3, 1,
            0x16FF2, 0x16FF3, 1,
            0x16FF4, 0x16FF6, 2,
            0x187F8, 0x187FF, 1,
            0x18D09, 0x18D1E, 1,
            0x18D80, 0x18DF2, 1,
            0x1E6C0, 0x1E6DE, 1,
            0x1E6E0, 0x1E6E2, 1,
            0x1E6E4, 0x1E6E5, 1,
            0x1E6E7, 0x1E6ED, 1,
            0x1E6F0, 0x1E6F4, 1,
            0x1E6FE, 0x1E6FF, 1,
            0x2B73A, 0x2B73F, 1,
            0x2CEA2, 0x2CEAD, 1,
            0x323B0, 0x33479, 1
    };

    private PreTokenizer() {
    }

    /**
     * The class of a code point as Python's regex sees it: \p{L} = Lu Ll Lt Lm Lo, \p{N} = Nd Nl No,
     * \s = the Unicode White_Space property (Zs Zl Zp, TAB..CR, U+0085). Java's Character.isWhitespace
     * is different (it excludes NBSP and includes U+001C..U+001F), so it is not used.
     */
    static int classOf(int cp) {
        if (cp < 128) return ASCII[cp];
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SPACE;
            case Character.UNASSIGNED -> newerUnicode(cp);
            default -> cp == 0x85 ? SPACE : OTHER;
        };
    }

    private static int newerUnicode(int cp) {
        for (int i = 0; i < UNICODE_17.length; i += 3) {
            if (cp >= UNICODE_17[i] && cp <= UNICODE_17[i + 1]) return UNICODE_17[i + 2];
        }
        return OTHER;
    }

    /** Class of the code point starting at index i (a lone surrogate counts as OTHER). */
    private static int classAt(String s, int i, int end) {
        char c = s.charAt(i);
        if (c < 128) return ASCII[c];
        if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(s.charAt(i + 1))) {
            return classOf(Character.toCodePoint(c, s.charAt(i + 1)));
        }
        return classOf(c);
    }

    private static int widthAt(String s, int i, int end) {
        return Character.isHighSurrogate(s.charAt(i)) && i + 1 < end && Character.isLowSurrogate(s.charAt(i + 1)) ? 2 : 1;
    }

    /** The end (exclusive) of the pre-token that starts at i, within s[.. end). Requires i < end. */
    static int next(String s, int i, int end) {
        char c = s.charAt(i);
        if (c == '\'' && i + 1 < end) {
            char d = s.charAt(i + 1);
            if (d == 's' || d == 't' || d == 'm' || d == 'd') return i + 2;
            if (i + 2 < end) {
                char e = s.charAt(i + 2);
                if ((e == 'e' && (d == 'r' || d == 'v')) || (d == 'l' && e == 'l')) return i + 3;
            }
        }
        int cls = classAt(s, i, end);
        if (c == ' ' && i + 1 < end) {
            int k = classAt(s, i + 1, end);
            if (k != SPACE) {
                i++;
                cls = k;
            }
        }
        if (cls == SPACE) return whitespace(s, i, end);
        return run(s, i, end, cls);
    }

    private static int run(String s, int i, int end, int cls) {
        while (i < end) {
            char c = s.charAt(i);
            if (c < 128) {
                if (ASCII[c] != cls) return i;
                i++;
            } else {
                if (classAt(s, i, end) != cls) return i;
                i += widthAt(s, i, end);
            }
        }
        return i;
    }

    /** \s+(?!\S) — all but the last space before a non-space — else \s+ (a single space char). */
    private static int whitespace(String s, int i, int end) {
        int j = i + 1; // every White_Space character is in the BMP, so one char each
        while (j < end && classAt(s, j, end) == SPACE) j++;
        if (j == end) return j;
        return j - i >= 2 ? j - 1 : j;
    }
}
