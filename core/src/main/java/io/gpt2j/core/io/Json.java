package io.gpt2j.core.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON reader/writer for the core module (which has no third-party dependencies):
 * config files, safetensors headers, vocab.json. Objects become LinkedHashMap, arrays ArrayList,
 * numbers Long (integral literals that fit) or Double, plus String, Boolean and null.
 */
public final class Json {
    private final String s;
    private int pos;

    private Json(String s) {
        this.s = s;
    }

    /** Parses one JSON value that must span the whole input (surrounding whitespace allowed). */
    public static Object parse(String text) {
        Json p = new Json(text);
        p.skipWs();
        Object v = p.value(0);
        p.skipWs();
        if (p.pos != text.length()) throw p.error("unexpected trailing characters");
        return v;
    }

    /** Parses a JSON object, failing with a clear message when the value is not an object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) throw new JsonException("expected a JSON object at the top level, found " + typeName(v));
        return (Map<String, Object>) v;
    }

    public static String typeName(Object v) {
        if (v == null) return "null";
        if (v instanceof Map) return "object";
        if (v instanceof List) return "array";
        if (v instanceof String) return "string";
        if (v instanceof Boolean) return "boolean";
        if (v instanceof Number) return "number";
        return v.getClass().getSimpleName();
    }

    /** Thrown on malformed JSON; the message gives the character offset. */
    public static final class JsonException extends RuntimeException {
        public JsonException(String message) {
            super(message);
        }
    }

    private JsonException error(String what) {
        int from = Math.max(0, pos - 20), to = Math.min(s.length(), pos + 20);
        return new JsonException("malformed JSON at offset " + pos + ": " + what + " near '"
                + s.substring(from, to).replace("\n", "\\n") + "'");
    }

