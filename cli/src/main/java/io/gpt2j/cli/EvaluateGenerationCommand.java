package io.gpt2j.cli;

import io.gpt2j.core.io.Json;
import io.gpt2j.eval.metrics.Bleu;
import io.gpt2j.eval.metrics.GenerationEvaluation;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import io.gpt2j.eval.Scorer;
import io.gpt2j.generate.GenerationConfig;
import io.gpt2j.generate.Generator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpt2j evaluate generation}: BLEU / ROUGE / exact match / token F1 of predictions vs references; with --model it
 * generates the predictions from the rows' prompts first and adds each reference's perplexity given its prompt (wiring only).
 */
@Command(name = "generation", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Score generated texts -> BLEU-1..4, ROUGE-1/2/L/Lsum F1, exact match, token F1.",
                "Without --model: JSON lines {\"prediction\": ..., \"references\": [...]}.",
                "With --model: JSON lines {<prompt-key>: ..., <reference-key>: string or list}; generates each prediction",
                "(--generation-config, defaults from the checkpoint's generation_config.json) and reports the perplexity of",
                "the (first) reference given the prompt per row and its mean."})
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
    @Option(names = "--model", description = "generate the predictions with this Hugging Face GPT-2 directory")
    Path model;
    @Option(names = {"--prompt-key", "--prompt_key"}, defaultValue = "prompt", description = "prompt field (with --model)")
    String promptKey;
    @Option(names = {"--reference-key", "--reference_key"}, defaultValue = "reference", description = "reference field (with --model)")
    String referenceKey;
    @Option(names = "--generation-config", paramLabel = "JSON", description = "generation fields as a JSON object with "
            + "transformers' names, e.g. '{\"max_new_tokens\": 30, \"do_sample\": false}' (with --model)")
    String generationConfig;
    @Option(names = "--threads", description = "worker threads (with --model; default: all available processors)")
    Integer threads;

    @Override
    public Integer call() throws IOException {
        Bleu.Smoothing sm = switch (smoothing.toLowerCase(Locale.ROOT)) {
            case "none" -> Bleu.Smoothing.NONE;
            case "floor" -> Bleu.Smoothing.FLOOR;
            case "add-one", "add_one" -> Bleu.Smoothing.ADD_ONE;
            default -> throw new IllegalArgumentException("--smoothing must be none, floor or add-one, got '" + smoothing + "'");
        };
        String text = Files.readString(data, StandardCharsets.UTF_8);
        Map<String, Object> m;
        if (model == null) {
            if (generationConfig != null) throw new IllegalArgumentException("--generation-config needs --model");
            m = GenerationEvaluation.evaluate(GenerationEvaluation.parseJsonl(text), sm, lowercase);
        } else {
            m = generateAndEvaluate(text, sm);
        }
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

    /** Generates a prediction per row (one batch per row, so results equal a lone generate call) and scores it. */
    private Map<String, Object> generateAndEvaluate(String text, Bleu.Smoothing sm) {
        Map<String, Object> overrides = generationConfig == null ? Map.of() : Json.parseObject(generationConfig);
        List<Map<String, Object>> rows = new ArrayList<>();
        int line = 0;
        for (String l : text.split("\n")) {
            line++;
            if (l.isBlank()) continue;
            Map<String, Object> r = Json.parseObject(l);
            if (!(r.get(promptKey) instanceof String)) throw new IllegalArgumentException(data + ":" + line + ": \"" + promptKey + "\" must be a string");
            Object ref = r.get(referenceKey);
            if (!(ref instanceof String || ref instanceof List<?> list && !list.isEmpty())) {
                throw new IllegalArgumentException(data + ":" + line + ": \"" + referenceKey + "\" must be a string or a non-empty list");
            }
            r.put("_line", line);
            rows.add(r);
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(data + ": no rows");
        int th = threads == null ? Parallel.defaultThreads() : threads;
        try (LoadedCheckpoint ck = HfCheckpoint.load(model); Parallel pool = new Parallel(th)) {
            GenerationConfig cfg = GenerationConfig.fromMap(ck.generationConfig(), overrides);
            Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(model);
            Gpt2 gpt = new Gpt2(ck.config(), ck.weights(), pool);
            Generator gen = Generator.forGpt2(gpt, tok);
            Scorer scorer = new Scorer(gpt);
            List<GenerationEvaluation.Example> examples = new ArrayList<>();
            List<Object> perRow = new ArrayList<>();
            double pplSum = 0;
            for (Map<String, Object> r : rows) {
                String prompt = (String) r.get(promptKey);
                List<String> refs = new ArrayList<>();
                if (r.get(referenceKey) instanceof List<?> list) for (Object o : list) refs.add(String.valueOf(o));
                else refs.add((String) r.get(referenceKey));
                int[] p = tok.encode(prompt), ref = tok.encode(refs.get(0));
                if (p.length == 0 || ref.length == 0) throw new IllegalArgumentException(data + ":" + r.get("_line") + ": empty prompt or reference");
                String prediction = gen.generate(List.of(p), cfg).get(0).get(0).text();
                examples.add(new GenerationEvaluation.Example(prediction, refs));
                int[] all = new int[p.length + ref.length];
                System.arraycopy(p, 0, all, 0, p.length);
                System.arraycopy(ref, 0, all, p.length, ref.length);
                double nll = 0;
                for (double v : scorer.nlls(new int[][] {all}, new int[] {p.length})[0]) nll += v;
                double ppl = Math.exp(nll / ref.length);
                pplSum += ppl;
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("prompt", prompt);
                row.put("prediction", prediction);
                row.put("reference", refs.get(0));
                row.put("reference_perplexity", ppl);
                perRow.add(row);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model_dir", model.toString());
            m.putAll(GenerationEvaluation.evaluate(examples, sm, lowercase));
            m.put("reference_perplexity_mean", pplSum / rows.size());
            m.put("rows", perRow);
            return m;
        }
    }
}
