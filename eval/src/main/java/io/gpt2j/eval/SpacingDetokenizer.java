package io.gpt2j.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A line-by-line de-tokenizer driven by a {@link Style}: which word tokens attach to the previous or next word,
 * which infix tokens (WikiText's {@code @-@}) become glued characters, how quotes are written, how lines are
 * padded. Re-tokenizing peels the same tokens off whitespace-separated chunks. No I/O, no model.
 */
public final class SpacingDetokenizer implements Detokenizer {
    /**
     * @param attachLeft   tokens written without a space before them (longest first when peeling)
     * @param attachRight  tokens written without a space after them
     * @param infix        tokenized infix (" @-@ ") → glued form ("-"); re-tokenized only between word characters
     * @param openQuote    tokenized opening quote ("``" or "\""); null when quotes are not handled
     * @param closeQuote   tokenized closing quote ("''" or "\"")
     * @param padLines     lines are stored as " words " (blank lines " "), as in WikiText and PTB
     * @param headings     WikiText's "= = title = =" headings become "== title =="
     * @param lowercased   the source is lower-cased; de-tokenizing capitalizes sentence starts and " i " (undone by
     *                     lower-casing, so it stays invertible, but it cannot restore proper nouns)
     * @param keepDots     words whose final '.' belongs to them (abbreviations) and must not be peeled
     */
    public record Style(String name, List<String> attachLeft, Set<String> attachRight, Map<String, String> infix,
                        String openQuote, String closeQuote, boolean padLines, boolean headings, boolean lowercased,
                        Set<String> keepDots, String invertibility) {
    }

    private final Style style;

    public SpacingDetokenizer(Style style) {
        this.style = style;
    }

    public Style style() {
        return style;
    }

    @Override
    public String name() {
        return style.name();
    }

    @Override
    public String invertibility() {
        return style.invertibility();
    }

    @Override
    public String detokenize(String text) {
        return perLine(text, true);
    }

    @Override
    public String retokenize(String text) {
        return perLine(text, false);
    }

    private String perLine(String text, boolean detok) {
        StringBuilder out = new StringBuilder(text.length());
        int start = 0;
        while (start <= text.length()) {
            int nl = text.indexOf('\n', start);
            String line = nl < 0 ? text.substring(start) : text.substring(start, nl);
            if (nl < 0 && line.isEmpty() && start > 0) break; // text ends with '\n'
            out.append(detok ? detokLine(line) : retokLine(line));
            if (nl < 0) break;
            out.append('\n');
            start = nl + 1;
        }
        return out.toString();
    }

    // ---- de-tokenize ------------------------------------------------------------------------------------------

    String detokLine(String line) {
        String body = line;
        if (style.padLines()) {
            if (body.equals(" ")) return "";
            if (body.length() >= 2 && body.startsWith(" ") && body.endsWith(" ")) body = body.substring(1, body.length() - 1);
            else return line; // not in the padded form: leave untouched (and so invertible)
        }
        if (body.isEmpty()) return body;
        String[] toks = body.split(" ", -1);
        if (style.headings() && isHeading(toks)) return heading(toks);
        return detokTokens(toks);
    }

    private String detokTokens(String[] toks) {
        StringBuilder sb = new StringBuilder();
        boolean glue = true, quoteOpen = false, sentenceStart = true;
        for (String tok : toks) {
            String t = tok;
            boolean left = false, right = false;
            if (style.infix().containsKey(tok)) {
                t = style.infix().get(tok);
                left = right = true;
            } else if (style.openQuote() != null && tok.equals(style.openQuote()) && (!quoteOpen || !tok.equals(style.closeQuote()))) {
                t = "\"";
                right = true;
                quoteOpen = true;
            } else if (style.closeQuote() != null && tok.equals(style.closeQuote())) {
                t = "\"";
                left = true;
                quoteOpen = false;
            } else {
                left = style.attachLeft().contains(tok);
                right = style.attachRight().contains(tok);
            }
            if (style.lowercased()) {
                if (t.equals("i") || t.startsWith("i'")) t = "I" + t.substring(1);
                else if (sentenceStart && !t.isEmpty() && Character.isLetter(t.charAt(0))) t = Character.toUpperCase(t.charAt(0)) + t.substring(1);
                if (!t.isEmpty() && Character.isLetterOrDigit(t.charAt(0))) sentenceStart = false;
                if (t.equals(".") || t.equals("!") || t.equals("?")) sentenceStart = true;
            }
            if (!glue && !left) sb.append(' ');
            sb.append(t);
            glue = right;
        }
        return sb.toString();
    }

    private static boolean isHeading(String[] toks) {
        if (toks.length < 3 || !toks[0].equals("=")) return false;
        int lead = 0;
        while (lead < toks.length && toks[lead].equals("=")) lead++;
        int trail = 0;
        while (trail < toks.length && toks[toks.length - 1 - trail].equals("=")) trail++;
        return lead == trail && lead + trail < toks.length;
    }

    private String heading(String[] toks) {
        int lead = 0;
        while (toks[lead].equals("=")) lead++;
        String marks = "=".repeat(lead);
        return marks + " " + detokTokens(java.util.Arrays.copyOfRange(toks, lead, toks.length - lead)) + " " + marks;
    }

    // ---- re-tokenize ------------------------------------------------------------------------------------------

    String retokLine(String line) {
        if (style.padLines()) {
            if (line.isEmpty()) return " ";
            if (line.startsWith(" ") || line.endsWith(" ")) return line; // was left untouched by detokLine
        }
        if (line.isEmpty()) return line;
        String body = style.lowercased() ? line.toLowerCase(Locale.ROOT) : line;
        String out;
        if (style.headings() && body.matches("(=+) .* \\1")) {
            int lead = body.indexOf(' ');
            String marks = " =".repeat(lead).substring(1);
            out = marks + " " + retokTokens(body.substring(lead + 1, body.length() - lead - 1)) + " " + marks;
        } else {
            out = retokTokens(body);
        }
        return style.padLines() ? " " + out + " " : out;
    }

    private String retokTokens(String body) {
        List<String> toks = new ArrayList<>();
        boolean[] quoteOpen = {false};
        for (String chunk : body.split(" ", -1)) peel(chunk, toks, quoteOpen);
        return String.join(" ", toks);
    }

    private void peel(String chunk, List<String> out, boolean[] quoteOpen) {
        List<String> suffix = new ArrayList<>();
        String c = chunk;
        boolean changed = true;
        while (changed && c.length() > 1) {
            changed = false;
            if (c.startsWith("\"") && style.openQuote() != null) {
                out.add(style.openQuote());
                quoteOpen[0] = true;
                c = c.substring(1);
                changed = true;
                continue;
            }
            for (String r : style.attachRight()) {
                if (c.length() > r.length() && c.startsWith(r)) {
                    out.add(r);
                    c = c.substring(r.length());
                    changed = true;
                    break;
                }
            }
        }
        changed = true;
        while (changed && c.length() > 1) {
            changed = false;
            if (c.endsWith("\"") && style.closeQuote() != null) {
                suffix.addFirst(style.closeQuote());
                quoteOpen[0] = false;
                c = c.substring(0, c.length() - 1);
                changed = true;
                continue;
            }
            if (c.endsWith(".") && keepsDot(c)) break;
            if (c.equals("...") || c.equals("..") || c.equals("--")) break;
            for (String l : style.attachLeft()) {
                if (c.length() > l.length() && c.endsWith(l)) {
                    suffix.addFirst(l);
                    c = c.substring(0, c.length() - l.length());
                    changed = true;
                    break;
                }
            }
        }
        if (c.equals("\"") && style.openQuote() != null) {
            c = quoteOpen[0] ? style.closeQuote() : style.openQuote();
            quoteOpen[0] = !quoteOpen[0];
        }
        out.addAll(infixSplit(c));
        out.addAll(suffix);
    }

    private boolean keepsDot(String c) {
        if (style.keepDots().contains(c)) return true;
        // initials and dotted abbreviations: "U.S.", "J.", "e.g."; a doubled dot ("U.S..") still peels one
        return (c.matches("(\\p{L}\\.){2,}") || c.matches("\\p{Lu}\\.")) && !c.endsWith("..");
    }

    private List<String> infixSplit(String c) {
        List<String> parts = new ArrayList<>();
        if (style.infix().isEmpty() || c.length() < 3) {
            parts.add(c);
            return parts;
        }
        int from = 0;
        for (int i = 1; i < c.length() - 1; i++) {
            char ch = c.charAt(i);
            String glued = String.valueOf(ch);
            String tok = infixToken(glued);
            if (tok == null) continue;
            boolean before = wordChar(c.charAt(i - 1)), after = wordChar(c.charAt(i + 1));
            if (ch == '.' && !(Character.isDigit(c.charAt(i + 1)) || c.charAt(i + 1) == '<')) continue;
            if (before && after) {
                parts.add(c.substring(from, i));
                parts.add(tok);
                from = i + 1;
            }
        }
        parts.add(c.substring(from));
        return parts;
    }

    private String infixToken(String glued) {
        for (Map.Entry<String, String> e : style.infix().entrySet()) if (e.getValue().equals(glued)) return e.getKey();
        return null;
    }

    private static boolean wordChar(char ch) {
        return Character.isLetterOrDigit(ch) || ch == '<' || ch == '>';
    }
}
