package io.gpt2j.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import io.gpt2j.generate.FinishReason;
import io.gpt2j.generate.GeneratedSequence;
import io.gpt2j.generate.GenerationConfig;
import io.gpt2j.generate.GenerationListener;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * OpenAI-compatible legacy completions (POST /v1/completions, with server-sent events when stream is true),
 * GET /v1/models, and POST /tokenize, /detokenize. Parameters map onto transformers' generation fields; sampling
 * uses top_k = 0 because OpenAI has no top_k.
 */
final class OpenAiApi {
    private static final Set<String> FIELDS = Set.of("model", "prompt", "max_tokens", "temperature", "top_p", "n",
            "stop", "seed", "echo", "logprobs", "user", "stream", "presence_penalty", "frequency_penalty", "best_of",
            "stream_options");
    private final Service service;
    private final long created = System.currentTimeMillis() / 1000;

    OpenAiApi(Service service) {
        this.service = service;
    }

    Object models() {
        ModelHost h = service.host();
        return Map.of("object", "list", "data", List.of(Map.of("id", h.name(), "object", "model", "created", created,
                "owned_by", "gpt2j", "context_length", h.contextLength())));
    }

    Object modelCard() {
        ModelHost h = service.host();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", h.name());
        m.put("readme", h.modelCard());
        return m;
    }

    Object tokenize(JsonNode body) {
        Bodies.onlyKeys(body, Set.of("text", "model"), "the request");
        JsonNode t = body.get("text");
        if (t == null || !t.isTextual()) throw ApiError.badRequest("invalid_type", "field 'text' must be a string");
        int[] ids = service.host().tokenizer().encode(t.asText());
        return Map.of("tokens", ids, "count", ids.length);
    }

    Object detokenize(JsonNode body) {
        Bodies.onlyKeys(body, Set.of("tokens", "model"), "the request");
        int[] ids = tokenIds(body.get("tokens"), "tokens");
        return Map.of("text", service.host().tokenizer().decode(ids));
    }

    private int[] tokenIds(JsonNode n, String field) {
        if (n == null || !n.isArray()) throw ApiError.badRequest("invalid_type", "field '" + field + "' must be a list of token ids");
        int V = service.host().tokenizer().vocabSize();
        int[] ids = new int[n.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = n.get(i);
            if (!e.canConvertToInt() || !e.isIntegralNumber() || e.asInt() < 0 || e.asInt() >= V) {
                throw ApiError.badRequest("invalid_token", field + "[" + i + "] = " + Bodies.abbreviate(e.toString())
                        + " is not a token id in [0, " + V + ")");
            }
            ids[i] = e.asInt();
        }
        return ids;
    }

    /** A parsed completions request. */
    private record Request(List<int[]> prompts, List<String> promptTexts, int maxTokens, int n, boolean echo,
                           Integer logprobs, boolean stream, boolean includeUsage, GenerationConfig config) {
    }

    void completions(Context ctx, JsonNode body) {
        Request r = parse(body);
        String id = "cmpl-" + UUID.randomUUID().toString().replace("-", "");
        if (r.stream) {
            stream(ctx, r, id);
            return;
        }
        List<List<GeneratedSequence>> results = r.maxTokens == 0 ? null : service.run(r.prompts, r.config, (GenerationListener) null);
        List<Object> choices = new ArrayList<>();
        int promptTokens = 0, completionTokens = 0;
        for (int p = 0; p < r.prompts.size(); p++) {
            promptTokens += r.prompts.get(p).length;
            for (int j = 0; j < r.n; j++) {
                GeneratedSequence g = results == null ? null : results.get(p).get(j);
                int[] gen = g == null ? new int[0] : textTokens(g);
                completionTokens += g == null ? 0 : g.tokenIds().length;
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("text", (r.echo ? r.promptTexts.get(p) : "") + (g == null ? "" : g.text()));
                c.put("index", p * r.n + j);
                c.put("logprobs", r.logprobs == null ? null : logprobs(r.prompts.get(p), gen, r.echo, r.logprobs));
                c.put("finish_reason", g == null ? "length" : finishReason(g.finishReason()));
                choices.add(c);
            }
        }
        ctx.attribute("gpt2j.tokens", completionTokens);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", id);
        out.put("object", "text_completion");
        out.put("created", System.currentTimeMillis() / 1000);
        out.put("model", service.host().name());
        out.put("choices", choices);
        out.put("usage", Map.of("prompt_tokens", promptTokens, "completion_tokens", completionTokens,
                "total_tokens", promptTokens + completionTokens));
        GptServer.json(ctx, out);
    }

