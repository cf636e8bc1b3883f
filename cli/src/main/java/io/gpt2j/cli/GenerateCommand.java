package io.gpt2j.cli;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.io.DType;
import io.gpt2j.core.model.KvDtype;
import io.gpt2j.core.model.WeightConversion;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import io.gpt2j.generate.GeneratedSequence;
import io.gpt2j.generate.GenerationConfig;
import io.gpt2j.generate.GenerationListener;
import io.gpt2j.generate.Generator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gpt2j generate}: every transformers GenerationConfig field as a flag (built from the generate module's
 * field list, so the two never drift), streaming for a single sequence, JSON lines with --json. Wiring only.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate text with transformers' generate() semantics.",
                "Generation flags are transformers' GenerationConfig fields in kebab-case (--max-new-tokens, --top-p, ...);",
                "their defaults come from the checkpoint's generation_config.json, then transformers' own defaults.",
                "Booleans take an optional value (--do-sample, --do-sample false); list-valued fields take JSON",
                "(--bad-words-ids '[[13],[7,9]]', --eos-token-id '[50256,13]', --stop-strings '[\".\",\"\\n\"]')."})
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face GPT-2 directory")
    Path model;
    @Option(names = "--json", description = "print one JSON object per prompt instead of streaming text")
    boolean json;
    @Option(names = "--threads", description = "worker threads (default: all available processors)")
    Integer threads;
    @Option(names = "--kv-dtype", defaultValue = "f32", description = "KV-cache storage: f32 (exact) or f16 (half the cache bytes; default f32)")
    String kvDtype;
    @Option(names = "--dtype", description = "convert the matmul weights to f32, f16, bf16 or q8_0 at load (default: as stored; "
            + "gpt2j quantize writes such a checkpoint once, to be memory-mapped)")
    String dtype;
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(arity = "1..*", paramLabel = "PROMPT", description = "one or more prompts (run together as one left-padded batch)")
    List<String> prompts;

    /** Raw flag values by transformers field name, filled by the generated options. */
    final Map<String, String> fields = new LinkedHashMap<>();

    /** transformers' documented defaults, shown in --help (the checkpoint's generation_config.json may override). */
    private static final Map<String, String> DEFAULTS = Map.ofEntries(
            Map.entry("max_length", "20 (counts the prompt)"), Map.entry("min_length", "0"), Map.entry("do_sample", "false"),
            Map.entry("num_beams", "1"), Map.entry("num_beam_groups", "1"), Map.entry("diversity_penalty", "0.0"),
            Map.entry("temperature", "1.0"), Map.entry("top_k", "50"), Map.entry("top_p", "1.0"), Map.entry("typical_p", "1.0"),
            Map.entry("epsilon_cutoff", "0.0"), Map.entry("eta_cutoff", "0.0"), Map.entry("repetition_penalty", "1.0"),
            Map.entry("no_repeat_ngram_size", "0"), Map.entry("length_penalty", "1.0"), Map.entry("early_stopping", "false"),
            Map.entry("num_return_sequences", "1"), Map.entry("renormalize_logits", "false"), Map.entry("prompt_overflow", "error"));
    private static final java.util.Set<String> BOOLEANS = java.util.Set.of("do_sample", "renormalize_logits", "early_stopping");

    /** The command line with one option per generation field. */
    static CommandLine commandLine() {
        GenerateCommand cmd = new GenerateCommand();
        CommandLine cl = new CommandLine(cmd);
        for (String field : GenerationConfig.fieldNames()) {
            String flag = "--" + field.replace('_', '-');
            String def = DEFAULTS.getOrDefault(field, "unset");
            OptionSpec.Builder b = OptionSpec.builder(flag).paramLabel(BOOLEANS.contains(field) ? "BOOL" : "VALUE")
                    .description("transformers' " + field + " (default: " + def + ")")
                    .setter(new CommandLine.Model.ISetter() {
                        @Override
                        public <T> T set(T value) {
                            if (value != null) cmd.fields.put(field, value.toString());
                            return null;
                        }
                    });
            if (BOOLEANS.contains(field)) b.arity("0..1").fallbackValue("true");
            else b.arity("1");
            cl.getCommandSpec().addOption(b.build());
        }
        return cl;
    }

    /** A flag value: JSON when it parses as JSON (numbers, booleans, lists, objects, null), else the raw string. */
    static Object value(String raw) {
        try {
            return Json.parse(raw);
        } catch (RuntimeException notJson) {
            return raw;
        }
    }

    @Override
    public Integer call() {
        int th = threads == null ? Parallel.defaultThreads() : threads;
        KvDtype kv = KvDtype.parse(kvDtype, "--kv-dtype");
        DType dt = WeightConversion.parseTarget(dtype, "--dtype");
        Map<String, Object> overrides = new LinkedHashMap<>();
        fields.forEach((k, v) -> overrides.put(k, value(v)));
        try (LoadedCheckpoint ck = HfCheckpoint.load(model); Parallel pool = new Parallel(th)) {
            GenerationConfig cfg = GenerationConfig.fromMap(ck.generationConfig(), overrides);
            Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(model);
            Generator gen = Generator.forGpt2(new Gpt2(ck.config(), WeightConversion.forTarget(ck.weights(), dt, pool), pool, kv), tok);
            List<int[]> ids = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                int[] p = tok.encode(prompts.get(i));
                if (p.length == 0) throw new IllegalArgumentException("prompt " + (i + 1) + " is empty: GPT-2 needs at least one token to condition on");
                ids.add(p);
            }
            java.io.PrintWriter out = spec.commandLine().getOut();
            boolean stream = !json && prompts.size() == 1 && cfg.numReturnSequences() == 1;
            List<List<GeneratedSequence>> results;
            if (stream) {
                boolean[] started = {false}; // the prompt is echoed with the first text, so a refused request prints nothing
                results = gen.generate(ids, cfg, new GenerationListener() {
                    @Override
                    public void onText(int prompt, int sequence, String delta) {
                        if (!started[0]) {
                            started[0] = true;
                            out.print(prompts.get(0));
                        }
                        out.print(delta);
                        out.flush();
                    }
                });
                if (!started[0]) out.print(prompts.get(0));
                out.println();
                spec.commandLine().getErr().println("[finish_reason: " + results.get(0).get(0).finishReason().wireName() + ", "
                        + results.get(0).get(0).tokenIds().length + " new tokens]");
                return 0;
            }
            results = gen.generate(ids, cfg);
            for (int i = 0; i < results.size(); i++) {
                List<GeneratedSequence> seqs = results.get(i);
                if (json) {
                    out.println(Json.write(toJson(prompts.get(i), seqs)));
                } else {
                    for (int s = 0; s < seqs.size(); s++) {
                        out.println("=== prompt " + (i + 1) + (seqs.size() > 1 ? ", sequence " + (s + 1) : "")
                                + " [" + seqs.get(s).finishReason().wireName() + "] ===");
                        out.println(prompts.get(i) + seqs.get(s).text());
                    }
                }
            }
        }
        return 0;
    }

    /** The --json object of one prompt: the first sequence's fields at top level, all of them under "sequences" when n > 1. */
    static Map<String, Object> toJson(String prompt, List<GeneratedSequence> seqs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", prompt);
        m.putAll(sequenceJson(seqs.get(0)));
        if (seqs.size() > 1) {
            List<Object> all = new ArrayList<>();
            for (GeneratedSequence s : seqs) all.add(sequenceJson(s));
            m.put("sequences", all);
        }
        return m;
    }

    private static Map<String, Object> sequenceJson(GeneratedSequence s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("generated_text", s.text());
        m.put("generated_token_ids", s.tokenIds());
        m.put("finish_reason", s.finishReason().wireName());
        if (s.sequenceScore() != null) m.put("sequence_score", s.sequenceScore().doubleValue());
        if (s.stopString() != null) m.put("stop_string", s.stopString());
        return m;
    }
}