    private void skipWs() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') pos++;
            else break;
        }
    }

    private Object value(int depth) {
        if (depth > 512) throw error("nesting too deep");
        if (pos >= s.length()) throw error("unexpected end of input");
        char c = s.charAt(pos);
        switch (c) {
            case '{': return object(depth);
            case '[': return array(depth);
            case '"': return string();
            case 't': literal("true"); return Boolean.TRUE;
            case 'f': literal("false"); return Boolean.FALSE;
            case 'n': literal("null"); return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) return number();
                throw error("unexpected character '" + c + "'");
        }
    }

    private void literal(String word) {
        if (!s.startsWith(word, pos)) throw error("expected " + word);
        pos += word.length();
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> m = new LinkedHashMap<>();
        pos++;
        skipWs();
        if (pos < s.length() && s.charAt(pos) == '}') {
            pos++;
            return m;
        }
        while (true) {
            skipWs();
            if (pos >= s.length() || s.charAt(pos) != '"') throw error("expected a string key");
            String key = string();
            skipWs();
            if (pos >= s.length() || s.charAt(pos) != ':') throw error("expected ':'");
            pos++;
            skipWs();
            if (m.containsKey(key)) throw error("duplicate key \"" + key + "\"");
            m.put(key, value(depth + 1));
            skipWs();
            if (pos >= s.length()) throw error("unterminated object");
            char c = s.charAt(pos++);
            if (c == '}') return m;
            if (c != ',') throw error("expected ',' or '}'");
        }
    }

    private List<Object> array(int depth) {
        List<Object> l = new ArrayList<>();
        pos++;
        skipWs();
        if (pos < s.length() && s.charAt(pos) == ']') {
            pos++;
            return l;
        }
        while (true) {
            skipWs();
            l.add(value(depth + 1));
            skipWs();
            if (pos >= s.length()) throw error("unterminated array");
            char c = s.charAt(pos++);
            if (c == ']') return l;
            if (c != ',') throw error("expected ',' or ']'");
        }
    }

    private String string() {
        pos++; // opening quote
        StringBuilder sb = null;
        int start = pos;
        while (true) {
            if (pos >= s.length()) throw error("unterminated string");
            char c = s.charAt(pos);
            if (c == '"') {
                String out = sb == null ? s.substring(start, pos) : sb.append(s, start, pos).toString();
                pos++;
                return out;
            }
            if (c < 0x20) throw error("control character in string");
            if (c == '\\') {
                if (sb == null) sb = new StringBuilder();
                sb.append(s, start, pos);
                pos++;
                if (pos >= s.length()) throw error("unterminated escape");
                char e = s.charAt(pos++);
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (pos + 4 > s.length()) throw error("short \\u escape");
                        int cp = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(s.charAt(pos + i), 16);
                            if (d < 0) throw error("bad hex digit in \\u escape");
                            cp = cp * 16 + d;
                        }
                        pos += 4;
                        sb.append((char) cp);
                    }
                    default -> throw error("bad escape \\" + e);
                }
                start = pos;
            } else {
                pos++;
            }
        }
    }

    private Object number() {
        int start = pos;
        if (s.charAt(pos) == '-') pos++;
        boolean integral = true;
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c >= '0' && c <= '9') pos++;
            else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                integral = false;
                pos++;
            } else break;
        }
        String t = s.substring(start, pos);
        try {
            if (integral) {
                if (t.length() < 19) return Long.parseLong(t);
                try {
                    return Long.parseLong(t);
                } catch (NumberFormatException ex) {
                    return Double.parseDouble(t);
                }
            }
            return Double.parseDouble(t);
        } catch (NumberFormatException ex) {
            pos = start;
            throw error("bad number '" + t + "'");
        }
    }

    // ---------------------------------------------------------------- writing

    /** Serializes maps, lists, strings, numbers, booleans, null, int[], long[], float[] as compact JSON. */
    public static String write(Object v) {
        StringBuilder sb = new StringBuilder();
        write(sb, v);
        return sb.toString();
    }

    public static void write(StringBuilder sb, Object v) {
        if (v == null) sb.append("null");
        else if (v instanceof String str) quote(sb, str);
        else if (v instanceof Boolean b) sb.append(b);
        else if (v instanceof Double d) sb.append(Double.isFinite(d) ? (d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString(d.longValue()) : Double.toString(d)) : "null");
        else if (v instanceof Float f) sb.append(Float.isFinite(f) ? Float.toString(f) : "null");
        else if (v instanceof Number n) sb.append(n);
        else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                quote(sb, String.valueOf(e.getKey()));
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(',');
                write(sb, l.get(i));
            }
            sb.append(']');
        } else if (v instanceof int[] a) {
            sb.append('[');
            for (int i = 0; i < a.length; i++) {
                if (i > 0) sb.append(',');
                sb.append(a[i]);
            }
            sb.append(']');
        } else if (v instanceof long[] a) {
            sb.append('[');
            for (int i = 0; i < a.length; i++) {
                if (i > 0) sb.append(',');
                sb.append(a[i]);
            }
            sb.append(']');
        } else if (v instanceof float[] a) {
            sb.append('[');
            for (int i = 0; i < a.length; i++) {
                if (i > 0) sb.append(',');
                sb.append(Float.isFinite(a[i]) ? Float.toString(a[i]) : "null");
            }
            sb.append(']');
        } else throw new IllegalArgumentException("cannot write " + v.getClass() + " as JSON");
    }

    public static void quote(StringBuilder sb, String str) {
        sb.append('"');
        for (int i = 0; i < str.length(); i++) {
            char c = str.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || (c >= 0xD800 && c <= 0xDFFF && !validSurrogateAt(str, i))) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    private static boolean validSurrogateAt(String str, int i) {
        char c = str.charAt(i);
        if (Character.isHighSurrogate(c)) return i + 1 < str.length() && Character.isLowSurrogate(str.charAt(i + 1));
        return i > 0 && Character.isHighSurrogate(str.charAt(i - 1));
    }
}