    static String finishReason(FinishReason f) {
        return f == FinishReason.EOS || f == FinishReason.STOP ? "stop" : "length";
    }

    /** The generated tokens that make up the text (the final eos is not part of it). */
    private static int[] textTokens(GeneratedSequence g) {
        int[] t = g.tokenIds();
        return g.finishReason() == FinishReason.EOS && t.length > 0 ? java.util.Arrays.copyOf(t, t.length - 1) : t;
    }

    private Request parse(JsonNode b) {
        Bodies.onlyKeys(b, FIELDS, "the request");
        ModelHost h = service.host();
        JsonNode model = b.get("model");
        if (model != null && !model.isNull() && !(model.isTextual() && model.asText().equals(h.name()))) {
            throw new ApiError(404, "model_not_found", "model " + Bodies.abbreviate(model.toString())
                    + " is not served here; this server serves '" + h.name() + "'");
        }
        List<int[]> prompts = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        parsePrompts(b.get("prompt"), prompts, texts);
        int maxTokens = intField(b, "max_tokens", 16, 0, h.contextLength());
        int n = intField(b, "n", 1, 1, service.settings().maxReturnSequences());
        double temperature = number(b, "temperature", 1.0, 0, 2);
        double topP = number(b, "top_p", 1.0, 0, 1);
        for (String f : List.of("presence_penalty", "frequency_penalty")) {
            if (number(b, f, 0, -2, 2) != 0) throw new ApiError(400, "unsupported_parameter", f + " is not supported (only 0)");
        }
        if (b.has("best_of") && intField(b, "best_of", n, 1, 100) != n) {
            throw new ApiError(400, "unsupported_parameter", "best_of other than n is not supported");
        }
        boolean echo = bool(b, "echo"), stream = bool(b, "stream");
        Integer logprobs = b.has("logprobs") && !b.get("logprobs").isNull() ? intField(b, "logprobs", 0, 0, 5) : null;
        if (stream && logprobs != null) throw new ApiError(400, "unsupported_parameter", "logprobs with stream is not supported");
        if (maxTokens == 0 && !echo) throw ApiError.badRequest("invalid_parameter", "max_tokens=0 needs echo=true (nothing to return otherwise)");
        JsonNode user = b.get("user");
        if (user != null && !user.isNull() && !user.isTextual()) throw ApiError.badRequest("invalid_type", "field 'user' must be a string");
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("max_new_tokens", Math.max(1, maxTokens));
        if (temperature > 0) {
            p.put("do_sample", true);
            p.put("temperature", temperature);
            p.put("top_k", 0);
            if (topP > 0) p.put("top_p", topP);
        } else {
            p.put("do_sample", false);
        }
        p.put("num_return_sequences", n);
        JsonNode stop = b.get("stop");
        if (stop != null && !stop.isNull()) p.put("stop_strings", Bodies.JSON.convertValue(stop, Object.class));
        JsonNode seed = b.get("seed");
        if (seed != null && !seed.isNull()) {
            if (!seed.isIntegralNumber() || !seed.canConvertToLong()) throw ApiError.badRequest("invalid_type", "field 'seed' must be an integer");
            p.put("seed", seed.asLong());
        }
        boolean includeUsage = false;
        JsonNode so = b.get("stream_options");
        if (so != null && !so.isNull()) {
            if (!so.isObject()) throw ApiError.badRequest("invalid_type", "field 'stream_options' must be an object");
            Bodies.onlyKeys(so, Set.of("include_usage"), "stream_options");
            includeUsage = bool(so, "include_usage");
        }
        GenerationConfig config = service.config(p);
        return new Request(prompts, texts, maxTokens, n, echo, logprobs, stream, includeUsage, config);
    }

