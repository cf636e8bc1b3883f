package io.gpt2j.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizeCommandTest {
    private static final String MODEL = Path.of(System.getProperty("gpt2j.testdata"), "golden/gpt2-tokenizer").toString();

    private record Run(int code, String out, String err) {
    }

    private static Run run(String stdin, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new TokenizeCommand(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8))));
        cl.setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void encodesJsonLines() {
        Run r = run("{\"text\": \"Hello world\"}\n\n{\"text\": \"hello <|endoftext|>\"}\n", "--model", MODEL);
        assertEquals(0, r.code(), r.err());
        assertEquals("{\"ids\":[15496,995]}\n{\"ids\":[31373,220,50256]}\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void ordinaryTreatsEndOfTextAsText() {
        Run r = run("{\"text\": \"<|endoftext|>\"}\n", "--model", MODEL, "--ordinary");
        assertEquals(0, r.code());
        assertTrue(!r.out().contains("50256") && r.out().startsWith("{\"ids\":["), r.out());
    }

    @Test
    void decodesWithOptions() {
        Run r = run("{\"ids\": [15496, 995, 50256]}\n{\"ids\": [40, 1101, 257]}\n", "--model", MODEL, "--decode");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\\R");
        assertEquals("{\"text\":\"Hello world<|endoftext|>\"}", lines[0]);
        Run skip = run("{\"ids\": [15496, 995, 50256]}\n", "--model", MODEL, "--decode", "--skip-special-tokens");
        assertEquals("{\"text\":\"Hello world\"}", skip.out().trim());
        Run enc = run("{\"text\": \"caf\\u00e9 \\u4e2d\\ud83d\\ude00\"}\n", "--model", MODEL);
        Run back = run(enc.out(), "--model", MODEL, "--decode");
        assertEquals("{\"text\":\"caf\\u00E9 \\u4E2D\\uD83D\\uDE00\"}", back.out().trim()); // output is ASCII JSON
    }

    @Test
    void badLinesGiveErrorLinesAndExitCodeOneButTheRestGoThrough() {
        Run r = run("{\"text\": \"a\"}\nnot json\n{\"txt\": 1}\n{\"text\": \"b\"} trailing\n{\"text\": \"c\"}\n", "--model", MODEL);
        assertEquals(1, r.code());
        String[] lines = r.out().split("\\R");
        assertEquals(5, lines.length, r.out());
        assertEquals("{\"ids\":[64]}", lines[0]);
        assertTrue(lines[1].startsWith("{\"error\":\"line 2: "), lines[1]);
        assertTrue(lines[2].startsWith("{\"error\":\"line 3: expected an object with a string field"), lines[2]);
        assertTrue(lines[3].startsWith("{\"error\":\"line 4: "), lines[3]);
        assertEquals("{\"ids\":[66]}", lines[4]);
        assertTrue(r.err().contains("gpt2j tokenize: line 2: "), r.err());
        Run d = run("{\"ids\": [1, 99999999]}\n{\"ids\": [1.5]}\n{\"ids\": [0]}\n", "--model", MODEL, "--decode");
        assertEquals(1, d.code());
        String[] dl = d.out().split("\\R");
        assertTrue(dl[0].contains("line 1: token id 99999999 is out of range"), dl[0]);
        assertTrue(dl[1].contains("line 2: ids[0] is not an integer"), dl[1]);
        assertEquals("{\"text\":\"!\"}", dl[2]);
    }

    @Test
    void registeredInMainAndReadsStdin() {
        InputStream saved = System.in;
        try {
            System.setIn(new ByteArrayInputStream("{\"text\": \"caf\\u00e9 \\u4e2d\"}\n".getBytes(StandardCharsets.UTF_8)));
            CommandLine cl = Main.commandLine();
            assertTrue(cl.getSubcommands().containsKey("tokenize"));
            assertTrue(cl.getSubcommands().containsKey("bench-tokenizer"));
            StringWriter out = new StringWriter();
            cl.setOut(new PrintWriter(out));
            assertEquals(0, cl.execute("tokenize", "--model", MODEL));
            assertTrue(out.toString().startsWith("{\"ids\":["), out.toString());
        } finally {
            System.setIn(saved);
        }
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        assertEquals(1, cl.execute("tokenize", "--model", "/no/such/dir"));
        assertTrue(err.toString().contains("not a directory"), err.toString());
    }
}
