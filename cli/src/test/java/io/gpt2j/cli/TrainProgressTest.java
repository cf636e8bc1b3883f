package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The fine-tuning progress bar (me.tongfei:progressbar): what it shows, in place on a terminal, as whole lines when
 * stderr is a log, records as JSON lines on stdout with the bar wiped first, nothing with --disable_tqdm.
 */
class TrainProgressTest {
    static final int NEVER = 3_600_000; // refresh interval that leaves drawing to close(): no timing in the assertions
    static final Pattern STEP = Pattern.compile("(\\d+)/(\\d+)");

    record Streams(StringWriter out, StringWriter err) {
        PrintWriter o() {
            return new PrintWriter(out, true);
        }

        PrintWriter e() {
            return new PrintWriter(err, true);
        }
    }

    static Streams streams() {
        return new Streams(new StringWriter(), new StringWriter());
    }

    @Test
    void barShowsStepEtaLossLearningRateAndTokensPerSecond() {
        Streams s = streams();
        TrainProgress p = new TrainProgress(s.o(), s.e(), TrainProgress.Mode.TERMINAL, NEVER);
        for (int step = 1; step <= 25; step++) p.onStep(step, 100, 2.0 / step, 1e-5 * step, 100 * step);
        p.onStep(25, 100, 1.23456, 4.1e-5, 1523.4);
        p.close();
        String err = s.err().toString();
        System.out.println("[bar] " + err.replace("\r", "\\r").replace("\n", "\\n"));
        assertTrue(err.startsWith("\r") && err.endsWith(System.lineSeparator()), "redrawn in place, line ended on close: " + err);
        String last = err.substring(err.lastIndexOf('\r') + 1).stripTrailing();
        assertTrue(last.contains(" 25%") && last.contains("25/100"), last);
        assertTrue(last.endsWith("loss 1.2346 lr 4.10e-05 1523 tok/s"), last);
        assertTrue(last.matches(".*\\(\\d+:\\d\\d:\\d\\d / \\d+:\\d\\d:\\d\\d\\).*"), "elapsed / ETA: " + last);
        assertEquals(1523.4, p.tokensPerSecond());
        assertEquals("", s.out().toString(), "the bar never goes to stdout");
    }

    /** Not a terminal (CI logs, a file): no carriage returns, one whole line per refresh, the final state at the end. */
    @Test
    void logModePrintsWholeLinesWithoutCarriageReturns() throws Exception {
        Streams s = streams();
        TrainProgress p = new TrainProgress(s.o(), s.e(), TrainProgress.Mode.LOG, 40);
        for (int step = 1; step <= 3; step++) {
            p.onStep(step, 3, 1.0 / step, 1e-4, 500);
            Thread.sleep(300); // several refresh intervals: the library's thread prints this step's line
        }
        p.close();
        String err = s.err().toString();
        System.out.print("[log]\n" + err);
        assertFalse(err.contains("\r"), "no in-place redraw in a log");
        List<String> lines = err.lines().toList();
        assertTrue(lines.size() >= 3, "a line per refreshed step: " + lines);
        int prev = -1; // the library may render the starting state (0/3) first
        for (String l : lines) {
            Matcher m = STEP.matcher(l);
            assertTrue(m.find() && m.group(2).equals("3"), l);
            int step = Integer.parseInt(m.group(1));
            assertTrue(step > prev, "a line only when the step advanced: " + lines);
            prev = step;
        }
        assertTrue(lines.getLast().contains("3/3") && lines.getLast().endsWith("loss 0.3333 lr 1.00e-04 500 tok/s"), lines.getLast());
    }

    @Test
    void recordsGoToStdoutAndWipeTheBarFirst() throws Exception {
        Streams s = streams();
        TrainProgress p = new TrainProgress(s.o(), s.e(), TrainProgress.Mode.TERMINAL, NEVER);
        p.onStep(1, 2, 1.5, 1e-3, 10);
        p.refreshNow(); // a loaded machine can delay the library's refresh thread for seconds: draw explicitly
        assertTrue(s.err().toString().contains("1/2"), "drawn: " + s.err());
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("step", 1);
        rec.put("loss", 1.5);
        p.onLog(rec);
        assertTrue(s.err().toString().matches("(?s).*\r {40,}\r$"),
                "the bar is wiped before a record: " + s.err().toString().replace("\r", "\\r"));
        p.onStep(2, 2, 1.0, 1e-3, 10);
        p.close();
        assertEquals("{\"step\":1,\"loss\":1.5}" + System.lineSeparator(), s.out().toString());
        assertTrue(s.err().toString().contains("2/2") && s.err().toString().endsWith(System.lineSeparator()), s.err().toString());
    }

    @Test
    void disabledDrawsNothingAndNonTerminalsGetLines() {
        Streams s = streams();
        TrainProgress off = new TrainProgress(s.o(), s.e(), TrainProgress.Mode.OFF);
        off.onStep(1, 2, 1.5, 1e-3, 10);
        off.close();
        assertEquals("", s.err().toString(), "--disable_tqdm draws nothing");
        assertEquals(10, off.tokensPerSecond(), "the summary's tokens/s is kept without a bar");
        assertEquals(TrainProgress.Mode.OFF, TrainProgress.mode(true));
        // surefire's forked JVM has no terminal, as CI does not: plain lines, whether or not --disable_tqdm false is given
        assertEquals(TrainProgress.Mode.LOG, TrainProgress.mode(null));
        assertEquals(TrainProgress.Mode.LOG, TrainProgress.mode(false));
    }
}