    private void parsePrompts(JsonNode node, List<int[]> prompts, List<String> texts) {
        Gpt2Tokenizer tok = service.host().tokenizer();
        int maxPrompts = service.settings().maxPrompts();
        if (node == null || node.isNull()) throw ApiError.badRequest("missing_field", "missing field 'prompt'");
        if (node.isArray() && node.size() > 0 && node.get(0).isNumber()) {
            int[] ids = tokenIds(node, "prompt");
            prompts.add(ids);
            texts.add(tok.decode(ids));
        } else if (node.isArray() && node.size() > 0 && node.get(0).isArray()) {
            if (node.size() > maxPrompts) throw ApiError.badRequest("too_many_prompts", "at most " + maxPrompts + " prompts per request");
            for (int i = 0; i < node.size(); i++) {
                int[] ids = tokenIds(node.get(i), "prompt[" + i + "]");
                if (ids.length == 0) throw ApiError.badRequest("empty_prompt", "prompt[" + i + "] has no tokens");
                prompts.add(ids);
                texts.add(tok.decode(ids));
            }
        } else {
            for (String s : Bodies.prompts(node, "prompt", maxPrompts)) {
                prompts.add(service.encode(s));
                texts.add(s);
            }
        }
    }

    private static int intField(JsonNode b, String f, int def, int min, int max) {
        JsonNode v = b.get(f);
        if (v == null || v.isNull()) return def;
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw new ApiError(400, "invalid_parameter", "invalid " + f + "=" + Bodies.abbreviate(v.toString())
                    + ": expected an integer in [" + min + ", " + max + "]");
        }
        return v.asInt();
    }

    private static double number(JsonNode b, String f, double def, double min, double max) {
        JsonNode v = b.get(f);
        if (v == null || v.isNull()) return def;
        if (!v.isNumber() || v.asDouble() < min || v.asDouble() > max) {
            throw new ApiError(400, "invalid_parameter", "invalid " + f + "=" + Bodies.abbreviate(v.toString())
                    + ": expected a number in [" + min + ", " + max + "]");
        }
        return v.asDouble();
    }

    private static boolean bool(JsonNode b, String f) {
        JsonNode v = b.get(f);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw new ApiError(400, "invalid_parameter", "invalid " + f + "=" + Bodies.abbreviate(v.toString()) + ": expected true or false");
        return v.asBoolean();
    }

    /** OpenAI's logprobs object for the prompt (when echo) and the generated tokens. */
    private Map<String, Object> logprobs(int[] prompt, int[] gen, boolean echo, int top) {
        ModelHost h = service.host();
        int[] all = new int[prompt.length + gen.length];
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(gen, 0, all, prompt.length, gen.length);
        // under admission like generation: the slot limit (429), the deadline (408) and the client probe apply to
        // scoring requests (echo + max_tokens 0, what lm-evaluation-harness sends) too
        io.gpt2j.generate.TokenLogprobs lp = service.admitted(ticket -> h.scheduler().tokenLogprobs(ticket, all, top));
        int from = echo ? 0 : prompt.length;
        Gpt2Tokenizer tok = h.tokenizer();
        List<String> tokens = new ArrayList<>();
        List<Object> values = new ArrayList<>();
        List<Object> tops = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        int offset = 0;
        for (int i = from; i < all.length; i++) {
            String t = tok.decode(new int[]{all[i]});
            tokens.add(t);
            offsets.add(offset);
            offset += t.length();
            values.add(i == 0 ? null : (Object) lp.logprob()[i]);
            if (i == 0 || top == 0) {
                tops.add(null);
            } else {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int k = 0; k < top; k++) m.putIfAbsent(tok.decode(new int[]{lp.topIds()[i][k]}), lp.topLogprobs()[i][k]);
                tops.add(m);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("tokens", tokens);
        out.put("token_logprobs", values);
        out.put("top_logprobs", tops);
        out.put("text_offset", offsets);
        return out;
    }

    private void stream(Context ctx, Request r, String id) {
        new CompletionStream(ctx, id, service.host().name()).run(service, r.prompts, r.promptTexts, r.n, r.echo,
                r.maxTokens > 0, r.includeUsage, r.config);
    }
}
