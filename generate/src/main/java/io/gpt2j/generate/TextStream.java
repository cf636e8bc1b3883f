package io.gpt2j.generate;

import io.gpt2j.core.tokenizer.Gpt2Tokenizer;

import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * The text of one sequence as it grows token by token: bytes are decoded only up to the last complete UTF-8
 * character, stop strings are searched in the decoded text (so they may span several tokens), and the part that
 * could still be the beginning of a stop string is held back from the listener. Owned by one generation call.
 */
final class TextStream {
    private final Detokenizer detok;
    private final List<String> stops;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final int[] one = new int[1];
    private String text = "";
    private int emitted;
    private String stopString;
    private int stopAt = -1;

    TextStream(Detokenizer detok, List<String> stops) {
        this.detok = detok;
        this.stops = stops == null ? List.of() : stops;
    }

    /** Adds a non-eos token; returns true when a stop string is now present. */
    boolean add(int token) {
        if (stopAt >= 0) return true;
        one[0] = token;
        bytes.writeBytes(detok.decodeBytes(one));
        byte[] b = bytes.toByteArray();
        text = Gpt2Tokenizer.decodeUtf8(b, 0, completePrefix(b));
        return findStop(text);
    }

    /** Finishes with every byte decoded (an incomplete tail becomes U+FFFD, as Python's errors="replace"). */
    void finish() {
        if (stopAt >= 0) return;
        byte[] b = bytes.toByteArray();
        text = Gpt2Tokenizer.decodeUtf8(b, 0, b.length);
        findStop(text);
    }

    private boolean findStop(String t) {
        int best = -1;
        String which = null;
        for (String s : stops) {
            int i = t.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
                which = s;
            }
        }
        if (best < 0) return false;
        stopAt = best;
        stopString = which;
        text = t.substring(0, best);
        return true;
    }

    /** The final (or current) text, cut before the stop string. */
    String text() {
        return text;
    }

    String stopString() {
        return stopString;
    }

    /** Text that is safe to show now and was not shown yet; call {@link #finish} first for the final flush. */
    String takeDelta(boolean last) {
        int safe = text.length();
        if (!last && stopAt < 0) safe -= heldBack(text);
        if (safe <= emitted) return "";
        if (safe > 0 && safe < text.length() && Character.isHighSurrogate(text.charAt(safe - 1))) safe--;
        String d = text.substring(emitted, safe);
        emitted = safe;
        return d;
    }

    /** Length of the longest suffix of t that is a proper prefix of some stop string. */
    private int heldBack(String t) {
        int hold = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, t.length()); k > hold; k--) {
                if (t.regionMatches(t.length() - k, s, 0, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return hold;
    }

    /** Bytes up to the start of a trailing UTF-8 sequence that is still missing continuation bytes. */
    static int completePrefix(byte[] b) {
        int n = b.length;
        for (int back = 1; back <= Math.min(3, n); back++) {
            int c = b[n - back] & 0xff;
            if ((c & 0xc0) == 0x80) continue; // continuation byte: keep looking for the lead
            int need = c >= 0xf5 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }
}
