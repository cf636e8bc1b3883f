package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code bench --json} on the tiny golden checkpoint: the fields scripts/bench-table.sh reads, and the roofline switch. */
class BenchCommandTest {
    static final String TINY = Path.of(System.getProperty("gpt2j.testdata")).resolve("golden/checkpoints/tiny-gpt2").toString();

    static Map<String, Object> bench(String... extra) {
        return benchWith(new String[]{"--prompt-tokens", "8", "--new-tokens", "4"}, extra);
    }

    static Map<String, Object> benchWith(String[] lengths, String... extra) {
        StringWriter o = new StringWriter(), e = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(o, true)).setErr(new PrintWriter(e, true));
        String[] base = java.util.stream.Stream.concat(java.util.stream.Stream.of("bench", "--model", TINY, "--rounds", "1", "--warmup", "0",
                "--threads", "2", "--json"), java.util.Arrays.stream(lengths)).toArray(String[]::new);
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(extra)).toArray(String[]::new);
        assertEquals(0, cl.execute(args), e.toString());
        return Json.parseObject(o.toString().strip());
    }

    @Test
    void rooflineIsOnByDefaultAndTheFlagsMeanWhatTheySay() {
        Map<String, Object> j = bench("--no-roofline");
        assertFalse(j.containsKey("decode_bandwidth_fraction"), "--no-roofline skips it: " + j);
        assertTrue(((Number) j.get("prefill_tokens_per_s")).doubleValue() > 0 && ((Number) j.get("decode_tokens_per_s")).doubleValue() > 0, j.toString());
        assertTrue(((Number) j.get("peak_rss_bytes")).longValue() > 0, j.toString());
        assertEquals(4, ((Number) j.get("new_tokens")).intValue());
        // picocli inverts a default-true negatable option: --roofline once switched the measurement off
        j = bench("--roofline");
        assertTrue(((Number) j.get("decode_bandwidth_fraction")).doubleValue() > 0, "--roofline measures: " + j);
        assertTrue(((Number) j.get("read_bandwidth_gb_per_s")).doubleValue() > 0 && ((Number) j.get("peak_gflops_per_s")).doubleValue() > 0);
    }

    @Test
    void decodeAfterTimesTheDecodeFromAFreshShortCache() {
        // n_positions is 128: a 128-token prompt leaves no room to decode after it, but --decode-after 1 refills a reset
        // cache with one token and decodes 100 more, as llama-bench's tg test generates from an empty cache
        Map<String, Object> j = benchWith(new String[]{"--prompt-tokens", "128", "--decode-after", "1", "--new-tokens", "100"}, "--no-roofline");
        assertEquals(1, ((Number) j.get("decode_after_tokens")).intValue());
        assertEquals(128, ((Number) j.get("prompt_tokens")).intValue());
        assertTrue(((Number) j.get("decode_tokens_per_s")).doubleValue() > 0 && ((Number) j.get("prefill_tokens_per_s")).doubleValue() > 0, j.toString());
        assertEquals(0, ((Number) bench("--no-roofline").get("decode_after_tokens")).intValue());

        StringWriter o = new StringWriter(), e = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(o, true)).setErr(new PrintWriter(e, true));
        assertTrue(cl.execute("bench", "--model", TINY, "--prompt-tokens", "128", "--new-tokens", "1", "--no-roofline") != 0);
        assertTrue(e.toString().contains("prompt-tokens + new-tokens must be in [1, n_positions=128]"), e.toString());
        e.getBuffer().setLength(0);
        assertTrue(cl.execute("bench", "--model", TINY, "--prompt-tokens", "8", "--decode-after", "9", "--no-roofline") != 0);
        assertTrue(e.toString().contains("--decode-after must be in [0, --prompt-tokens=8], got 9"), e.toString());
    }

    @Test
    void kvDtypeIsReportedAndABadValueIsAnError() {
        assertEquals("F32", bench("--no-roofline").get("kv_dtype"));
        Map<String, Object> j = bench("--no-roofline", "--kv-dtype", "f16");
        assertEquals("F16", j.get("kv_dtype"));
        assertTrue(((Number) j.get("decode_tokens_per_s")).doubleValue() > 0, j.toString());
        StringWriter o = new StringWriter(), e = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(o, true)).setErr(new PrintWriter(e, true));
        assertEquals(1, cl.execute("bench", "--model", TINY, "--kv-dtype", "q8_0", "--no-roofline"));
        assertEquals("gpt2j bench: --kv-dtype must be f32 or f16, got 'q8_0'", e.toString().strip());
    }
}
