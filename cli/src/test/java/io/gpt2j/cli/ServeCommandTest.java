package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.gpt2j.server.ServerSettings;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** gpt2j serve: flags become ServerSettings; unset flags take the documented defaults. */
class ServeCommandTest {
    @Test
    void flagsAndDefaults() {
        ServeCommand c = new ServeCommand();
        new CommandLine(c).parseArgs("--model", "m", "--port", "0", "--api-key", "k", "--request-timeout-ms", "1234",
                "--max-concurrent-requests", "3", "--max-body-bytes", "99", "--max-batch-tokens", "777");
        ServerSettings s = c.settings();
        assertEquals(0, s.port());
        assertEquals("k", s.apiKey());
        assertEquals(1234, s.requestTimeoutMs());
        assertEquals(3, s.maxConcurrentRequests());
        assertEquals(99, s.maxBodyBytes());
        assertEquals(777, s.maxBatchTokens());
        ServeCommand d = new ServeCommand();
        new CommandLine(d).parseArgs("--model", "m");
        ServerSettings t = d.settings();
        if (System.getenv("GPT2J_PORT") == null) assertEquals(8080, t.port());
        if (System.getenv("GPT2J_HOST") == null) assertEquals("127.0.0.1", t.host());
        if (System.getenv("GPT2J_API_KEY") == null) assertNull(t.apiKey());
        if (System.getenv("GPT2J_REQUEST_TIMEOUT_MS") == null) assertEquals(5000, t.requestTimeoutMs());
    }

    @Test
    void badKvDtypeStopsTheServerBeforeItListens() {
        java.io.StringWriter out = new java.io.StringWriter(), err = new java.io.StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new java.io.PrintWriter(out, true)).setErr(new java.io.PrintWriter(err, true));
        assertEquals(1, cl.execute("serve", "--model", "m", "--port", "0", "--kv-dtype", "f8"));
        assertEquals("gpt2j serve: --kv-dtype must be f32 or f16, got 'f8'", err.toString().strip());
        err.getBuffer().setLength(0);
        assertEquals(1, cl.execute("serve", "--model", "m", "--port", "0", "--dtype", "q4_0"));
        assertEquals("gpt2j serve: --dtype must be f32, f16, bf16 or q8_0, got 'q4_0'", err.toString().strip());
        ServeCommand c = new ServeCommand();
        new CommandLine(c).parseArgs("--model", "m", "--kv-dtype", "f16");
        assertEquals("f16", c.kvDtype);
    }
}
