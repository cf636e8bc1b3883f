package io.gpt2j.cli;

import io.gpt2j.core.io.Json;
import io.gpt2j.server.GptServer;
import io.gpt2j.server.ModelHost;
import io.gpt2j.server.ServerBench;
import io.gpt2j.server.ServerSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gpt2j bench-server}: aggregate tokens/s of the HTTP server under N concurrent clients (wiring only). */
@Command(name = "bench-server", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Start the server on loopback and measure aggregate generated tokens/s for several client counts.",
                "Columns: rows/step = sequences per batched decode step, prompts/pf = prompts per prefill pass, decode s / "
                        + "prefill s = scheduler thread time in each, core tok/s = Gpt2.decodeBatch alone at batch = clients."})
final class BenchServerCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face GPT-2 directory")
    Path model;
    @Option(names = "--clients", split = ",", defaultValue = "1,4,16", description = "concurrent client counts")
    int[] clients;
    @Option(names = "--requests", defaultValue = "2", description = "requests per client")
    int requests;
    @Option(names = "--max-tokens", defaultValue = "64", description = "tokens per request (greedy)")
    int maxTokens;
    @Option(names = "--prompt", defaultValue = "The history of the city begins with", description = "prompt of every request")
    String prompt;
    @Option(names = "--threads", defaultValue = "0", description = "kernel worker threads, 0 = all processors")
    int threads;
    @Option(names = "--json", description = "print JSON lines")
    boolean json;

    @Override
    public Integer call() throws Exception {
        int max = 1;
        for (int c : clients) max = Math.max(max, c);
        ServerSettings s = new ServerSettings("127.0.0.1", 0, null, null, 600_000, max, 1 << 20, 1 << 20, 16, 32, 2000, 10_000, threads);
        try (GptServer server = GptServer.start(s, () -> ModelHost.load(model, s))) {
            server.awaitLoaded(600_000);
            List<ServerBench.Result> rs = ServerBench.run(server, clients, requests, maxTokens, prompt);
            if (!json) System.out.printf("%7s %8s %7s %8s %9s %10s %9s %11s %8s %9s %10s%n", "clients", "requests", "tokens", "seconds",
                    "tokens/s", "latency ms", "rows/step", "prompts/pf", "decode s", "prefill s", "core tok/s");
            for (ServerBench.Result r : rs) {
                if (json) System.out.println(Json.write(r.toMap()));
                else System.out.printf("%7d %8d %7d %8.2f %9.1f %10.0f %9.2f %11.2f %8.2f %9.2f %10.1f%n", r.clients(), r.requests(),
                        r.completionTokens(), r.seconds(), r.tokensPerSecond(), r.meanLatencyMs(), r.rowsPerDecodeCall(),
                        r.promptsPerPrefill(), r.decodeSeconds(), r.prefillSeconds(), r.coreTokensPerSecond());
            }
        }
        return 0;
    }
}
