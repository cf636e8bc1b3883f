package io.gpt2j.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.gpt2j.generate.GenerationConfigException;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server: routes, auth, request ids, error bodies, metrics and one log line per request. The model loads
 * in the background after the port is open (liveness answers 503 until then). It holds no model math; generation
 * goes through {@link Service} and the {@link Scheduler}, classification through the {@link ClassificationQueue}.
 */
public final class GptServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("gpt2j.server");
    private static final Logger ACCESS = LoggerFactory.getLogger("gpt2j.access");
    private static final Set<String> OPEN_PATHS = Set.of("/", "/health/live", "/health/ready", "/playground");
    private static final String START = "gpt2j.start", ID = "gpt2j.request-id", FIELD = "gpt2j.log.";
    /** Access-log fields a route may add (context attribute {@code FIELD + name}), in this order. */
    private static final java.util.List<String> LOG_FIELDS = java.util.List.of("texts", "prompt_tokens", "completion_tokens");

    private final ServerSettings settings;
    private final Metrics metrics = new Metrics();
    private final Service service;
    private final Javalin app;
    private final byte[] apiKey;
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private volatile Throwable loadError;
    private volatile boolean closed;

    private GptServer(ServerSettings settings) {
        this.settings = settings;
        this.service = new Service(settings, metrics);
        this.apiKey = settings.apiKey() == null ? null : settings.apiKey().getBytes(StandardCharsets.UTF_8);
        metrics.gauges(() -> service.admission().queued(), () -> service.admission().running(),
                () -> service.isLoaded() ? service.host().kvTokens() : 0,
                () -> service.isLoaded() ? service.host().activeSequences() : 0);
        metrics.batches("decode", () -> scheduler(s -> s.batchCalls.get()), () -> scheduler(s -> s.batchRows.get()));
        metrics.batches("prefill", () -> scheduler(s -> s.prefillCalls.get()), () -> scheduler(s -> s.prefillRows.get()));
        metrics.batches("classify", () -> classification(q -> q.passes.get()), () -> classification(q -> q.texts.get()));
        ScoringApi scoring = new ScoringApi(service);
        OpenAiApi openai = new OpenAiApi(service);
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.startup.showOldJavalinVersionWarning = false;
            config.http.prefer405over404 = true;
            config.http.maxRequestSize = settings.maxBodyBytes();
            config.jetty.host = settings.host();
            config.jetty.port = settings.port();
            config.requestLogger.http(this::logRequest);
            config.router.handlerWrapper(e -> e.method != io.javalin.http.HandlerType.POST ? e.handler : ctx -> {
                ClientProbe probe = new ClientProbe(ctx); // lets the generation notice a client that hung up
                try {
                    ScopedValue.where(ClientProbe.CURRENT, probe).call(() -> {
                        e.handler.handle(ctx);
                        return null;
                    });
                } finally {
                    probe.beforeCommit();
                }
            });
            var r = config.routes;
            r.before(this::before);
            r.get("/", ctx -> live(ctx));
            r.get("/health/live", ctx -> live(ctx));
            r.get("/health/ready", this::ready);
            r.get("/swagger.json", ctx -> ctx.contentType("application/json").result(resource("swagger.json")));
            r.get("/playground", ctx -> ctx.contentType("text/html; charset=utf-8").result(resource("playground.html")));
            r.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
            r.post("/score", ctx -> json(ctx, scoring.score(body(ctx), (k, v) -> ctx.attribute(FIELD + k, v))));
            r.post("/v1/completions", ctx -> {
                service.host().requireGeneration("POST /v1/completions");
                openai.completions(ctx, body(ctx));
            });
            r.get("/v1/models", ctx -> json(ctx, openai.models()));
            r.get("/model-card", ctx -> json(ctx, openai.modelCard()));
            r.post("/tokenize", ctx -> json(ctx, openai.tokenize(body(ctx))));
            r.post("/detokenize", ctx -> json(ctx, openai.detokenize(body(ctx))));
            r.exception(ApiError.class, (e, ctx) -> error(ctx, e.status(), e.code(), e.getMessage(), null, e.headers()));
            r.exception(GenerationConfigException.class, (e, ctx) ->
                    error(ctx, 400, "invalid_parameter", e.getMessage(), e.field(), Map.of()));
            r.exception(Ticket.Cancelled.class, (e, ctx) -> {
                switch (e.reason) {
                    case TIMEOUT -> error(ctx, 408, "request_timeout", "the request did not finish within "
                            + settings.requestTimeoutMs() + " ms; its " + (service.isLoaded() && service.host().classifier() != null
                            ? "classification" : "generation") + " was cancelled", null, Map.of());
                    case SHUTDOWN -> error(ctx, 503, "shutting_down", "the server is shutting down", null, Map.of());
                    default -> error(ctx, 499, "client_closed_request", "the request was cancelled", null, Map.of());
                }
            });
            r.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), statusCode(e.getStatus()),
                    e.getStatus() == 404 ? "no route " + ctx.method() + " " + ctx.path()
                    : e.getStatus() == 405 ? "method " + ctx.method() + " is not allowed on " + ctx.path() : e.getMessage(), null, Map.of()));
            r.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, "invalid_request", e.getMessage(), null, Map.of()));
            r.exception(Exception.class, (e, ctx) -> {
                LOG.error("request {} failed", ctx.attribute(ID), e);
                error(ctx, 500, "internal_error", "internal error: " + e.getClass().getSimpleName(), null, Map.of());
            });
            r.error(404, ctx -> {
                if (!isJsonError(ctx)) error(ctx, 404, "not_found", "no route " + ctx.method() + " " + ctx.path(), null, Map.of());
            });
            r.error(405, ctx -> {
                if (!isJsonError(ctx)) error(ctx, 405, "method_not_allowed", "method " + ctx.method() + " is not allowed on " + ctx.path(), null, Map.of());
            });
        });
    }

    /**
     * Opens the port at once and loads the model in the background.
     *
     * @param loader builds the model host (called once, on a background thread)
     */
    public static GptServer start(ServerSettings settings, Supplier<ModelHost> loader) {
        GptServer s = new GptServer(settings);
        s.app.start();
        Thread.ofPlatform().name("gpt2j-loader").daemon(true).start(() -> {
            long t0 = System.nanoTime();
            try {
                ModelHost h = loader.get();
                if (s.closed) {
                    h.close();
                    return;
                }
                s.service.loaded(h);
                LOG.info("model {} loaded in {} ms", h.name(), (System.nanoTime() - t0) / 1_000_000);
            } catch (Throwable e) {
                s.loadError = e;
                LOG.error("model failed to load", e);
            }
        });
        return s;
    }

    public int port() {
        return app.port();
    }

    public boolean isLoaded() {
        return service.isLoaded();
    }

    /** Waits until the model is loaded; throws if loading failed or took longer than {@code millis}. */
    public void awaitLoaded(long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (!service.isLoaded()) {
            if (loadError != null) throw new IllegalStateException("model failed to load: " + loadError.getMessage(), loadError);
            if (System.currentTimeMillis() > end) throw new IllegalStateException("model not loaded after " + millis + " ms");
            Thread.sleep(10);
        }
    }

    ModelHost host() {
        return service.host();
    }

    private long scheduler(java.util.function.ToLongFunction<Scheduler> f) {
        Scheduler s = service.isLoaded() ? service.host().scheduler() : null;
        return s == null ? 0 : f.applyAsLong(s);
    }

    private long classification(java.util.function.ToLongFunction<ClassificationQueue> f) {
        ClassificationQueue q = service.isLoaded() ? service.host().classification() : null;
        return q == null ? 0 : f.applyAsLong(q);
    }

    Admission admission() {
        return service.admission();
    }

    /**
     * Graceful stop: readiness turns 503 and new generation requests are refused, running ones get up to the
     * shutdown grace period, then the port closes and the model is released.
     */
    public void shutdown() {
        if (closed) return;
        service.drain();
        long end = System.currentTimeMillis() + settings.shutdownGraceMs();
        try {
            while ((inFlight.get() > 0 || service.admission().running() + service.admission().queued() > 0)
                    && System.currentTimeMillis() < end) {
                Thread.sleep(20);
            }
            Thread.sleep(Math.min(200, Math.max(0, end - System.currentTimeMillis()))); // let the last responses flush
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        app.stop();
        if (service.isLoaded()) service.host().close();
        metrics.close();
    }

    private void before(Context ctx) {
        if (ctx.attribute(START) == null) inFlight.incrementAndGet();
        ctx.attribute(START, System.nanoTime());
        String id = ctx.header("x-ms-client-request-id");
        if (id == null || id.isBlank()) id = ctx.header("x-request-id");
        if (id == null || id.isBlank() || id.length() > 200) id = UUID.randomUUID().toString();
        ctx.attribute(ID, id);
        ctx.header("x-request-id", id);
        if (ctx.header("x-ms-client-request-id") != null) ctx.header("x-ms-client-request-id", id);
        if (apiKey != null && !OPEN_PATHS.contains(ctx.path())) {
            String auth = ctx.header("Authorization");
            byte[] given = auth != null && auth.startsWith("Bearer ") ? auth.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
            if (!MessageDigest.isEqual(given, apiKey)) {
                throw new ApiError(401, "unauthorized", "missing or wrong API key: send 'Authorization: Bearer <key>'",
                        Map.of("WWW-Authenticate", "Bearer"));
            }
        }
    }

    private void live(Context ctx) {
        if (loadError != null) {
            error(ctx, 503, "model_load_failed", "the model failed to load: " + loadError.getMessage(), null, Map.of());
        } else if (!service.isLoaded()) {
            error(ctx, 503, "model_loading", "the model is still loading", null, Map.of("Retry-After", "2"));
        } else {
            json(ctx, Map.of("status", "ok", "model", service.host().name()));
        }
    }

    private void ready(Context ctx) {
        if (!service.isLoaded() || service.isDraining()) {
            error(ctx, 503, service.isDraining() ? "shutting_down" : "model_loading", "not ready", null, Map.of());
        } else {
            json(ctx, Map.of("status", "ready", "model", service.host().name()));
        }
    }

    private JsonNode body(Context ctx) {
        if (service.isDraining()) throw new ApiError(503, "shutting_down", "the server is shutting down");
        return Bodies.object(ctx, settings.maxBodyBytes());
    }

    static void json(Context ctx, Object body) {
        ctx.contentType("application/json").result(Bodies.write(body));
    }

    private static boolean isJsonError(Context ctx) {
        String ct = ctx.res().getContentType();
        return ct != null && ct.startsWith("application/json") && ctx.attribute("gpt2j.error") != null;
    }

    private static void error(Context ctx, int status, String code, String message, String param, Map<String, String> headers) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("code", code);
        e.put("message", message);
        if (param != null) e.put("param", param);
        headers.forEach(ctx::header);
        ctx.attribute("gpt2j.error", code);
        ctx.status(status);
        json(ctx, Map.of("error", e));
    }

    private static String statusCode(int status) {
        return switch (status) {
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 413 -> "body_too_large";
            default -> "http_" + status;
        };
    }

    private void logRequest(Context ctx, Float ms) {
        String route;
        try {
            route = ctx.endpoint().path;
            if (route.equals("*")) route = "unmatched";
        } catch (RuntimeException e) {
            route = "unmatched";
        }
        int status = ctx.res().getStatus();
        Long start = ctx.attribute(START);
        if (start != null) inFlight.decrementAndGet();
        long nanos = start == null ? (long) (ms * 1e6) : System.nanoTime() - start;
        metrics.request(route, ctx.method().name(), status, nanos);
        ACCESS.info("{}", Bodies.write(accessLine(ctx, route, status, nanos)));
    }

    private static Map<String, Object> accessLine(Context ctx, String route, int status, long nanos) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("request_id", ctx.attribute(ID));
        m.put("method", ctx.method().name());
        m.put("path", ctx.path());
        m.put("route", route);
        m.put("status", status);
        m.put("ms", Math.round(nanos / 1e4) / 100.0);
        Object err = ctx.attribute("gpt2j.error");
        if (err != null) m.put("error", err);
        Object tokens = ctx.attribute("gpt2j.tokens");
        if (tokens != null) m.put("completion_tokens", tokens);
        for (String f : LOG_FIELDS) {
            Object v = ctx.attribute(FIELD + f);
            if (v != null) m.put(f, v);
        }
        m.put("remote", ctx.ip());
        return m;
    }

    private static byte[] resource(String name) {
        try (InputStream in = GptServer.class.getResourceAsStream("/io/gpt2j/server/" + name)) {
            if (in == null) throw new IllegalStateException("resource " + name + " is missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
