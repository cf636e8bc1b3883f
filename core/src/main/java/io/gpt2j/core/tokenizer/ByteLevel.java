package io.gpt2j.core.tokenizer;

/**
 * GPT-2's reversible byte ↔ printable-character table (OpenAI's bytes_to_unicode): vocab strings are
 * written in these characters, one per byte. Pure functions, no state.
 */
final class ByteLevel {
    /** BYTE_TO_CHAR[b] is the character that stands for byte b in vocab.json/merges.txt. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** CHAR_TO_BYTE[c] is the byte for character c (c < 324), or -1. */
    private static final short[] CHAR_TO_BYTE = new short[324];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, (short) -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = (short) b;
        }
    }

    private ByteLevel() {
    }

    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte that character c stands for, or -1 when c is not one of the 256 byte characters. */
    static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** The byte-level string of raw bytes (e.g. " the" → "\u0120the"). */
    static String toTokenString(byte[] bytes) {
        char[] cs = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) cs[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(cs);
    }

    /**
     * The raw bytes of a vocab string, or null when some character is not a byte character (then the
     * token is not byte-level text, e.g. an added token written in plain Unicode).
     */
    static byte[] toBytesOrNull(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) return null;
            out[i] = (byte) b;
        }
        return out;
    }
}
