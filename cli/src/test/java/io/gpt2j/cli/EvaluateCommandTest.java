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
        Run r = run("evaluate", "lm", "--model", MODEL, "--task", "text", "--data", GOLDEN.resolve("texts/perplexity_shared.txt").toString(),
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
}
