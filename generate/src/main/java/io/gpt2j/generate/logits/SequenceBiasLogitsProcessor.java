package io.gpt2j.generate.logits;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * transformers' SequenceBiasLogitsProcessor: adds a bias to a sequence's last token when the sequence's other
 * tokens end the current input (single-token sequences always). Biases of one token add up in the map's order.
 */
public class SequenceBiasLogitsProcessor implements LogitsProcessor {
    private final int[][] seqs;
    private final float[] biases;
    private float[] bias;
    private int[] touched;
    private boolean checked;

    public SequenceBiasLogitsProcessor(Map<List<Integer>, Double> sequenceBias) {
        Scores.check(sequenceBias != null, "`sequence_bias` has to be a non-empty map, but is null");
        List<int[]> s = new ArrayList<>();
        List<Float> b = new ArrayList<>();
        sequenceBias.forEach((k, v) -> {
            Scores.check(k != null && !k.isEmpty(), "each key in `sequence_bias` has to be a non-empty list of ids, but is " + k);
            for (Integer id : k) Scores.check(id != null && id >= 0, "each key in `sequence_bias` has to be a list of non-negative ids, but is " + k);
            Scores.check(v != null && !Double.isNaN(v), "each value in `sequence_bias` has to be a float, but is " + v + " for " + k);
            s.add(k.stream().mapToInt(Integer::intValue).toArray());
            b.add(v.floatValue());
        });
        seqs = s.toArray(new int[0][]);
        biases = new float[b.size()];
        for (int i = 0; i < biases.length; i++) biases[i] = b.get(i);
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        if (!checked) {
            List<Integer> bad = new ArrayList<>();
            for (int[] q : seqs) for (int t : q) if (t >= vocab) bad.add(t);
            if (!bad.isEmpty()) {
                throw new IllegalArgumentException("The model vocabulary size is " + vocab
                        + ", but the following tokens were being biased: " + bad);
            }
            bias = new float[vocab];
            touched = new int[seqs.length];
            checked = true;
        }
        int nt = 0;
        for (int q = 0; q < seqs.length; q++) {
            int[] seq = seqs[q];
            if (seq.length == 1) {
                int t = seq[0];
                bias[t] = biases[q];
                touched[nt++] = t;
            }
        }
        for (int q = 0; q < seqs.length; q++) {
            int[] seq = seqs[q];
            if (seq.length == 1 || seq.length > len) continue;
            int prefix = seq.length - 1;
            boolean match = true;
            for (int j = 0; j < prefix && match; j++) match = ids[len - prefix + j] == seq[j];
            int t = seq[prefix];
            bias[t] += match ? biases[q] : 0f;
            touched[nt++] = t;
        }
        for (int i = 0; i < nt; i++) {
            int t = touched[i];
            if (bias[t] != 0f || Float.isNaN(bias[t])) {
                s[off + t] = s[off + t] + bias[t];
                bias[t] = 0f;
            }
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + seqs.length + " sequences)";
    }
}
