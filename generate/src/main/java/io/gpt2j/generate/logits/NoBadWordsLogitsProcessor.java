package io.gpt2j.generate.logits;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * transformers' NoBadWordsLogitsProcessor: a sequence bias of -inf for every bad-word entry, after dropping entries
 * equal to a single eos id. A multi-token entry bans its last token only when its prefix ends the current input.
 */
public final class NoBadWordsLogitsProcessor extends SequenceBiasLogitsProcessor {
    public NoBadWordsLogitsProcessor(List<int[]> badWordsIds, int... eosTokenIds) {
        super(toBias(badWordsIds, eosTokenIds));
    }

    private static Map<List<Integer>, Double> toBias(List<int[]> badWordsIds, int[] eos) {
        Scores.check(badWordsIds != null && !badWordsIds.isEmpty(), "`bad_words_ids` has to be a non-empty list, but is " + badWordsIds);
        Map<List<Integer>, Double> m = new LinkedHashMap<>();
        outer:
        for (int[] seq : badWordsIds) {
            Scores.check(seq != null && seq.length > 0, "each list in `bad_words_ids` has to be a non-empty list of ids, but is " + Arrays.toString(seq));
            for (int t : seq) Scores.check(t >= 0, "each list in `bad_words_ids` has to be a list of non-negative ids, but is " + Arrays.toString(seq));
            if (eos != null && seq.length == 1) for (int e : eos) if (seq[0] == e) continue outer;
            List<Integer> key = new ArrayList<>();
            for (int t : seq) key.add(t);
            m.put(List.copyOf(key), Double.NEGATIVE_INFINITY);
        }
        return m;
    }
}
