package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code gpt2j evaluate lm} end to end on the tiny checkpoint: JSON report, table, HTML, errors. */
class EvaluateCommandTest {
    private static final Path GOLDEN = Path.of(System.getProperty("gpt2j.testdata"), "golden");
    private static final String MODEL = GOLDEN.resolve("checkpoints/tiny-gpt2").toString();

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    @SuppressWarnings("unchecked")
    void textPerplexityReportMatchesGolden(@TempDir Path tmp) throws Exception {
        Path html = tmp.resolve("r.html");
        Run r = run("evaluate", "lm", "--model", MODEL, "--task", "text", "--data", GOLDEN.resolve("texts/perplexity_text.txt").toString(),
                "--stride", "64", "--threads", "1", "--windows", "--report-html", html.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> rep = Json.parseObject(r.out().strip());
        Map<String, Object> m = (Map<String, Object>) rep.get("metrics");
        // perplexity.json (tiny-gpt2, sliding): ppl 94446.9296875, token-weighted 93884.53547068126
        assertEquals(94446.9296875, ((Number) m.get("recipe_perplexity_unweighted_window_mean")).doubleValue(), 94446.93 * 2e-5);
        assertEquals(93884.53547068126, ((Number) m.get("token_perplexity")).doubleValue(), 93884.54 * 2e-5);
        assertEquals(1994L, ((Map<String, Object>) rep.get("counts")).get("tokens"));
        java.util.List<Object> ws = (java.util.List<Object>) rep.get("windows");
        assertEquals(31, ws.size());
        Map<String, Object> w0 = (Map<String, Object>) ws.get(0);
        assertEquals(127L, w0.get("n_scored"));
        assertEquals(11.476062774658203, ((Number) w0.get("nll")).doubleValue(), 11.48 * 1e-5); // perplexity.json window 0
        assertTrue(r.err().contains("metrics.token_perplexity"), r.err());
        assertTrue(Files.readString(html).contains("paper 1542M"));
    }

    @Test
    void lambadaAndOutputFile(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("lambada.jsonl"), out = tmp.resolve("out.json");
        Files.writeString(data, "{\"text\": \"The cat sat on the mat and looked at the other cat\"}\n{\"text\": \"One two three four\"}\n");
        Run r = run("evaluate", "lm", "--model", MODEL, "--task", "lambada", "--data", data.toString(), "--output", out.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(out).contains("\"accuracy_stop_word_filtered\""));
        assertTrue(r.out().contains("paper column LAMBADA (ACC)"), r.out());
    }

    @Test
    void unknownTaskIsAnError(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("x.txt");
        Files.writeString(data, "hello world");
        Run r = run("evaluate", "lm", "--model", MODEL, "--task", "squad", "--data", data.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("unknown task 'squad'"), r.err());
    }

    @Test
    void generationMetrics(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("g.jsonl");
        Files.writeString(data, "{\"prediction\": \"police kill the gunman\", \"references\": [\"police killed the gunman\"]}\n"
                + "{\"prediction\": \"the Eiffel Tower\", \"reference\": \"Eiffel Tower\"}\n");
        Run r = run("evaluate", "generation", "--data", data.toString(), "--smoothing", "add-one");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> m = Json.parseObject(r.out().strip());
        assertEquals(0.5, ((Number) m.get("exact_match")).doubleValue(), 1e-12);
        // ROUGE-L F1: 0.75 (Lin 2004) and 0.8 (ROUGE keeps "the": P = 2/3, R = 1) -> mean 0.775
        assertEquals(0.775, ((Number) m.get("rougeL_f1")).doubleValue(), 1e-12);
        assertEquals(2L, m.get("examples"));
    }

    /**
     * --model: each prediction is what `generate --json` gives for the prompt alone (greedy, same config), and each
     * reference's perplexity given its prompt is exp(mean NLL) of the reference tokens, checked against the LM scorer
     * that the sliding-window perplexity (golden-exact) uses; tolerance 1e-5 relative: the two forward passes may run
     * the fp32 kernels interpreted or C2-compiled, whose vector reductions round differently (observed 2e-7).
     */
    @Test
    @SuppressWarnings("unchecked")
    void generationWithAModelGeneratesAndScoresReferencePerplexity(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("p.jsonl");
        Files.writeString(data, "{\"q\": \"The lighthouse keeper\", \"a\": \" lit the lamp\"}\n"
                + "{\"q\": \"Once upon a time,\", \"a\": [\" there was a king\", \" a dragon\"]}\n");
        Run r = run("evaluate", "generation", "--model", MODEL, "--data", data.toString(), "--prompt-key", "q",
                "--reference-key", "a", "--generation-config", "{\"max_new_tokens\": 6}", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> m = Json.parseObject(r.out().strip());
        java.util.List<Object> rows = (java.util.List<Object>) m.get("rows");
        assertEquals(2, rows.size());
        Run g = run("generate", "--model", MODEL, "--max-new-tokens", "6", "--json", "Once upon a time,");
        assertEquals(0, g.code(), g.err());
        Map<String, Object> alone = Json.parseObject(g.out().strip());
        Map<String, Object> row1 = (Map<String, Object>) rows.get(1);
        assertEquals(alone.get("generated_text"), row1.get("prediction"));
        assertEquals(" there was a king", row1.get("reference"));

        io.gpt2j.core.tokenizer.Gpt2Tokenizer tok = io.gpt2j.core.tokenizer.Gpt2Tokenizer.fromDirectory(Path.of(MODEL));
        try (io.gpt2j.core.load.LoadedCheckpoint ck = io.gpt2j.core.load.HfCheckpoint.load(Path.of(MODEL));
             io.gpt2j.core.kernels.Parallel pool = new io.gpt2j.core.kernels.Parallel(2)) {
            io.gpt2j.eval.Scorer sc = new io.gpt2j.eval.Scorer(new io.gpt2j.core.model.Gpt2(ck.config(), ck.weights(), pool));
            int[] p = tok.encode("Once upon a time,"), ref = tok.encode(" there was a king");
            int[] all = java.util.stream.IntStream.concat(java.util.Arrays.stream(p), java.util.Arrays.stream(ref)).toArray();
            double[] nll = sc.nlls(new int[][] {all}, new int[] {p.length})[0];
            assertEquals(ref.length, nll.length);
            double want = Math.exp(java.util.Arrays.stream(nll).sum() / ref.length);
            double got = ((Number) row1.get("reference_perplexity")).doubleValue();
            assertEquals(want, got, 1e-5 * want);
            double mean = (((Number) ((Map<String, Object>) rows.get(0)).get("reference_perplexity")).doubleValue() + got) / 2;
            assertEquals(mean, ((Number) m.get("reference_perplexity_mean")).doubleValue(), 1e-12 * mean);
        }
        assertTrue(m.containsKey("bleu4") || m.containsKey("bleu_4") || m.keySet().stream().anyMatch(k -> k.startsWith("bleu")), m.toString());

        Files.writeString(data, "{\"q\": \"hi\"}\n");
        Run bad = run("evaluate", "generation", "--model", MODEL, "--data", data.toString(), "--prompt-key", "q", "--reference-key", "a");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains(":1: \"a\" must be a string or a non-empty list"), bad.err());
    }
}
