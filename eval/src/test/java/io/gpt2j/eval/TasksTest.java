package io.gpt2j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LAMBADA, CBT and the task runner on the tiny golden checkpoint, checked against a direct per-token computation. */
class TasksTest {
    static LoadedCheckpoint ck;
    static Parallel pool;
    static Gpt2 gpt;
    static Gpt2Tokenizer tok;

    @BeforeAll
    static void load() {
        Path dir = PerplexityGoldenTest.golden().resolve("checkpoints/tiny-gpt2");
        ck = HfCheckpoint.load(dir);
        pool = new Parallel(1);
        gpt = new Gpt2(ck.config(), ck.weights(), pool);
        tok = Gpt2Tokenizer.fromDirectory(dir);
    }

    @AfterAll
    static void close() {
        pool.close();
        ck.close();
    }

    /** Log-probs of seq[j] for j >= from, one unbatched forward, no padding. */
    static double[] reference(int[] seq, int from) {
        int V = gpt.config().vocabSize();
        float[] logits = new float[seq.length * V];
        gpt.forward(gpt.newState(1, seq.length), new int[][] {seq}, null, null, logits, null, true);
        double[] out = new double[seq.length - from];
        for (int j = from; j < seq.length; j++) out[j - from] = -Scorer.nll(logits, (j - 1) * V, V, seq[j]);
        return out;
    }

    @Test
    void lambadaMatchesDirectComputationAndBatchingDoesNotMatter() {
        List<Lambada.Example> ex = LmEvaluation.lambadaExamples(DetokenizersTest.resource("lambada-openai-head.jsonl"),
                Path.of("x.jsonl"), Detokenizer.NONE);
        assertEquals(8, ex.size());
        assertEquals("signs", ex.get(0).target());
        // tiny-gpt2 has n_positions=128: cut contexts so each fits (the runner truncates from the left anyway)
        double expect = 0;
        for (Lambada.Example e : ex) {
            int[] ctx = tok.encode(e.context()), tgt = tok.encode(" " + e.target());
            int keep = Math.min(ctx.length, 128 - tgt.length);
            int[] seq = new int[keep + tgt.length];
            System.arraycopy(ctx, ctx.length - keep, seq, 0, keep);
            System.arraycopy(tgt, 0, seq, keep, tgt.length);
            for (double lp : reference(seq, keep)) expect -= lp;
        }
        Lambada.Result r1 = new Lambada(new Scorer(gpt), tok, 1).run(ex, Progress.NONE);
        Lambada.Result r3 = new Lambada(new Scorer(gpt), tok, 3).run(ex, Progress.NONE);
        double rel = Math.abs(r1.wordNllSum() - expect) / expect, relB = Math.abs(r3.wordNllSum() - expect) / expect;
        System.out.printf("LAMBADA: nll sum %.6f vs direct %.6f (rel %.2e), left-padded batch of 3 rel %.2e; acc %.3f, ppl %.1f%n",
                r1.wordNllSum(), expect, rel, relB, r1.accuracy(), r1.perplexity());
        assertTrue(rel < 1e-6, "unbatched LAMBADA NLL equals the direct computation (summation order only): " + rel);
        assertTrue(relB < 1e-5, "left-padded batch within fp32 noise: " + relB);
        assertEquals(r1.correct(), r3.correct());
        assertTrue(r1.correctFiltered() >= 0 && r1.correctFiltered() <= 8);
        assertEquals(Math.exp(r1.wordNllSum() / 8), r1.perplexity(), 1e-9 * r1.perplexity());
    }

