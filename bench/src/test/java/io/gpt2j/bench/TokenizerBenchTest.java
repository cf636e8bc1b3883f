package io.gpt2j.bench;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's plumbing and its identity check, on a small text with one round (no timing claims). */
class TokenizerBenchTest {
    private static final Path DATA = Path.of(System.getProperty("gpt2j.testdata"));

    @Test
    void agreesWithJtokkitOnThePerplexityText() {
        TokenizerBench.Result r = TokenizerBench.run(new TokenizerBench.Options(DATA.resolve("golden/gpt2-tokenizer"),
                DATA.resolve("golden/texts/perplexity_text.txt"), 0, 0, 1));
        assertTrue(r.identicalIds(), r.mismatch());
        assertEquals(1994, r.tokens());
        assertEquals(4, r.speeds().size());
        assertTrue(TokenizerBench.format(r).contains("ids identical: yes"));
    }

    @Test
    void splitsLinesKeepingNewlinesAndRepeatsToSize() {
        assertEquals(List.of("a\n", "\n", "b"), TokenizerBench.splitLines("a\n\nb"));
        String t = TokenizerBench.loadText(DATA.resolve("golden/texts/perplexity_text.txt"), 0.05);
        assertTrue(t.length() >= 50_000 && t.length() < 70_000, "length " + t.length());
    }
}
