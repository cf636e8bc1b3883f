package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fine-tuning progress bar: its line, redraw in place on stderr, records as JSON lines on stdout. */
class TrainProgressTest {
    @Test
    void barShowsStepLossLearningRateTokensPerSecondAndEta() {
        TrainProgress p = new TrainProgress(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), true);
        p.onStep(1, 100, 2.0, 1e-5, 100); // first step seen: ETA = 12 s / 25 steps * 75 steps left = 36 s
        String line = p.line(25, 100, 1.23456, 4.1e-5, 1523.4, 12.0);
        assertEquals(" 25%|#######                       | 25/100 [00:12<00:36] loss 1.2346 lr 4.10e-05 1523 tok/s", line);
    }

    @Test
    void recordsGoToStdoutAndTheBarToStderr() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        TrainProgress p = new TrainProgress(new PrintWriter(out), new PrintWriter(err), true);
        p.onStep(1, 2, 1.5, 1e-3, 10);
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("step", 1);
        rec.put("loss", 1.5);
        p.onLog(rec);
        p.onStep(2, 2, 1.0, 1e-3, 10);
        p.close();
        assertEquals("{\"step\":1,\"loss\":1.5}" + System.lineSeparator(), out.toString());
        assertTrue(err.toString().startsWith("\r 50%|") && err.toString().contains("\r100%|"), err.toString());
        TrainProgress off = new TrainProgress(new PrintWriter(out), new PrintWriter(err = new StringWriter()), false);
        off.onStep(1, 2, 1.5, 1e-3, 10);
        off.close();
        assertEquals("", err.toString(), "--disable_tqdm draws nothing");
    }
}
