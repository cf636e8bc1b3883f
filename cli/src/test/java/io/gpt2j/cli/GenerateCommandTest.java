package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The generate command end to end on the golden tiny checkpoint: output, JSON shape, flags and errors. */
class GenerateCommandTest {
    static final String MODEL = Path.of(System.getProperty("gpt2j.testdata"), "golden/checkpoints/tiny-gpt2").toString();

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @SuppressWarnings("unchecked")
    @Test
    void greedyJsonMatchesTransformersTokens() {
        // golden case greedy_max_new_tokens_20: prompt "The lighthouse stood on" -> these 20 ids (transformers 4.38.2)
        List<Integer> expected = List.of(45865, 45865, 45865, 18109, 21645, 18109, 5848, 12878, 35028, 21375, 18657,
                18109, 18657, 18109, 8520, 8520, 39821, 14578, 1232, 22842);
        Run r = run("generate", "--model", MODEL, "--max-new-tokens", "20", "--json", "--threads", "1", "The lighthouse stood on");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> m = Json.parseObject(r.out().trim());
        assertEquals("The lighthouse stood on", m.get("prompt"));
        assertEquals(expected, ((List<Object>) m.get("generated_token_ids")).stream().map(o -> ((Number) o).intValue()).toList());
        assertEquals("length", m.get("finish_reason"));
        assertTrue(m.get("generated_text") instanceof String);
    }

    @Test
    void streamingPrintsPromptAndContinuationAndReportsFinishReason() {
        Run json = run("generate", "--model", MODEL, "--max-new-tokens", "8", "--json", "Hello there");
        Run text = run("generate", "--model", MODEL, "--max-new-tokens", "8", "Hello there");
        assertEquals(0, text.code(), text.err());
        String continuation = (String) Json.parseObject(json.out().trim()).get("generated_text");
        assertEquals("Hello there" + continuation, text.out().replaceAll("\\R$", ""));
        assertTrue(text.err().contains("finish_reason: length"), text.err());
    }

    @SuppressWarnings("unchecked")
    @Test
    void beamsReturnSequencesWithScoresAndOneObjectPerPrompt() {
        Run r = run("generate", "--model", MODEL, "--max-new-tokens", "4", "--num-beams", "3", "--num-return-sequences", "2",
                "--early-stopping", "never", "--json", "A", "Once upon a time,");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().trim().split("\\R");
        assertEquals(2, lines.length);
        for (String line : lines) {
            Map<String, Object> m = Json.parseObject(line);
            List<Object> seqs = (List<Object>) m.get("sequences");
            assertEquals(2, seqs.size());
            assertTrue(((Map<String, Object>) seqs.get(0)).get("sequence_score") instanceof Number);
        }
    }

    @Test
    void booleanFlagsTakeOptionalValuesAndSamplingIsSeeded() {
        Run a = run("generate", "--model", MODEL, "--max-new-tokens", "6", "--do-sample", "--seed", "7", "--json", "Hi");
        Run b = run("generate", "--model", MODEL, "--max-new-tokens", "6", "--do-sample", "true", "--seed", "7", "--json", "Hi");
        Run greedy = run("generate", "--model", MODEL, "--max-new-tokens", "6", "--do-sample", "false", "--json", "Hi");
        assertEquals(0, a.code(), a.err());
        assertEquals(a.out(), b.out());
        assertEquals(0, greedy.code(), greedy.err());
    }

    @Test
    void listValuedFlagsTakeJson() {
        Run r = run("generate", "--model", MODEL, "--max-new-tokens", "5", "--bad-words-ids", "[[45865]]", "--json", "The lighthouse stood on");
        assertEquals(0, r.code(), r.err());
        assertTrue(!r.out().contains("45865"), r.out());
    }

