package io.gpt2j.core.model;

import io.gpt2j.core.Golden;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.Parallel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Builds the golden tiny models straight from their safetensors files (independently of the loader). */
public final class TestModels {
    private TestModels() {
    }

    public static final Parallel POOL = new Parallel(2);

    public static Gpt2 load(String name) {
        Map<String, Object> cj = Golden.json(Golden.path("checkpoints", name, "config.json"));
        int v = num(cj, "vocab_size"), np = num(cj, "n_positions"), e = num(cj, "n_embd"), l = num(cj, "n_layer"), h = num(cj, "n_head");
        Gpt2Config c = Gpt2Config.of(v, np, e, l, h);
        Map<String, Tensor> t = Golden.safetensors(Golden.path("checkpoints", name, "model.safetensors"));
        List<Gpt2Weights.Layer> layers = new ArrayList<>();
        for (int i = 0; i < l; i++) {
            String p = "transformer.h." + i + ".";
            layers.add(new Gpt2Weights.Layer(t.get(p + "ln_1.weight"), t.get(p + "ln_1.bias"),
                    t.get(p + "attn.c_attn.weight"), t.get(p + "attn.c_attn.bias"),
                    t.get(p + "attn.c_proj.weight"), t.get(p + "attn.c_proj.bias"),
                    t.get(p + "ln_2.weight"), t.get(p + "ln_2.bias"),
                    t.get(p + "mlp.c_fc.weight"), t.get(p + "mlp.c_fc.bias"),
                    t.get(p + "mlp.c_proj.weight"), t.get(p + "mlp.c_proj.bias")));
        }
        Tensor wte = t.get("transformer.wte.weight");
        Gpt2Weights w = new Gpt2Weights(wte, t.get("transformer.wpe.weight"), layers,
                t.get("transformer.ln_f.weight"), t.get("transformer.ln_f.bias"), wte);
        return new Gpt2(c, w, POOL);
    }

    private static int num(Map<String, Object> m, String k) {
        return ((Number) m.get(k)).intValue();
    }
}
