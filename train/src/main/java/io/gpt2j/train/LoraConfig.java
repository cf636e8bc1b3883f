package io.gpt2j.train;

import java.util.List;

/**
 * LoRA hyper-parameters as PEFT's {@code LoraConfig} names them: rank {@code r}, {@code lora_alpha} (the update is
 * scaled by alpha / r), {@code lora_dropout} on the LoRA input path, and {@code target_modules} matched against
 * GPT-2's Conv1D modules by suffix, as PEFT does ("c_proj" adapts both attn.c_proj and mlp.c_proj). Value only.
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targetModules) {
    /** The Conv1D modules of a GPT-2 block that LoRA can adapt, in the block's order. */
    public static final List<String> MODULES = List.of("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj");
    /** The suffixes accepted in target_modules. */
    public static final List<String> TARGETS = List.of("c_attn", "c_proj", "c_fc");

    public LoraConfig {
        if (r < 1) throw new IllegalArgumentException("lora_r must be >= 1, got " + r);
        if (!(alpha > 0) || Double.isInfinite(alpha)) throw new IllegalArgumentException("lora_alpha must be > 0, got " + alpha);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + dropout);
        if (targetModules == null || targetModules.isEmpty()) {
            throw new IllegalArgumentException("LoRA target_modules must name at least one of " + TARGETS);
        }
        for (String t : targetModules) {
            if (!TARGETS.contains(t)) {
                throw new IllegalArgumentException("LoRA target module '" + t + "' is not a GPT-2 Conv1D module; expected some of " + TARGETS);
            }
        }
        targetModules = List.copyOf(targetModules);
    }

    /** Azure ML's finetune component defaults (lora_r 8, lora_alpha 128, lora_dropout 0) on PEFT's GPT-2 default target c_attn. */
    public static LoraConfig defaults() {
        return new LoraConfig(8, 128, 0.0, List.of("c_attn"));
    }

    /** The factor applied to B·A (PEFT's {@code scaling}, without rsLoRA). */
    public float scaling() {
        return (float) (alpha / r);
    }

    /** Whether the module (e.g. "mlp.c_proj", or a full name ending in it) is adapted: PEFT's "ends with .target". */
    public boolean targets(String module) {
        for (String t : targetModules) {
            if (module.equals(t) || module.endsWith("." + t)) return true;
        }
        return false;
    }
}
