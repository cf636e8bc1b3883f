package io.gpt2j.cli;

import io.gpt2j.core.io.Json;
import io.gpt2j.eval.metrics.Bleu;
import io.gpt2j.eval.metrics.GenerationEvaluation;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gpt2j evaluate generation}: BLEU / ROUGE / exact match / token F1 of predictions vs references (wiring only). */
@Command(name = "generation", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Score generated texts: JSON lines {\"prediction\": ..., \"references\": [...]} -> BLEU-1..4, "
                + "ROUGE-1/2/L/Lsum F1, exact match, token F1.")
final class EvaluateGenerationCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @Option(names = "--data", required = true, description = "JSONL file of predictions and references")
    Path data;
    @Option(names = "--smoothing", defaultValue = "none", description = "BLEU smoothing: none, floor, add-one")
    String smoothing;
    @Option(names = "--lowercase", description = "lower-case before BLEU (ROUGE always lower-cases)")
    boolean lowercase;
    @Option(names = "--output", description = "write the JSON report here instead of stdout")
    Path output;

    @Override
    public Integer call() throws IOException {
        Bleu.Smoothing sm = switch (smoothing.toLowerCase(Locale.ROOT)) {
            case "none" -> Bleu.Smoothing.NONE;
            case "floor" -> Bleu.Smoothing.FLOOR;
            case "add-one", "add_one" -> Bleu.Smoothing.ADD_ONE;
            default -> throw new IllegalArgumentException("--smoothing must be none, floor or add-one, got '" + smoothing + "'");
        };
        Map<String, Object> m = GenerationEvaluation.evaluate(
                GenerationEvaluation.parseJsonl(Files.readString(data, StandardCharsets.UTF_8)), sm, lowercase);
        String json = Json.write(m);
        PrintWriter out = spec.commandLine().getOut();
        if (output != null) {
            Files.writeString(output, json + "\n", StandardCharsets.UTF_8);
            for (Map.Entry<String, Object> e : m.entrySet()) out.printf(Locale.ROOT, "%-22s %s%n", e.getKey(), e.getValue());
        } else {
            out.println(json);
        }
        out.flush();
        return 0;
    }
}
