package io.gpt2j.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The de-tokenizers of the GPT-2 paper's benchmarks, by name. Stateless factories; see docs/evaluation.md. */
public final class Detokenizers {
    private Detokenizers() {
    }

    private static final List<String> PUNCT_LEFT = List.of(",", ".", ";", ":", "!", "?", ")", "]", "}", "%");
    /** Moses/WMT-style contractions ("didn 't"): WikiText and the One Billion Word benchmark. */
    private static final List<String> MOSES_CONTRACTIONS = List.of("'s", "'t", "'re", "'ve", "'m", "'ll", "'d");
    /** Penn Treebank-style contractions ("did n't"): PTB, LAMBADA's original text, CBT. */
    private static final List<String> PTB_CONTRACTIONS = List.of("n't", "'s", "'re", "'ve", "'m", "'ll", "'d");
    private static final Set<String> KEEP_DOTS = Set.of("Mr.", "Mrs.", "Ms.", "Dr.", "St.", "Jr.", "Sr.", "Co.", "Inc.",
            "Ltd.", "vs.", "No.", "Mt.", "Lt.", "Gen.", "Col.", "Capt.", "Sgt.", "Rev.", "Prof.", "Corp.", "mr.", "mrs.", "dr.", "st.");

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return List.copyOf(out);
    }

    public static final SpacingDetokenizer WIKITEXT = new SpacingDetokenizer(new SpacingDetokenizer.Style("wikitext",
            concat(MOSES_CONTRACTIONS, PUNCT_LEFT), Set.of("(", "[", "{", "$"), infix(), "\"", "\"", true, true, false,
            KEEP_DOTS, "spacing only: ' @-@ ' ' @,@ ' ' @.@ ', spaces around punctuation, quotes and brackets, "
            + "'= = h = =' headings and line padding are undone and redone exactly; <unk> is kept as is (the words it "
            + "replaced are lost); a few dotted words ending a sentence ('U.S. .') are ambiguous"));

    public static final SpacingDetokenizer PTB = new SpacingDetokenizer(new SpacingDetokenizer.Style("ptb",
            PTB_CONTRACTIONS, Set.of(), Map.of(), null, null, true, false, false, Set.of(),
            "spacing only: contractions (' n't', \" 's\", ...) and line padding are undone and redone exactly; PTB's "
            + "own preprocessing is destructive and is NOT inverted: lower-casing, numbers replaced by N, rare words "
            + "by <unk>, punctuation removed (N and <unk> are kept as literal text)"));

    public static final SpacingDetokenizer ONE_BILLION_WORD = new SpacingDetokenizer(new SpacingDetokenizer.Style("1bw",
            concat(MOSES_CONTRACTIONS, PUNCT_LEFT), Set.of("(", "[", "{", "$"), Map.of(), "\"", "\"", false, false, false,
            KEEP_DOTS, "spacing only (WMT11/Moses tokenization): punctuation, quotes, brackets and contractions; one "
            + "sentence per line; dotted words ending a sentence are ambiguous"));

    public static final SpacingDetokenizer LAMBADA = new SpacingDetokenizer(new SpacingDetokenizer.Style("lambada",
            concat(PTB_CONTRACTIONS, PUNCT_LEFT), Set.of("(", "[", "{", "$"), Map.of(), "``", "''", false, false, true,
            KEEP_DOTS, "original LAMBADA text -> OpenAI-like text: `` '' -> \", PTB contractions and punctuation "
            + "spacing; sentence starts and 'i' are capitalized (lower-casing undoes it); proper nouns stay lower-case "
            + "and the paragraph breaks of OpenAI's version cannot be recovered (use lambada_test.jsonl for the paper's "
            + "numbers)"));

    public static final SpacingDetokenizer CBT = new SpacingDetokenizer(new SpacingDetokenizer.Style("cbt",
            concat(PTB_CONTRACTIONS, PUNCT_LEFT), Set.of("(", "[", "{", "$"), Map.of(), "``", "''", false, false, false,
            KEEP_DOTS, "spacing only: `` '' -> \", PTB contractions, punctuation and brackets"));

    private static Map<String, String> infix() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("@-@", "-");
        m.put("@,@", ",");
        m.put("@.@", ".");
        return m;
    }

    /** The de-tokenizer for a task name (wikitext-2, wikitext-103, ptb, 1bw, lambada, cbt-cn, cbt-ne); NONE otherwise. */
    public static Detokenizer forTask(String task) {
        return switch (task) {
            case "wikitext-2", "wikitext-103" -> WIKITEXT;
            case "ptb" -> PTB;
            case "1bw" -> ONE_BILLION_WORD;
            case "lambada" -> LAMBADA;
            case "cbt-cn", "cbt-ne" -> CBT;
            default -> Detokenizer.NONE;
        };
    }
}
