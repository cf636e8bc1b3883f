package io.gpt2j.core.tokenizer;

/**
 * UTF-8 → String with Python's {@code bytes.decode("utf-8", errors="replace")} semantics: each maximal
 * subpart of an ill-formed sequence (Unicode §3.9, Table 3-7) becomes one U+FFFD. Written by hand so the
 * behaviour is pinned down rather than left to the JDK decoder's choices.
 */
final class Utf8 {
    private Utf8() {
    }

    static String decode(byte[] b, int off, int len) {
        char[] out = new char[len];
        int n = 0, i = off, end = off + len;
        while (i < end) {
            int b0 = b[i] & 0xFF;
            if (b0 < 0x80) {
                out[n++] = (char) b0;
                i++;
                continue;
            }
            int need, lo = 0x80, hi = 0xBF, cp;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
                cp = b0 & 0x1F;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                cp = b0 & 0x0F;
                if (b0 == 0xE0) lo = 0xA0;
                else if (b0 == 0xED) hi = 0x9F;
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                cp = b0 & 0x07;
                if (b0 == 0xF0) lo = 0x90;
                else if (b0 == 0xF4) hi = 0x8F;
            } else {
                out[n++] = '\uFFFD';
                i++;
                continue;
            }
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < need; k++, j++) {
                if (j >= end) {
                    ok = false;
                    break;
                }
                int bk = b[j] & 0xFF;
                if (bk < lo || bk > hi) {
                    ok = false;
                    break;
                }
                cp = (cp << 6) | (bk & 0x3F);
                lo = 0x80;
                hi = 0xBF;
            }
            if (!ok) {
                out[n++] = '\uFFFD'; // the lead byte and the valid continuation bytes so far
                i = j;
                continue;
            }
            if (cp >= 0x10000) {
                out[n++] = Character.highSurrogate(cp);
                out[n++] = Character.lowSurrogate(cp);
            } else {
                out[n++] = (char) cp;
            }
            i = j;
        }
        return new String(out, 0, n);
    }
}
