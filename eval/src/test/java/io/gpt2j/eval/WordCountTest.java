package io.gpt2j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Word counts for word-level perplexity; the full-file figures (WikiText-2 245,569, PTB 82,430) are in docs. */
class WordCountTest {
    @Test
    void countsWordsAndLines() {
        assertEquals(0, WordCount.words(""));
        assertEquals(3, WordCount.words("  a  b\tc \n"));
        assertEquals(1, WordCount.lines("a b"));
        assertEquals(2, WordCount.lines("a\n\nb".substring(0, 3)));
        assertEquals(6, WordCount.count(" no it was n't \n", true) + 1);
    }

    @Test
    void excerptsUseTheBenchmarkConvention() {
        // WikiText: words + one <eos> per line (blank lines " " count an <eos> too), same for the raw and tokens files
        String tokens = DetokenizersTest.resource("wikitext2-test-head.tokens");
        String raw = DetokenizersTest.resource("wikitext2-test-head.raw");
        assertEquals(40, WordCount.lines(tokens));
        assertEquals(WordCount.count(tokens, true), WordCount.count(raw, true));
        // de-tokenizing changes the whitespace words but not the count of the original
        assertEquals(WordCount.count(tokens, true), WordCount.count(Detokenizers.WIKITEXT.retokenize(Detokenizers.WIKITEXT.detokenize(tokens)), true));
        String ptb = DetokenizersTest.resource("ptb-test-head.txt");
        assertEquals(60, WordCount.lines(ptb));
    }
}