    @Test
    void cbtParsesAndPicksTheMostProbableCandidate() {
        List<Cbt.Question> qs = Cbt.parse(DetokenizersTest.resource("cbt-mini.txt"));
        assertEquals(2, qs.size());
        assertEquals("rabbit", qs.get(0).answer());
        assertEquals(10, qs.get(0).candidates().size());
        assertTrue(qs.get(0).context().startsWith("Once upon a time") && qs.get(0).context().endsWith("looked at the river ."));
        Cbt cbt = new Cbt(new Scorer(gpt), tok, Detokenizers.CBT);
        Cbt.Question q = qs.get(1);
        int[] ctx = tok.encode(Detokenizers.CBT.detokenize(q.context()));
        int best = -1;
        double bestLp = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < 10; c++) {
            int[] sent = tok.encode(" " + Detokenizers.CBT.detokenize(q.query().replace("XXXXX", q.candidates().get(c))));
            int[] seq = new int[ctx.length + sent.length];
            System.arraycopy(ctx, 0, seq, 0, ctx.length);
            System.arraycopy(sent, 0, seq, ctx.length, sent.length);
            double lp = 0;
            for (double v : reference(seq, ctx.length)) lp += v;
            if (lp > bestLp) {
                bestLp = lp;
                best = c;
            }
        }
        assertEquals(best, cbt.predict(q));
        Cbt.Result r = cbt.run(qs, Progress.NONE);
        assertEquals(2, r.questions());
    }

    @Test
    @SuppressWarnings("unchecked")
    void runnerReportsTextTasks(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("wiki.tokens");
        Files.writeString(f, DetokenizersTest.resource("wikitext2-test-head.tokens").substring(0, 3000));
        Map<String, Object> rep = LmEvaluation.run(gpt, tok, new LmEvaluation.Settings("wikitext-2", f, 0, 0, true, 2), Progress.NONE);
        Map<String, Object> m = (Map<String, Object>) rep.get("metrics"), c = (Map<String, Object>) rep.get("counts");
        double total = ((Number) c.get("total_nll")).doubleValue();
        long words = ((Number) c.get("words")).longValue(), bytes = ((Number) c.get("bytes")).longValue();
        assertEquals(Math.exp(total / words), (Double) m.get("word_perplexity"), 1e-9 * (Double) m.get("word_perplexity"));
        assertEquals(total / Math.log(2) / bytes, (Double) m.get("bits_per_byte"), 1e-12);
        assertEquals(64, ((Map<String, Object>) rep.get("settings")).get("stride"));
        assertEquals(null, ((Map<String, Object>) rep.get("paper_table_3")).get("size"));
        String table = ReportFormat.table(rep);
        assertTrue(table.contains("metrics.word_perplexity"), table);
        String html = ReportFormat.html(List.of(rep));
        assertTrue(html.contains("<td>paper 762M</td><td>10.87</td><td>60.12</td>"), html);
    }

    @Test
    @SuppressWarnings("unchecked")
    void characterLevelTasksReportBits(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("text8");
        Files.writeString(f, "anarchism originated as a term of abuse first used against early working class radicals");
        Map<String, Object> rep = LmEvaluation.run(gpt, tok, new LmEvaluation.Settings("text8", f, 16, 16, false, 0), Progress.NONE);
        Map<String, Object> m = (Map<String, Object>) rep.get("metrics"), c = (Map<String, Object>) rep.get("counts");
        double total = ((Number) c.get("total_nll")).doubleValue();
        assertEquals(total / Math.log(2) / 87, (Double) m.get("bits_per_character"), 1e-12);
        assertEquals(m.get("bits_per_byte"), m.get("bits_per_character")); // ASCII
        assertEquals(false, c.get("words_include_eos_per_line"));
        assertEquals(List.of("text8 (BPC)"), List.copyOf(((Map<String, Object>) ((Map<String, Object>) rep.get("paper_table_3")).get("ours")).keySet()));
    }

    @Test
    void paperFiguresPrintedAndNumericAgree() {
        for (String row : PaperTable.ROWS.keySet()) {
            for (String col : PaperTable.COLUMNS) {
                assertEquals(Double.parseDouble(PaperTable.printed(row, col)), PaperTable.value(row, col), 0.0, row + " " + col);
            }
        }
        assertEquals("762M", PaperTable.sizeOf(36, 1280));
        assertEquals(44.575, PaperTable.value("762M", "1BW (PPL)"));
    }
}
