package io.gpt2j.eval;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one language-modelling task of the GPT-2 paper on a data file and returns the report as a JSON-ready map
 * (settings, metrics, counts, time, the paper's figure for the model size). Reads the data file; prints nothing.
 */
public final class LmEvaluation {
    public static final List<String> TASKS = List.of("wikitext-2", "wikitext-103", "ptb", "lambada", "cbt-cn", "cbt-ne",
            "enwik8", "text8", "1bw", "text");

    /**
     * @param maxLength window length, 0 = the model's n_positions
     * @param stride    window stride, 0 = maxLength / 2 (the recipe's overlapping windows)
     * @param batchSize windows / passages per forward, 0 = automatic (about 256 MB of logits)
     * @param includeWindows add every window (begin, end, trg_len, n_scored, nll: perplexity.json's keys) to the report
     */
    public record Settings(String task, Path data, int maxLength, int stride, boolean detokenize, int batchSize,
                           boolean includeWindows) {
        public Settings(String task, Path data, int maxLength, int stride, boolean detokenize, int batchSize) {
            this(task, data, maxLength, stride, detokenize, batchSize, false);
        }

        public Settings {
            if (!TASKS.contains(task)) throw new IllegalArgumentException("unknown task '" + task + "'; expected one of " + TASKS);
            if (maxLength < 0 || stride < 0 || batchSize < 0) throw new IllegalArgumentException("max-length, stride and batch size must be >= 0");
        }
    }

    private LmEvaluation() {
    }

    public static Map<String, Object> run(Gpt2 model, Gpt2Tokenizer tokenizer, Settings s, Progress progress) {
        Gpt2Config cfg = model.config();
        int maxLength = s.maxLength() == 0 ? cfg.nPositions() : s.maxLength();
        int stride = s.stride() == 0 ? Math.max(1, maxLength / 2) : s.stride();
        boolean passages = s.task().equals("lambada") || s.task().startsWith("cbt");
        // about 256 MB of logits per forward; LAMBADA / CBT rows are short (a few hundred tokens)
        int batch = s.batchSize() != 0 ? s.batchSize()
                : Perplexity.autoBatch(passages ? Math.min(256, maxLength) : maxLength, cfg.vocabSize(), 256L << 20);
        Detokenizer detok = s.detokenize() ? Detokenizers.forTask(s.task()) : Detokenizer.NONE;
        Scorer scorer = new Scorer(model);

        Out o = new Out();
        o.settings.put("detokenize", s.detokenize());
        o.settings.put("detokenizer", detok.name());
        if (s.detokenize()) o.notes.add("de-tokenizer " + detok.name() + ": " + detok.invertibility());
        o.settings.put("batch_size", batch);
        o.settings.put("threads", model.pool().threads());
        String raw = read(s.data());
        switch (s.task()) {
            case "lambada" -> lambada(o, scorer, tokenizer, lambadaExamples(raw, s.data(), detok), batch, progress);
            case "cbt-cn", "cbt-ne" -> cbt(o, scorer, tokenizer, detok, Cbt.parse(raw), progress);
            default -> text(o, scorer, tokenizer, s.task(), raw, detok, maxLength, stride, batch, progress, s.includeWindows());
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("model", Map.of("n_layer", cfg.nLayer(), "n_embd", cfg.nEmbd(), "n_positions", cfg.nPositions(),
                "vocab_size", cfg.vocabSize(), "parameters", cfg.parameterCount()));
        report.put("task", s.task());
        report.put("data", s.data().toString());
        report.put("settings", o.settings);
        report.put("metrics", o.metrics);
        report.put("counts", o.counts);
        report.put("time", o.time);
        String size = PaperTable.sizeOf(cfg.nLayer(), cfg.nEmbd());
        Map<String, Object> paper = new LinkedHashMap<>();
        paper.put("size", size);
        for (String col : PaperTable.columnsOf(s.task())) {
            paper.put(col, size == null ? null : PaperTable.value(size, col));
        }
        paper.put("ours", paperComparable(s.task(), o.metrics));
        report.put("paper_table_3", paper);
        report.put("notes", o.notes);
        if (o.windows != null) report.put("windows", o.windows);
        return report;
    }

    /** The report's sections, filled by one task. */
    private static final class Out {
        final Map<String, Object> settings = new LinkedHashMap<>(), metrics = new LinkedHashMap<>(),
                counts = new LinkedHashMap<>(), time = new LinkedHashMap<>();
        final List<String> notes = new ArrayList<>();
        List<Object> windows;
    }

    private static void lambada(Out o, Scorer scorer, Gpt2Tokenizer tokenizer, List<Lambada.Example> ex, int batch, Progress progress) {
        Map<String, Object> metrics = o.metrics, counts = o.counts, time = o.time;
        List<String> notes = o.notes;
        Lambada.Result r = new Lambada(scorer, tokenizer, batch).run(ex, progress);
        metrics.put("accuracy", r.accuracy());
        metrics.put("accuracy_stop_word_filtered", r.accuracyStopWordFiltered());
        metrics.put("perplexity", r.perplexity());
        metrics.put("token_perplexity", r.tokenPerplexity());
        counts.put("examples", r.examples());
        counts.put("correct", r.correct());
        counts.put("correct_stop_word_filtered", r.correctFiltered());
        counts.put("target_tokens", r.targetTokens());
        time.put("seconds", r.seconds());
        time.put("examples_per_second", r.examples() / r.seconds());
        notes.add("accuracy: greedy over every token of ' '+last word (teacher-forced); perplexity: exp(mean last-word NLL)");
        notes.add("stop-word filtered: at the word's first token, whole-stop-word tokens are banned (our list of "
                + Lambada.STOP_WORDS.size() + " words; the paper's filter is not published)");
    }

    private static void cbt(Out o, Scorer scorer, Gpt2Tokenizer tokenizer, Detokenizer detok, List<Cbt.Question> qs, Progress progress) {
        Map<String, Object> metrics = o.metrics, counts = o.counts, time = o.time;
        Cbt.Result r = new Cbt(scorer, tokenizer, detok).run(qs, progress);
        metrics.put("accuracy", r.accuracy());
        counts.put("questions", r.questions());
        counts.put("correct", r.correct());
        time.put("seconds", r.seconds());
    }

    private static void text(Out o, Scorer scorer, Gpt2Tokenizer tokenizer, String task, String raw, Detokenizer detok,
                             int maxLength, int stride, int batch, Progress progress, boolean includeWindows) {
        Map<String, Object> settings = o.settings, metrics = o.metrics, counts = o.counts, time = o.time;
        List<String> notes = o.notes;
        settings.put("max_length", maxLength);
        settings.put("stride", stride);
        String text = detok.detokenize(raw);
        int[] ids = tokenizer.encode(text);
        Perplexity.Result r = new Perplexity(scorer, batch).run(ids, maxLength, stride, progress);
        boolean eos = !task.equals("text") && !task.equals("enwik8") && !task.equals("text8");
        long words = WordCount.count(raw, eos);
        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
        metrics.put("recipe_mean_of_window_mean_nll", r.meanNll());
        metrics.put("recipe_perplexity_unweighted_window_mean", r.ppl());
        metrics.put("token_weighted_mean_nll", r.tokenWeightedMeanNll());
        metrics.put("token_perplexity", r.tokenWeightedPpl());
        metrics.put("word_perplexity", r.wordPerplexity(words));
        metrics.put("bits_per_byte", r.bitsPerByte(bytes));
        if (task.equals("text8")) metrics.put("bits_per_character", r.totalNll() / Math.log(2) / text.length());
        counts.put("tokens", ids.length);
        counts.put("scored_tokens", r.scoredTokens());
        counts.put("windows", r.windows().size());
        counts.put("words", words);
        counts.put("words_include_eos_per_line", eos);
        counts.put("bytes", bytes);
        counts.put("characters", text.length());
        counts.put("total_nll", r.totalNll());
        time.put("seconds", r.seconds());
        time.put("tokens_per_second", r.tokensPerSecond());
        time.put("scored_tokens_per_second", r.scoredTokens() / r.seconds());
        notes.add("word_perplexity = exp(total NLL / words of the original file" + (eos ? ", one <eos> per line" : "") + ")");
        if (includeWindows) {
            List<Object> ws = new ArrayList<>();
            for (Perplexity.WindowNll w : r.windows()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("begin", w.begin());
                m.put("end", w.end());
                m.put("trg_len", w.trgLen());
                m.put("n_scored", w.nScored());
                m.put("nll", w.nll());
                ws.add(m);
            }
            o.windows = ws;
        }
        if (r.scoredTokens() < ids.length - 1) notes.add((ids.length - 1 - r.scoredTokens()) + " tokens are never scored (stride = max-length: each window's first token)");
    }

    /** Our numbers in the paper's units for the task's columns (accuracy in %, perplexities, bits). */
    public static Map<String, Object> paperComparable(String task, Map<String, Object> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String col : PaperTable.columnsOf(task)) {
            Object v = switch (col) {
                case "LAMBADA (PPL)" -> m.get("perplexity");
                case "LAMBADA (ACC)", "CBT-CN (ACC)", "CBT-NE (ACC)" -> 100 * ((Number) m.get("accuracy")).doubleValue();
                case "enwik8 (BPB)" -> m.get("bits_per_byte");
                case "text8 (BPC)" -> m.get("bits_per_character");
                default -> m.get("word_perplexity");
            };
            out.put(col, v);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static List<Lambada.Example> lambadaExamples(String raw, Path data, Detokenizer detok) {
        List<Lambada.Example> out = new ArrayList<>();
        boolean jsonl = data.getFileName().toString().endsWith(".jsonl");
        for (String line : raw.split("\n")) {
            if (line.isBlank()) continue;
            String text = jsonl ? (String) ((Map<String, Object>) Json.parse(line)).get("text") : detok.detokenize(line);
            out.add(Lambada.Example.of(text));
        }
        return out;
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (java.nio.charset.MalformedInputException e) {
            try { // enwik8 is bytes: decode leniently (invalid sequences become U+FFFD)
                return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
            } catch (IOException e2) {
                throw new UncheckedIOException(e2);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read data file " + p + ": " + e.getMessage(), e);
        }
    }
}
