package io.gpt2j.train;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.Json;
import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.io.SafeTensorsWriter;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.load.HfConfig;
import io.gpt2j.train.kernels.LoraKernels;
import io.gpt2j.train.kernels.Vec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Saving a LoRA-trained {@link TrainableGpt2} two ways: merged into the GPT-2 weights (a plain transformers
 * checkpoint; W [in,out] += scale·(B·A)ᵀ, streamed tensor by tensor), or as a PEFT adapter directory
 * (adapter_config.json + adapter_model.safetensors, PEFT's tensor names for GPT-2, fan_in_fan_out true) that
 * {@code PeftModel.from_pretrained(base, dir)} loads; and reading such an adapter back. No training logic.
 */
public final class LoraAdapter {
    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** PEFT's prefix for a LoRA model's parameters (PeftModel.base_model = LoraModel, .model = the transformers model). */
    public static final String PREFIX = "base_model.model.";

    private LoraAdapter() {
    }

    /**
     * Adds the model's transformers tensors (no lora_A / lora_B) to {@code w} as F32, with every LoRA update merged
     * in; without LoRA, the plain parameters. Values are produced chunk by chunk when the file is written.
     */
    public static void addMergedModel(SafeTensorsWriter w, TrainableGpt2 model) {
        float[] p = model.params();
        Lora lora = model.lora();
        for (ParamLayout.Spec s : model.modelSpecs()) {
            Lora.Target t = model.loraTarget(s.name());
            int base = s.offset();
            if (t == null) {
                w.addGenerated(s.name(), DType.F32, s.shape(), (off, buf, n) -> System.arraycopy(p, base + (int) off, buf, 0, n));
            } else {
                float[] bt = new float[lora.R * t.out];
                LoraKernels.transpose(bt, p, t.b, t.out, lora.R);
                w.addGenerated(s.name(), DType.F32, s.shape(), (off, buf, n) -> {
                    System.arraycopy(p, base + (int) off, buf, 0, n);
                    addDelta(buf, 0, off, n, p, t.a, bt, t.in, t.out, lora.R, lora.scale);
                });
            }
        }
    }

    /** buf[bufOff + j] += scale * (B·A)ᵀ[from + j] for j < n, over the [in, out] weight flattened row-major; bt = Bᵀ (R,OUT). */
    static void addDelta(float[] buf, int bufOff, long from, int n, float[] params, int aOff, float[] bt,
                         int IN, int OUT, int R, float scale) {
        int j = 0;
        while (j < n) {
            long idx = from + j;
            int i = (int) (idx / OUT), o = (int) (idx % OUT);
            int len = Math.min(OUT - o, n - j);
            for (int k = 0; k < R; k++) Vec.axpy(buf, bufOff + j, bt, k * OUT + o, scale * params[aOff + k * IN + i], len);
            j += len;
        }
    }

    /** PEFT's task_type for the model's head. */
    static String taskType(Task task) {
        return switch (task) {
            case CAUSAL_LM -> "CAUSAL_LM";
            case SEQUENCE_CLASSIFICATION -> "SEQ_CLS";
            case TOKEN_CLASSIFICATION -> "TOKEN_CLS";
        };
    }

    /** PEFT's name in adapter_model.safetensors for one of our trainable parameters. */
    public static String peftName(String name) {
        return PREFIX + name;
    }

    /**
     * Writes {@code dir/adapter_config.json} and {@code dir/adapter_model.safetensors}: every lora_A / lora_B, and
     * the classification head (PEFT's modules_to_save ["classifier", "score"] for SEQ_CLS / TOKEN_CLS), all F32.
     */
    public static void save(TrainableGpt2 model, Path dir, String baseModelNameOrPath) {
        LoraConfig c = model.loraConfig();
        if (c == null) throw new IllegalArgumentException("the model has no LoRA adapters to save; save the full model instead");
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("alpha_pattern", Map.of());
        cfg.put("auto_mapping", null);
        cfg.put("base_model_name_or_path", baseModelNameOrPath);
        cfg.put("bias", "none");
        cfg.put("fan_in_fan_out", true);
        cfg.put("inference_mode", true);
        cfg.put("init_lora_weights", true);
        cfg.put("layers_pattern", null);
        cfg.put("layers_to_transform", null);
        cfg.put("lora_alpha", c.alpha() == Math.rint(c.alpha()) ? (Object) (long) c.alpha() : c.alpha());
        cfg.put("lora_dropout", c.dropout());
        cfg.put("modules_to_save", model.task() == Task.CAUSAL_LM ? null : List.of("classifier", "score"));
        cfg.put("peft_type", "LORA");
        cfg.put("r", c.r());
        cfg.put("rank_pattern", Map.of());
        cfg.put("revision", null);
        cfg.put("target_modules", c.targetModules());
        cfg.put("task_type", taskType(model.task()));
        cfg.put("use_dora", false);
        cfg.put("use_rslora", false);
        SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
        float[] p = model.params();
        for (ParamLayout.Spec s : model.layout().specs()) {
            if (s.offset() < model.trainableFrom()) continue;
            int base = s.offset();
            w.addGenerated(peftName(s.name()), DType.F32, s.shape(), (off, buf, n) -> System.arraycopy(p, base + (int) off, buf, 0, n));
        }
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(CONFIG_FILE), HfConfig.pretty(cfg));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the LoRA adapter to " + dir + ": " + e.getMessage(), e);
        }
        w.write(dir.resolve(WEIGHTS_FILE));
    }

    /** The LoRA settings of an adapter directory's adapter_config.json (peft_type LORA, fan_in_fan_out true). */
    public static LoraConfig readConfig(Path dir) {
        Path f = dir.resolve(CONFIG_FILE);
        Map<String, Object> j;
        try {
            j = Json.parseObject(Files.readString(f));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        }
        if (!"LORA".equals(j.get("peft_type"))) throw new IllegalArgumentException(f + ": peft_type is " + j.get("peft_type") + ", expected LORA");
        if (!Boolean.TRUE.equals(j.get("fan_in_fan_out"))) throw new IllegalArgumentException(f + ": fan_in_fan_out must be true for GPT-2's Conv1D layers");
        if (!(j.get("r") instanceof Number r) || !(j.get("lora_alpha") instanceof Number alpha)) {
            throw new IllegalArgumentException(f + ": r and lora_alpha must be numbers, got " + j.get("r") + ", " + j.get("lora_alpha"));
        }
        double dropout = j.get("lora_dropout") instanceof Number d ? d.doubleValue() : 0;
        List<String> targets = new ArrayList<>();
        if (j.get("target_modules") instanceof List<?> l) for (Object o : l) targets.add(String.valueOf(o));
        else if (j.get("target_modules") instanceof String s) targets.add(s);
        return new LoraConfig(r.intValue(), alpha.doubleValue(), dropout, targets);
    }

    /**
     * Loads an adapter's tensors into {@code model}, which must carry LoRA with the same rank and targets: every
     * trainable parameter must be present under its PEFT name with its shape.
     */
    public static void load(TrainableGpt2 model, Path dir) {
        Path f = dir.resolve(WEIGHTS_FILE);
        try (SafeTensors st = SafeTensors.open(f)) {
            for (ParamLayout.Spec s : model.layout().specs()) {
                if (s.offset() < model.trainableFrom()) continue;
                Tensor t = st.get(peftName(s.name()));
                if (t == null) throw new IllegalArgumentException(f + ": tensor '" + peftName(s.name()) + "' is missing");
                if (!java.util.Arrays.equals(t.shape(), s.shape())) {
                    throw new IllegalArgumentException(f + ": tensor '" + t.name() + "' has shape " + t.shapeString()
                            + ", expected " + java.util.Arrays.toString(s.shape()) + " (same r and target modules?)");
                }
                model.setParam(s.name(), t.toFloatArray());
            }
        }
    }
}
