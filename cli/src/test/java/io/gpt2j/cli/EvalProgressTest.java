package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The evaluation progress bar (me.tongfei:progressbar): final state in log mode, no carriage returns in logs, off when quiet. */
class EvalProgressTest {
    static final int NEVER = 3_600_000; // refresh interval that leaves drawing to close(): no timing in the assertions

    @Test
    void logModePrintsTheFinalStateAsOnePlainLine() {
        StringWriter err = new StringWriter();
        try (EvalProgress p = new EvalProgress(new PrintWriter(err, true), "wikitext-2", TrainProgress.Mode.LOG, NEVER)) {
            for (int i = 0; i <= 40; i++) p.update(i, 40);
        }
        String s = err.toString();
        assertFalse(s.contains("\r"), "a log must not get carriage returns: " + s);
        assertTrue(s.contains("wikitext-2"), s);
        assertTrue(s.contains("40/40"), "final state shown: " + s);
        assertTrue(s.contains("100%"), s);
        assertEquals(s.strip().lines().count(), s.strip().lines().distinct().count(), "no repeated line: " + s);
    }

    @Test
    void terminalModeRedrawsInPlaceAndEndsTheLine() {
        StringWriter err = new StringWriter();
        try (EvalProgress p = new EvalProgress(new PrintWriter(err, true), "lambada", TrainProgress.Mode.TERMINAL, NEVER)) {
            p.update(3, 10);
            p.update(10, 10);
        }
        String s = err.toString();
        assertTrue(s.startsWith("\r"), s);
        assertTrue(s.contains("10/10") && s.endsWith(System.lineSeparator()), s);
    }

    @Test
    void quietPrintsNothing() {
        StringWriter err = new StringWriter();
        try (EvalProgress p = EvalProgress.forRun(new PrintWriter(err, true), "ptb", true)) {
            p.update(5, 10);
        }
        assertEquals("", err.toString());
    }
}
