package io.gpt2j.eval;

/**
 * Word counting for word-level perplexity (total NLL / words of the original, tokenized text). Words are
 * whitespace-separated tokens; with {@code eosPerLine} each line also counts one end-of-sentence token, the
 * convention behind WikiText's 245,569 and PTB's 82,430 test tokens. Pure text, no model.
 */
public final class WordCount {
    private WordCount() {
    }

    public static long words(String text) {
        long n = 0;
        boolean in = false;
        for (int i = 0; i < text.length(); i++) {
            boolean ws = Character.isWhitespace(text.charAt(i));
            if (!ws && !in) n++;
            in = !ws;
        }
        return n;
    }

    /** Lines as a word-level LM sees them: every '\n'-terminated line, plus a final unterminated one. */
    public static long lines(String text) {
        long n = 0;
        for (int i = 0; i < text.length(); i++) if (text.charAt(i) == '\n') n++;
        if (!text.isEmpty() && text.charAt(text.length() - 1) != '\n') n++;
        return n;
    }

    public static long count(String text, boolean eosPerLine) {
        return words(text) + (eosPerLine ? lines(text) : 0);
    }
}
