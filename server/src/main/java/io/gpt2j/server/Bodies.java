package io.gpt2j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Request bodies: bounded reading, strict UTF-8, JSON parsing and typed field access with 400s that name the field. */
final class Bodies {
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Bodies() {
    }

    /** The body as a JSON object; 413 above {@code max} bytes, 400 for invalid UTF-8 or JSON or a non-object. */
    static JsonNode object(Context ctx, long max) {
        byte[] bytes = read(ctx, max);
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
        } catch (CharacterCodingException e) {
            throw ApiError.badRequest("invalid_utf8", "the request body is not valid UTF-8");
        }
        JsonNode node;
        try {
            node = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("invalid_json", "the request body is not valid JSON: "
                    + e.getOriginalMessage().replaceAll("\\s*\\(start marker at .*$", "") + " (line "
                    + (e.getLocation() == null ? "?" : e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr()) + ")");
        } catch (IOException e) {
            throw ApiError.badRequest("invalid_json", "cannot read the request body: " + e.getMessage());
        }
        if (node == null || !node.isObject()) {
            throw ApiError.badRequest("invalid_request", "the request body must be a JSON object");
        }
        return node;
    }

    static byte[] read(Context ctx, long max) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > max) throw tooLarge(max);
        try (InputStream in = ctx.req().getInputStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            long total = 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                total += n;
                if (total > max) throw tooLarge(max);
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw ApiError.badRequest("invalid_request", "cannot read the request body: " + e.getMessage());
        }
    }

    private static ApiError tooLarge(long max) {
        return new ApiError(413, "body_too_large", "the request body exceeds the limit of " + max + " bytes");
    }

    /** Refuses keys of {@code node} outside {@code allowed}. */
    static void onlyKeys(JsonNode node, Set<String> allowed, String where) {
        for (var it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw ApiError.badRequest("unknown_field", "unknown field '" + k + "' in " + where + "; expected one of "
                        + new java.util.TreeSet<>(allowed));
            }
        }
    }

    /** A string or a list of strings, non-empty, no empty string. */
    static List<String> prompts(JsonNode node, String field, int maxPrompts) {
        if (node == null || node.isNull()) throw ApiError.badRequest("missing_field", "missing field '" + field + "'");
        List<String> out = new ArrayList<>();
        if (node.isTextual()) {
            out.add(node.asText());
        } else if (node.isArray()) {
            for (JsonNode e : node) {
                if (!e.isTextual()) {
                    throw ApiError.badRequest("invalid_type", "field '" + field + "' must be a string or a list of strings; found "
                            + e.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + abbreviate(e.toString()));
                }
                out.add(e.asText());
            }
        } else {
            throw ApiError.badRequest("invalid_type", "field '" + field + "' must be a string or a list of strings, got "
                    + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (out.isEmpty()) throw ApiError.badRequest("empty_input", "field '" + field + "' is an empty list: give at least one prompt");
        if (out.size() > maxPrompts) {
            throw ApiError.badRequest("too_many_prompts", field + " has " + out.size() + " prompts; this server accepts at most " + maxPrompts);
        }
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).isEmpty()) throw ApiError.badRequest("empty_prompt", field + "[" + i + "] is an empty string: a prompt needs at least one token");
        }
        return out;
    }

    /** A JSON object as a map of plain Java values (null node: empty map); 400 when it is not an object. */
    static Map<String, Object> map(JsonNode node, String field) {
        if (node == null || node.isNull()) return new LinkedHashMap<>();
        if (!node.isObject()) {
            throw ApiError.badRequest("invalid_type", "field '" + field + "' must be an object, got "
                    + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        }
        @SuppressWarnings("unchecked") Map<String, Object> m = JSON.convertValue(node, LinkedHashMap.class);
        return m;
    }

    static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    static String write(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a response", e);
        }
    }
}
