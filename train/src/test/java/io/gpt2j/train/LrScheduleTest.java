package io.gpt2j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * The schedules against values worked out by hand from transformers' optimization.py (v4.38) formulas;
 * warmup 2, 10 training steps unless stated. All at 1e-12.
 */
class LrScheduleTest {
    static void expect(LrSchedule s, double baseLr, double... factors) {
        for (int t = 0; t < factors.length; t++) {
            assertEquals(factors[t], s.factor(baseLr, t), 1e-12, s.type() + " step " + t);
        }
    }

    @Test
    void linearWithWarmupStartsAtZero() {
        expect(LrSchedule.of("linear", 2, 10), 1e-3, 0, 0.5, 1, 7 / 8.0, 6 / 8.0, 5 / 8.0, 4 / 8.0, 3 / 8.0, 2 / 8.0, 1 / 8.0, 0, 0);
        expect(LrSchedule.of("linear", 0, 4), 1e-3, 1, 0.75, 0.5, 0.25, 0);
    }

    @Test
    void cosine() {
        // progress p = (t-2)/8; 0.5 * (1 + cos(pi * 0.5 * 2 * p))
        expect(LrSchedule.of("cosine", 2, 10), 1e-3, 0, 0.5, 1, 0.5 * (1 + Math.cos(Math.PI / 8)), 0.5 * (1 + Math.cos(Math.PI / 4)),
                0.5 * (1 + Math.cos(3 * Math.PI / 8)), 0.5, 0.5 * (1 + Math.cos(5 * Math.PI / 8)), 0.5 * (1 + Math.cos(3 * Math.PI / 4)),
                0.5 * (1 + Math.cos(7 * Math.PI / 8)), 0, 0.5 * (1 + Math.cos(9 * Math.PI / 8)) /* past the end it rises again, exactly as HF's formula does */);
    }

    @Test
    void cosineWithHardRestarts() {
        LrSchedule s = new LrSchedule("cosine_with_restarts", 0, 8, 2, 1e-7, 1);
        // two cycles of 4 steps: 0.5 * (1 + cos(pi * ((2 * t/8) % 1)))
        expect(s, 1e-3, 1, 0.5 * (1 + Math.cos(Math.PI / 4)), 0.5, 0.5 * (1 + Math.cos(3 * Math.PI / 4)),
                1, 0.5 * (1 + Math.cos(Math.PI / 4)), 0.5, 0.5 * (1 + Math.cos(3 * Math.PI / 4)), 0, 0);
        expect(LrSchedule.of("cosine_with_restarts", 2, 10), 1e-3, 0, 0.5, 1, 0.5 * (1 + Math.cos(Math.PI / 8)));
    }

    @Test
    void polynomialDecaysToLrEnd() {
        LrSchedule s = new LrSchedule("polynomial", 2, 10, 0.5, 1e-7, 2.0);
        double lr = 1e-3, range = lr - 1e-7;
        expect(s, lr, 0, 0.5, 1, (range * Math.pow(7 / 8.0, 2) + 1e-7) / lr, (range * Math.pow(6 / 8.0, 2) + 1e-7) / lr);
        assertEquals(1e-7 / lr, s.factor(lr, 10), 1e-12);
        assertEquals(1e-7 / lr, s.factor(lr, 11), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> s.factor(1e-8, 5));
        expect(LrSchedule.of("polynomial", 0, 4), 1e-3, 1, (range * 0.75 + 1e-7) / lr);
    }

    @Test
    void constantAndConstantWithWarmup() {
        expect(LrSchedule.of("constant", 2, 10), 1e-3, 1, 1, 1, 1);
        expect(LrSchedule.of("constant_with_warmup", 4, 10), 1e-3, 0, 0.25, 0.5, 0.75, 1, 1, 1);
        assertEquals(5e-4, LrSchedule.of("constant_with_warmup", 2, 10).lr(1e-3, 1), 1e-15);
    }

    @Test
    void unknownTypeIsRejectedWithTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.of("inverse_sqrt_typo", 0, 1));
        assertEquals(true, e.getMessage().contains("linear"));
    }

    @Test
    void hfTrainerDecayGrouping() {
        assertEquals(false, AdamW.decaysInHfTrainer("transformer.h.0.ln_1.weight"));
        assertEquals(false, AdamW.decaysInHfTrainer("transformer.ln_f.weight"));
        assertEquals(false, AdamW.decaysInHfTrainer("transformer.h.3.mlp.c_fc.bias"));
        assertEquals(false, AdamW.decaysInHfTrainer("classifier.bias"));
        assertEquals(true, AdamW.decaysInHfTrainer("transformer.wte.weight"));
        assertEquals(true, AdamW.decaysInHfTrainer("transformer.h.0.attn.c_attn.weight"));
        assertEquals(true, AdamW.decaysInHfTrainer("score.weight"));
    }
}
