package io.gpt2j.server;

import io.gpt2j.generate.GeneratedSequence;
import io.gpt2j.generate.GenerationConfig;
import io.gpt2j.generate.GenerationConfigException;
import io.gpt2j.generate.GenerationListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * What the HTTP handlers share: the model (null while loading), the settings, admission control and metrics.
 * Turns request parameters into a validated GenerationConfig within the server's limits and runs prompts
 * through the scheduler, each prompt on its own virtual thread so that they batch with everything else. Every request
 * that uses the model (generation or classification) runs under {@link #admitted}.
 */
final class Service {
    private final ServerSettings settings;
    private final Admission admission;
    private final Metrics metrics;
    private volatile ModelHost host;
    private volatile boolean draining;

    Service(ServerSettings settings, Metrics metrics) {
        this.settings = settings;
        this.metrics = metrics;
        this.admission = new Admission(settings.maxConcurrentRequests());
    }

    ServerSettings settings() {
        return settings;
    }

    Admission admission() {
        return admission;
    }

    Metrics metrics() {
        return metrics;
    }

    void loaded(ModelHost h) {
        host = h;
    }

    boolean isLoaded() {
        return host != null;
    }

    void drain() {
        draining = true;
    }

    boolean isDraining() {
        return draining;
    }

    ModelHost host() {
        ModelHost h = host;
        if (h == null) throw new ApiError(503, "model_loading", "the model is still loading; retry shortly", Map.of("Retry-After", "2"));
        return h;
    }

    /** generation_config.json overridden by the request, within this server's limits. */
    GenerationConfig config(Map<String, Object> params) {
        ModelHost h = host();
        GenerationConfig c = GenerationConfig.fromMap(h.generationDefaults(), params);
        int ctx = h.contextLength();
        if (c.numReturnSequences() > settings.maxReturnSequences()) {
            throw new GenerationConfigException("num_return_sequences", "invalid num_return_sequences="
                    + c.numReturnSequences() + ": this server returns at most " + settings.maxReturnSequences() + " per prompt");
        }
        if (c.numBeams() > settings.maxReturnSequences()) {
            throw new GenerationConfigException("num_beams", "invalid num_beams=" + c.numBeams()
                    + ": this server allows at most " + settings.maxReturnSequences());
        }
        if (c.maxNewTokens() != null && c.maxNewTokens() > ctx) {
            throw new GenerationConfigException("max_new_tokens", "invalid max_new_tokens=" + c.maxNewTokens()
                    + ": the model's context is " + ctx + " positions, prompt included");
        }
        if (c.maxLength() != null && c.maxLength() > ctx + 1 && c.maxNewTokens() == null) {
            throw new GenerationConfigException("max_length", "invalid max_length=" + c.maxLength()
                    + ": the model's context is " + ctx + " positions");
        }
        return c;
    }

    int[] encode(String text) {
        int[] ids = host().tokenizer().encode(text);
        if (ids.length == 0) throw ApiError.badRequest("empty_prompt", "the prompt encodes to no tokens");
        return ids;
    }

    /** {@link #run(List, GenerationConfig, Function)} without streaming. */
    List<List<GeneratedSequence>> run(List<int[]> prompts, GenerationConfig config, GenerationListener listener) {
        return run(prompts, config, t -> listener);
    }

    /**
     * Generates for every prompt separately (same results as alone), concurrently, under one admission slot and one
     * deadline. The listener's prompt index is the position in {@code prompts}.
     */
    List<List<GeneratedSequence>> run(List<int[]> prompts, GenerationConfig config, Function<Ticket, GenerationListener> listeners) {
        ModelHost h = host();
        return admitted(ticket -> {
            GenerationListener listener = listeners.apply(ticket);
            List<List<GeneratedSequence>> out;
            if (prompts.size() == 1) {
                out = List.of(h.generate(ticket, prompts.get(0), config, listener));
            } else {
                out = parallel(h, ticket, prompts, config, listener);
            }
            long tokens = 0;
            for (List<GeneratedSequence> l : out) for (GeneratedSequence g : l) tokens += g.tokenIds().length;
            metrics.tokensGenerated(tokens);
            return out;
        });
    }

    /**
     * Runs {@code work} under one admission slot (429 beyond the queue) and one ticket: the request's deadline
     * (queueing included), cancellation and client probe, for generation and classification alike. The ticket is
     * closed, and everything it holds on the model's thread freed, however {@code work} ends.
     */
    <T> T admitted(Function<Ticket, T> work) {
        ModelHost h = host();
        if (draining) throw new ApiError(503, "shutting_down", "the server is shutting down");
        Ticket ticket = h.openTicket(System.nanoTime() + settings.requestTimeoutMs() * 1_000_000L);
        try (ticket; AutoCloseable slot = admission.enter(ticket)) {
            return work.apply(ticket);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<List<GeneratedSequence>> parallel(ModelHost h, Ticket ticket, List<int[]> prompts,
                                                         GenerationConfig config, GenerationListener listener) {
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<List<GeneratedSequence>>> fs = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                final int p = i;
                GenerationListener l = listener == null ? null : new GenerationListener() {
                    @Override
                    public void onText(int prompt, int sequence, String delta) {
                        listener.onText(p, sequence, delta);
                    }

                    @Override
                    public void onFinish(int prompt, int sequence, GeneratedSequence result) {
                        listener.onFinish(p, sequence, result);
                    }
                };
                fs.add(ex.submit(() -> h.generate(ticket, prompts.get(p), config, l)));
            }
            List<List<GeneratedSequence>> out = new ArrayList<>();
            for (Future<List<GeneratedSequence>> f : fs) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    ticket.cancel(Ticket.Reason.DISCONNECT);
                    if (e.getCause() instanceof RuntimeException re) throw re;
                    throw new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new Ticket.Cancelled(Ticket.Reason.SHUTDOWN);
                }
            }
            return out;
        }
    }
}
