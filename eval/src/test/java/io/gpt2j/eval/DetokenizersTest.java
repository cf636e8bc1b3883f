package io.gpt2j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Round trips (retokenize(detokenize(x)) == x) on benchmark excerpts, plus the exact de-tokenized forms. */
class DetokenizersTest {
    static String resource(String name) {
        try (InputStream in = DetokenizersTest.class.getResourceAsStream("/" + name)) {
            if (in == null) throw new IllegalStateException("missing test resource " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void wikitextExamples() {
        Detokenizer d = Detokenizers.WIKITEXT;
        assertEquals("== Career ==", d.detokenize(" = = Career = = "));
        assertEquals(" = = = 2006 – present = = = ", d.retokenize(d.detokenize(" = = = 2006 – present = = = ")));
        assertEquals("", d.detokenize(" "));
        assertEquals("He had a guest-starring role, worth $5,000 (about 3.5% of \"the budget\"); it didn't last.",
                d.detokenize(" He had a guest @-@ starring role , worth $ 5 @,@ 000 ( about 3 @.@ 5 % of \" the budget \" ) ; it didn 't last . "));
        assertEquals("The U.S. team's record.", d.detokenize(" The U.S. team 's record . "));
        String x = " The U.S. team 's record . \n = Robert <unk> = \n \n";
        assertEquals(x, d.retokenize(d.detokenize(x)));
    }

    @Test
    void wikitextKnownAmbiguity() {
        // "Jr ." (two tokens) and "Jr." (one token) de-tokenize alike; we re-tokenize as the more common one-token form
        Detokenizer d = Detokenizers.WIKITEXT;
        String x = " Ricardo <unk> Jr . , and ";
        assertEquals(" Ricardo <unk> Jr. , and ", d.retokenize(d.detokenize(x)));
    }

    @Test
    void wikitextRoundTripOnExcerpts() {
        for (String f : new String[] {"wikitext2-test-head.tokens", "wikitext2-test-head.raw"}) {
            String x = resource(f);
            String det = Detokenizers.WIKITEXT.detokenize(x);
            assertEquals(x, Detokenizers.WIKITEXT.retokenize(det), f);
            // the word-level units are those of the original text
            assertEquals(WordCount.count(x, true), WordCount.count(Detokenizers.WIKITEXT.retokenize(det), true));
        }
    }

    @Test
    void ptb() {
        Detokenizer d = Detokenizers.PTB;
        assertEquals("no it wasn't black monday", d.detokenize(" no it was n't black monday "));
        assertEquals("the company's N <unk> they're", d.detokenize(" the company 's N <unk> they 're "));
        String x = resource("ptb-test-head.txt");
        assertEquals(x, d.retokenize(d.detokenize(x)));
        // destructive PTB preprocessing is not undone: still lower case, N and <unk>
        String det = d.detokenize(x);
        org.junit.jupiter.api.Assertions.assertFalse(det.chars().anyMatch(c -> Character.isUpperCase(c) && c != 'N'), "PTB stays lower-case");
        org.junit.jupiter.api.Assertions.assertTrue(det.contains("<unk>") && det.contains(" N "), "N and <unk> are kept");
    }

    @Test
    void oneBillionWord() {
        Detokenizer d = Detokenizers.ONE_BILLION_WORD;
        String x = resource("1bw-mini.txt");
        String det = d.detokenize(x);
        assertEquals("The council said on Tuesday that it wouldn't raise taxes, despite a $40 million shortfall.", det.lines().findFirst().orElseThrow());
        assertEquals("\"We're not going to balance the budget on the backs of families,\" the mayor said.", det.lines().skip(1).findFirst().orElseThrow());
        assertEquals(x, d.retokenize(det));
    }

    @Test
    void lambadaOriginalToOpenAiStyle() {
        Detokenizer d = Detokenizers.LAMBADA;
        String x = resource("lambada-plain-head.txt");
        String det = d.detokenize(x);
        assertEquals(x, d.retokenize(det));
        String first = det.lines().findFirst().orElseThrow();
        // OpenAI's text of the same passage, minus the paragraph breaks and the proper noun's capital
        String openAi = "In my palm is a clear stone, and inside it is a small ivory statuette. A guardian angel. "
                + "\"Figured if you're going to be out at night getting hit by cars, you might as well have some backup.\" "
                + "I look at him, feeling stunned. Like this is some sort of sign. But as I stare at harlin, his mouth "
                + "curved in a confident grin, I don't care about signs";
        assertEquals(openAi, first);
    }

    @Test
    void cbt() {
        Detokenizer d = Detokenizers.CBT;
        String x = "`` Nonsense ! '' said the king , who did n't believe it .";
        assertEquals("\"Nonsense!\" said the king, who didn't believe it.", d.detokenize(x));
        assertEquals(x, d.retokenize(d.detokenize(x)));
    }

    @Test
    void forTask() {
        assertEquals("wikitext", Detokenizers.forTask("wikitext-103").name());
        assertEquals("ptb", Detokenizers.forTask("ptb").name());
        assertEquals("none", Detokenizers.forTask("text").name());
    }
}
