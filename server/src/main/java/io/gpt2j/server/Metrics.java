package io.gpt2j.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.function.Supplier;

/** Prometheus metrics of one server: requests by route and status, latency histograms, tokens, queue, batches, JVM. */
final class Metrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter tokens;
    private final JvmGcMetrics gc = new JvmGcMetrics();
    /** The suppliers behind function counters: Micrometer holds those weakly. */
    private final java.util.List<Supplier<Number>> held = new java.util.ArrayList<>();

    Metrics() {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        tokens = Counter.builder("gpt2j.tokens.generated").description("tokens generated (all sequences)").register(registry);
    }

    void gauges(Supplier<Number> queued, Supplier<Number> running, Supplier<Number> kvTokens, Supplier<Number> sequences) {
        Gauge.builder("gpt2j.requests.queued", () -> queued.get()).description("requests waiting for a slot").register(registry);
        Gauge.builder("gpt2j.requests.running", () -> running.get()).description("requests generating").register(registry);
        Gauge.builder("gpt2j.kv.tokens", () -> kvTokens.get()).description("cache positions reserved").register(registry);
        Gauge.builder("gpt2j.sequences.active", () -> sequences.get()).description("KV caches held by generating requests").register(registry);
    }

    /**
     * Batched forward passes of one kind (decode steps, prefill passes, classification passes) and the rows they
     * carried: rows / passes is the mean batch size.
     */
    void batches(String kind, Supplier<Number> passes, Supplier<Number> rows) {
        held.add(passes);
        held.add(rows);
        FunctionCounter.builder("gpt2j.batch.passes", passes, p -> p.get().doubleValue()).tag("kind", kind)
                .description("batched forward passes").register(registry);
        FunctionCounter.builder("gpt2j.batch.rows", rows, r -> r.get().doubleValue()).tag("kind", kind)
                .description("rows (sequences, prompts or texts) carried by batched forward passes").register(registry);
    }

    void request(String route, String method, int status, long nanos) {
        Timer.builder("gpt2j.http.requests").description("HTTP requests by route, method and status")
                .tag("route", route).tag("method", method).tag("status", Integer.toString(status))
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60)).register(registry).record(Duration.ofNanos(nanos));
    }

    void tokensGenerated(long n) {
        tokens.increment(n);
    }

    String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
