package io.gpt2j.core.model;

import io.gpt2j.core.io.Tensor;
import java.util.List;

/**
 * Every tensor of a GPT-2 checkpoint, one named field each, in transformers' layout: Conv1D weights are
 * [in, out] (y = x @ W + b), wte is [V, E], wpe is [n_positions, E]. lmHead is wte itself when tied.
 * Shapes are validated against the config by the loader; this class owns no file knowledge.
 */
public record Gpt2Weights(Tensor wte, Tensor wpe, List<Layer> h, Tensor lnFWeight, Tensor lnFBias, Tensor lmHead) {

    /** One transformer block (transformer.h.{i}). */
    public record Layer(
            Tensor ln1Weight, Tensor ln1Bias,
            Tensor cAttnWeight, Tensor cAttnBias,    // [E, 3E], [3E]
            Tensor attnCProjWeight, Tensor attnCProjBias, // [E, E], [E]
            Tensor ln2Weight, Tensor ln2Bias,
            Tensor cFcWeight, Tensor cFcBias,        // [E, I], [I]
            Tensor mlpCProjWeight, Tensor mlpCProjBias) { // [I, E], [E]
    }

    public Gpt2Weights {
        h = List.copyOf(h);
    }

    public boolean tied() {
        return lmHead == wte;
    }
}
