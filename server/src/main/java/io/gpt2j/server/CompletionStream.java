package io.gpt2j.server;

import io.gpt2j.generate.GeneratedSequence;
import io.gpt2j.generate.GenerationConfig;
import io.gpt2j.generate.GenerationListener;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One streamed /v1/completions response: OpenAI's text_completion chunks as server-sent events, ending in
 * {@code data: [DONE]}. A failed write (client gone) cancels the generation at once. Errors before the first
 * event become ordinary JSON error responses; later ones become an error event.
 */
final class CompletionStream {
    private final Context ctx;
    private final String id, model;
    private final long created = System.currentTimeMillis() / 1000;
    private final ClientProbe client = ClientProbe.current();
    private OutputStream out;
    private int completionTokens;

    CompletionStream(Context ctx, String id, String model) {
        this.ctx = ctx;
        this.id = id;
        this.model = model;
    }

    void run(Service service, List<int[]> prompts, List<String> texts, int n, boolean echo, boolean generate,
             boolean includeUsage, GenerationConfig config) {
        ctx.res().setStatus(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        try {
            if (echo) {
                for (int p = 0; p < prompts.size(); p++) {
                    for (int j = 0; j < n; j++) send(null, chunk(p * n + j, texts.get(p), null));
                }
            }
            if (generate) service.run(prompts, config, ticket -> listener(ticket, n));
            ctx.attribute("gpt2j.tokens", completionTokens);
            if (includeUsage) send(null, usage(prompts));
            send(null, "[DONE]");
        } catch (RuntimeException e) {
            if (!ctx.res().isCommitted()) {
                ctx.res().setContentType("application/json");
                throw e; // nothing sent yet: an ordinary JSON error response
            }
            boolean gone = e instanceof Ticket.Cancelled c && c.reason == Ticket.Reason.DISCONNECT;
            String code = e instanceof Ticket.Cancelled c ? c.reason.name().toLowerCase(Locale.ROOT) : "generation_failed";
            ctx.attribute("gpt2j.error", code);
            if (!gone) trySend(Map.of("error", Map.of("code", code.equals("timeout") ? "request_timeout" : code,
                    "message", String.valueOf(e.getMessage()))));
        }
    }

    private GenerationListener listener(Ticket ticket, int n) {
        return new GenerationListener() {
            @Override
            public void onText(int prompt, int sequence, String delta) {
                send(ticket, chunk(prompt * n + sequence, delta, null));
            }

            @Override
            public void onFinish(int prompt, int sequence, GeneratedSequence result) {
                synchronized (CompletionStream.this) {
                    completionTokens += result.tokenIds().length;
                }
                send(ticket, chunk(prompt * n + sequence, "", OpenAiApi.finishReason(result.finishReason())));
            }
        };
    }

    private Map<String, Object> chunk(int index, String text, String finish) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("text", text);
        c.put("index", index);
        c.put("logprobs", null);
        c.put("finish_reason", finish);
        Map<String, Object> m = header();
        m.put("choices", List.of(c));
        return m;
    }

    private Map<String, Object> usage(List<int[]> prompts) {
        int promptTokens = 0;
        for (int[] p : prompts) promptTokens += p.length;
        Map<String, Object> m = header();
        m.put("choices", List.of());
        m.put("usage", Map.of("prompt_tokens", promptTokens, "completion_tokens", completionTokens,
                "total_tokens", promptTokens + completionTokens));
        return m;
    }

    private Map<String, Object> header() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", "text_completion");
        m.put("created", created);
        m.put("model", model);
        return m;
    }

    /** Writes one event; on failure cancels the ticket (the client is gone) and stops the generation. */
    private synchronized void send(Ticket ticket, Object payload) {
        try {
            if (out == null) {
                if (client != null) client.beforeCommit(); // from now on a failed write tells that the client is gone
                out = ctx.res().getOutputStream();
            }
            String data = payload instanceof String s ? s : Bodies.write(payload);
            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            if (ticket != null) ticket.cancel(Ticket.Reason.DISCONNECT);
            throw new Ticket.Cancelled(Ticket.Reason.DISCONNECT);
        }
    }

    private void trySend(Object payload) {
        try {
            send(null, payload);
            send(null, "[DONE]");
        } catch (Ticket.Cancelled ignored) {
            // the client is gone
        }
    }
}
