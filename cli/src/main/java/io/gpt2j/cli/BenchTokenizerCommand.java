package io.gpt2j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.gpt2j.bench.TokenizerBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Runs {@link TokenizerBench} (gpt2j vs JTokkit r50k_base, one thread) and prints its report. Wiring only. */
@Command(name = "bench-tokenizer", mixinStandardHelpOptions = true,
        description = "Encode throughput of gpt2j's tokenizer vs JTokkit r50k_base on one thread, after checking identical ids.")
public final class BenchTokenizerCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "tokenizer directory (GPT-2 vocabulary)")
    Path model;

    @Option(names = "--text", required = true, paramLabel = "FILE",
            description = "UTF-8 text to encode, e.g. tinyshakespeare's input.txt (the docs' figures use it)")
    Path text;

    @Option(names = "--min-mb", paramLabel = "MB", description = "repeat the text until it has at least MB megabytes (default: as is)")
    double minMb;

    @Option(names = "--warmup", description = "untimed rounds per tokenizer and mode (default: ${DEFAULT-VALUE})")
    int warmup = 5;

    @Option(names = "--rounds", description = "timed rounds per tokenizer and mode (default: ${DEFAULT-VALUE})")
    int rounds = 10;

    @Option(names = "--json", description = "print the result as one JSON object")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        TokenizerBench.Result r = TokenizerBench.run(new TokenizerBench.Options(model, text, minMb, warmup, rounds));
        spec.commandLine().getOut().println(json
                ? new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(r)
                : TokenizerBench.format(r));
        spec.commandLine().getOut().flush();
        return r.identicalIds() ? 0 : 1;
    }
}
