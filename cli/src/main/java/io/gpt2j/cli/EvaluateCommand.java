package io.gpt2j.cli;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import io.gpt2j.eval.LmEvaluation;
import io.gpt2j.eval.ReportFormat;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gpt2j evaluate ...}: wiring for the eval module (language-modelling benchmarks, generation metrics). */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Evaluate a checkpoint: language-modelling benchmarks of the GPT-2 paper, generation metrics, fine-tuned classifiers.")
final class EvaluateCommand implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new EvaluateCommand());
        cl.addSubcommand(new Lm());
        cl.addSubcommand(new EvaluateGenerationCommand());
        cl.addSubcommand(new EvaluateClassificationCommand.Text());
        cl.addSubcommand(new EvaluateClassificationCommand.Tokens());
        return cl;
    }

    @Command(name = "lm", mixinStandardHelpOptions = true, showDefaultValues = true,
            description = "Zero-shot language-modelling benchmark: sliding-window perplexity, word perplexity, bits per "
                    + "byte, LAMBADA accuracy/perplexity, CBT accuracy. JSON report to --output (table on stdout) or stdout (table on stderr).")
    static final class Lm implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--model", required = true, description = "Hugging Face GPT-2 directory")
        Path model;
        @Option(names = "--task", required = true, description = "wikitext-2, wikitext-103, ptb, lambada, cbt-cn, cbt-ne, enwik8, text8, 1bw, text")
        String task;
        @Option(names = "--data", required = true, description = "data file (LAMBADA: OpenAI .jsonl or one passage per line; CBT: cbtest_*.txt)")
        Path data;
        @Option(names = "--max-length", defaultValue = "0", description = "window length in tokens (0 = the model's n_positions)")
        int maxLength;
        @Option(names = "--stride", defaultValue = "0", description = "window stride (0 = max-length / 2; max-length = non-overlapping windows)")
        int stride;
        @Option(names = "--detokenize", description = "apply the task's invertible de-tokenizer first")
        boolean detokenize;
        @Option(names = "--batch-size", defaultValue = "0", description = "windows or passages per forward (0 = automatic, ~256 MB of logits)")
        int batchSize;
        @Option(names = "--threads", description = "worker threads (default: all available processors)")
        Integer threads;
        @Option(names = "--output", description = "write the JSON report here instead of stdout")
        Path output;
        @Option(names = "--report-html", description = "also write an HTML page with the paper's Table 3 beside our row")
        Path reportHtml;
        @Option(names = "--quiet", description = "no progress on stderr")
        boolean quiet;
        @Option(names = "--windows", description = "include every window's begin/end/trg_len/n_scored/nll in the JSON (perplexity tasks)")
        boolean windows;

        @Override
        public Integer call() throws IOException {
            LmEvaluation.Settings s = new LmEvaluation.Settings(task, data, maxLength, stride, detokenize, batchSize, windows);
            if (!Files.isRegularFile(data)) throw new IllegalArgumentException("--data " + data + " is not a file");
            int th = threads == null ? Parallel.defaultThreads() : threads;
            PrintWriter err = spec.commandLine().getErr();
            try (LoadedCheckpoint ck = HfCheckpoint.load(model); Parallel pool = new Parallel(th)) {
                Gpt2 gpt = new Gpt2(ck.config(), ck.weights(), pool);
                Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(model);
                Map<String, Object> report = new java.util.LinkedHashMap<>();
                report.put("model_dir", model.toString());
                try (EvalProgress progress = EvalProgress.forRun(err, String.valueOf(task), quiet)) {
                    report.putAll(LmEvaluation.run(gpt, tok, s, progress));
                }
                String json = Json.write(report);
                if (output != null) Files.writeString(output, json + "\n", StandardCharsets.UTF_8);
                else spec.commandLine().getOut().println(json);
                if (reportHtml != null) Files.writeString(reportHtml, ReportFormat.html(List.of(report)), StandardCharsets.UTF_8);
                PrintWriter tableOut = output != null ? spec.commandLine().getOut() : err; // keep stdout pure JSON
                tableOut.print(ReportFormat.table(report));
                tableOut.flush();
            }
            return 0;
        }
    }
}