    /** An F16 KV cache through the whole generate path: greedy, and beam search (its reorder and gather of cache rows). */
    @SuppressWarnings("unchecked")
    @Test
    void f16KvCacheGeneratesAndABadValueIsAnError() {
        Run greedy = run("generate", "--model", MODEL, "--max-new-tokens", "12", "--kv-dtype", "f16", "--json", "The lighthouse stood on");
        assertEquals(0, greedy.code(), greedy.err());
        assertEquals(12, ((List<Object>) Json.parseObject(greedy.out().trim()).get("generated_token_ids")).size());
        Run beams = run("generate", "--model", MODEL, "--max-new-tokens", "4", "--num-beams", "3", "--num-return-sequences", "2",
                "--early-stopping", "never", "--kv-dtype", "fp16", "--json", "A", "Once upon a time,");
        assertEquals(0, beams.code(), beams.err());
        for (String line : beams.out().trim().split("\\R")) {
            assertEquals(2, ((List<Object>) Json.parseObject(line).get("sequences")).size(), line);
        }
        Run bad = run("generate", "--model", MODEL, "--kv-dtype", "int8", "x");
        assertEquals(1, bad.code());
        assertEquals("gpt2j generate: --kv-dtype must be f32 or f16, got 'int8'", bad.err().strip());
    }

    @SuppressWarnings("unchecked")
    @Test
    void weightDtypeConvertsAtLoadAndABadValueIsAnError() {
        Run plain = run("generate", "--model", MODEL, "--max-new-tokens", "10", "--json", "The lighthouse stood on");
        // the checkpoint is F32: --dtype f32 keeps the mapped weights, so greedy output is the same tokens
        Run same = run("generate", "--model", MODEL, "--max-new-tokens", "10", "--dtype", "F32", "--json", "The lighthouse stood on");
        assertEquals(0, same.code(), same.err());
        assertEquals(Json.parseObject(plain.out().trim()).get("generated_token_ids"), Json.parseObject(same.out().trim()).get("generated_token_ids"));
        for (String dt : new String[] {"f16", "bf16", "q8_0"}) {
            Run r = run("generate", "--model", MODEL, "--max-new-tokens", "10", "--dtype", dt, "--json", "The lighthouse stood on");
            assertEquals(0, r.code(), dt + ": " + r.err());
            assertEquals(10, ((List<Object>) Json.parseObject(r.out().trim()).get("generated_token_ids")).size(), dt);
        }
        Run bad = run("generate", "--model", MODEL, "--dtype", "int4", "x");
        assertEquals(1, bad.code());
        assertEquals("gpt2j generate: --dtype must be f32, f16, bf16 or q8_0, got 'int4'", bad.err().strip());
    }

    @Test
    void badValuesAreOneLineErrorsWithNonZeroExit() {
        Run r = run("generate", "--model", MODEL, "--top-p", "2", "x");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("top_p") && r.err().trim().lines().count() == 1, r.err());
        Run empty = run("generate", "--model", MODEL, "");
        assertEquals(1, empty.code());
        assertTrue(empty.err().contains("empty"), empty.err());
        Run unknown = run("generate", "--model", MODEL, "--top-q", "2", "x");
        assertNotEquals(0, unknown.code());
        assertTrue(unknown.err().contains("--top-q"), unknown.err());
        Run missing = run("generate", "--model", "/nonexistent/dir", "x");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("/nonexistent/dir"), missing.err());
        Run overflow = run("generate", "--model", MODEL, "--max-new-tokens", "500", "x");
        assertEquals(1, overflow.code());
        assertTrue(overflow.err().contains("128"), overflow.err());
    }

    @Test
    void helpListsEveryGenerationFieldWithItsDefault() {
        Run r0 = run("generate", "--help");
        assertEquals(0, r0.code());
        Run r = new Run(0, r0.out().replaceAll("\\s+", " "), r0.err()); // help text wraps lines
        for (String field : io.gpt2j.generate.GenerationConfig.fieldNames()) {
            assertTrue(r.out().contains("--" + field.replace('_', '-')), "missing flag for " + field);
        }
        assertTrue(r.out().contains("top_k (default: 50)"), r.out());
        assertTrue(r.out().contains("max_length (default: 20 (counts the prompt))"), r.out());
    }
}
