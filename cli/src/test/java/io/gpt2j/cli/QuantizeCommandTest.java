package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code gpt2j quantize} end to end on the golden tiny checkpoint: the other commands run on its output unchanged,
 * bench converts nothing when --dtype matches the file, a Q8_0 random checkpoint equals a quantized F32 one byte for
 * byte, and each bad input is one line and exit code 1. (Numerics of the written files: ConvertedCheckpointTest.)
 */
class QuantizeCommandTest {
    static final String TINY = Path.of(System.getProperty("gpt2j.testdata"), "golden/checkpoints/tiny-gpt2-v1000").toString();

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    static void assertOneLineError(Run r, String... parts) {
        assertEquals(1, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        for (String p : parts) assertTrue(r.err().contains(p), "should mention '" + p + "': " + r.err());
    }

    @Test
    void otherCommandsRunOnTheQuantizedCheckpoint() throws Exception {
        String q8 = tmp.resolve("q8").toString();
        Run r = run("quantize", "--model", TINY, "--dtype", "q8_0", "--out", q8, "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("13 matmul weights as Q8_0"), r.out());
        assertTrue(r.out().contains("vocab.json"), r.out());

        Run gen = run("generate", "--model", q8, "--max-new-tokens", "6", "--json", "--threads", "1", "Hello there");
        assertEquals(0, gen.code(), gen.err());
        assertEquals(6, ((List<?>) Json.parseObject(gen.out().strip()).get("generated_token_ids")).size(), gen.out());

        Path text = tmp.resolve("t.txt");
        Files.writeString(text, "the quick brown fox jumps over the lazy dog ".repeat(20));
        Run ev = run("evaluate", "lm", "--model", q8, "--task", "text", "--data", text.toString(), "--threads", "1", "--quiet");
        assertEquals(0, ev.code(), ev.err());

        Map<String, Object> same = bench(q8, "q8_0");
        assertEquals(false, same.get("converted_at_load"), "stored as asked: used as mapped " + same);
        assertEquals("Q8_0", same.get("dtype"));
        Map<String, Object> f32 = bench(q8, "f32");
        assertEquals(true, f32.get("converted_at_load"), f32.toString());
        assertEquals("F32", f32.get("dtype"), "Q8_0 weights dequantized at load");
    }

    @Test
    void decodeLayoutF16IsUsedAsMapped() throws Exception {
        String f16 = tmp.resolve("f16-decode").toString();
        Run r = run("quantize", "--model", TINY, "--dtype", "f16", "--layout", "decode", "--out", f16, "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("as F16 (Conv1D weights transposed: decode layout)"), r.out());
        Run gen = run("generate", "--model", f16, "--max-new-tokens", "4", "--json", "--threads", "1", "Hello there");
        assertEquals(0, gen.code(), gen.err());
        Map<String, Object> same = bench(f16, "f16");
        assertEquals(false, same.get("converted_at_load"), "F16_T Conv1D weights are what --dtype f16 builds: used as mapped " + same);
    }

    static Map<String, Object> bench(String model, String dtype) {
        Run r = run("bench", "--model", model, "--dtype", dtype, "--prompt-tokens", "4", "--new-tokens", "2", "--rounds", "1",
                "--warmup", "0", "--threads", "1", "--no-roofline", "--json");
        assertEquals(0, r.code(), r.err());
        return Json.parseObject(r.out().strip());
    }

    @Test
    void randomQ8CheckpointEqualsTheQuantizedF32One() throws Exception {
        String[] dims = {"random-checkpoint", "--n-embd", "32", "--n-layer", "2", "--n-head", "4", "--n-positions", "16",
                "--vocab-size", "1000", "--seed", "5", "--tokenizer", TINY};
        Path f32 = tmp.resolve("f32"), q8 = tmp.resolve("q8"), quantized = tmp.resolve("quantized");
        assertEquals(0, run(concat(dims, "--dtype", "f32", "--out", f32.toString())).code());
        Run r = run(concat(dims, "--dtype", "q8_0", "--out", q8.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Q8_0"), r.out());
        assertEquals(0, run("quantize", "--model", f32.toString(), "--dtype", "q8_0", "--out", quantized.toString()).code());
        assertEquals(-1, Files.mismatch(q8.resolve("model.safetensors"), quantized.resolve("model.safetensors")),
                "random-checkpoint --dtype q8_0 writes the F32 checkpoint's values, quantized");
        assertTrue(Files.size(q8.resolve("model.safetensors")) < Files.size(f32.resolve("model.safetensors")) / 2);
    }

    static String[] concat(String[] a, String... b) {
        return java.util.stream.Stream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b)).toArray(String[]::new);
    }

    @Test
    void badInputIsOneLineAndExitCodeOne() throws Exception {
        Path out = tmp.resolve("out");
        assertOneLineError(run("quantize", "--model", TINY, "--dtype", "q4_k", "--out", out.toString()), "--dtype must be q8_0, f16, bf16 or f32", "'q4_k'");
        assertFalse(Files.exists(out), "nothing written on a bad flag");
        assertOneLineError(run("quantize", "--model", TINY, "--dtype", "f16", "--layout", "rows", "--out", out.toString()), "--layout must be hf or decode", "'rows'");
        assertOneLineError(run("quantize", "--model", TINY, "--dtype", "q8_0", "--layout", "hf", "--out", out.toString()), "Q8_0 is stored in the decode layout only");
        assertOneLineError(run("quantize", "--model", TINY, "--dtype", "f32", "--layout", "decode", "--out", out.toString()), "F32 is stored in transformers' layout only");
        assertFalse(Files.exists(out), "nothing written on a bad --layout");
        assertOneLineError(run("quantize", "--model", tmp.resolve("nope").toString(), "--dtype", "f16", "--out", out.toString()), "not a directory");
        assertOneLineError(run("quantize", "--model", TINY, "--dtype", "f16", "--out", TINY), "is the --model directory");

        Files.createDirectories(out);
        Files.writeString(out.resolve("notes.txt"), "keep me");
        assertOneLineError(run("quantize", "--model", TINY, "--dtype", "f16", "--out", out.toString()), out.toString(), "not empty", "--force");
        assertFalse(Files.exists(out.resolve("model.safetensors")));
        Run forced = run("quantize", "--model", TINY, "--dtype", "bf16", "--out", out.toString(), "--force");
        assertEquals(0, forced.code(), forced.err());
        assertTrue(Files.exists(out.resolve("model.safetensors")) && Files.exists(out.resolve("notes.txt")));

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertEquals(0, run("quantize", "--model", TINY, "--dtype", "f16", "--out", empty.toString()).code(), "an empty --out is fine");

        // a Q8_0 file without its layout key is refused by every command that loads it
        Path q8 = tmp.resolve("q8");
        assertEquals(0, run("quantize", "--model", TINY, "--dtype", "q8_0", "--out", q8.toString()).code());
        Path file = q8.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        String s = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).replace("\"gpt2j.q8_0_layout\"", "\"gpt2j.q8_0_layouX\"");
        Files.write(file, s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertOneLineError(run("generate", "--model", q8.toString(), "--max-new-tokens", "2", "Hi"), file.toString(), "'gpt2j.q8_0_layout'");
    }
}
