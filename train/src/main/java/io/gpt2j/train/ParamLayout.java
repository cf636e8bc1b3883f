package io.gpt2j.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each named parameter lives in the one flat fp32 buffer (llm.c style), in transformers'
 * {@code named_parameters()} order and names, with transformers' shapes (Conv1D weights [in, out]).
 */
public final class ParamLayout {
    /** One parameter: its transformers name, shape and offset into the flat buffer. */
    public record Spec(String name, long[] shape, int offset, int size) {
        /** Biases and LayerNorm weights: what HF Trainer excludes from weight decay. */
        public boolean noDecayByDefault() {
            return shape.length == 1;
        }
    }

    private final List<Spec> specs = new ArrayList<>();
    private final Map<String, Spec> byName = new LinkedHashMap<>();
    private int total;

    Spec add(String name, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        Spec s = new Spec(name, shape.clone(), total, Math.toIntExact(n));
        total = Math.addExact(total, s.size());
        specs.add(s);
        byName.put(name, s);
        return s;
    }

    public List<Spec> specs() {
        return Collections.unmodifiableList(specs);
    }

    public Spec get(String name) {
        Spec s = byName.get(name);
        if (s == null) throw new IllegalArgumentException("no parameter named '" + name + "'; known: " + byName.keySet());
        return s;
    }

    public boolean has(String name) {
        return byName.containsKey(name);
    }

    public int total() {
        return total;
    }
}
