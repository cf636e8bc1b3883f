package io.gpt2j.train;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.io.SafeTensorsWriter;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.load.HfConfig;
import io.gpt2j.core.model.Gpt2Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Files of a run in Hugging Face layout: the model directory transformers loads (config.json, model.safetensors,
 * tokenizer files), and checkpoint-N directories that add optimizer.safetensors and trainer_state.json. A checkpoint
 * is written into a hidden temporary directory and renamed into place, so a killed run never leaves a half one.
 */
public final class Checkpoints {
    public static final String PREFIX = "checkpoint-";
    public static final String OPTIMIZER = "optimizer.safetensors";
    static final List<String> TOKENIZER_FILES = List.of("vocab.json", "merges.txt", "tokenizer_config.json",
            "special_tokens_map.json", "added_tokens.json", "tokenizer.json", "encoder.json", "vocab.bpe");

    private Checkpoints() {
    }

    /**
     * config.json, model.safetensors (F32, transformers' names; LoRA updates merged into the weights) and the
     * tokenizer files of {@code tokenizerDir}.
     */
    public static void writeModel(TrainableGpt2 model, Path dir, Path tokenizerDir) {
        try {
            Files.createDirectories(dir);
            Gpt2Config c = model.config();
            Files.writeString(dir.resolve("config.json"), HfConfig.pretty(HfConfig.toJson(c, "float32")));
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
            LoraAdapter.addMergedModel(w, model);
            w.write(dir.resolve("model.safetensors"));
            copyTokenizer(tokenizerDir, dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the model to " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * A LoRA model's trainable tail as a PEFT adapter directory (adapter_config.json, adapter_model.safetensors: every
     * lora_A / lora_B and the head) plus the tokenizer files; {@code baseModel} is its base_model_name_or_path.
     */
    public static void writeAdapter(TrainableGpt2 model, Path dir, Path tokenizerDir, String baseModel) {
        LoraAdapter.save(model, dir, baseModel);
        try {
            copyTokenizer(tokenizerDir, dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tokenizer files to " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads the trainable parameters of a directory written by {@link #writeCheckpoint} back into {@code model}: all
     * of model.safetensors, or with LoRA the adapter (whose r, alpha, dropout and targets must be the model's); the
     * frozen GPT-2 weights of a LoRA model are not touched (they come from the base checkpoint).
     */
    public static void readTrainable(TrainableGpt2 model, Path dir) {
        boolean adapter = Files.isRegularFile(dir.resolve(LoraAdapter.CONFIG_FILE));
        LoraConfig lc = model.loraConfig();
        if (lc != null) {
            if (!adapter) {
                throw new IllegalArgumentException(dir + ": no " + LoraAdapter.CONFIG_FILE + "; this checkpoint was written without LoRA, resume it without --apply_lora");
            }
            LoraConfig saved = LoraAdapter.readConfig(dir);
            if (!saved.equals(lc)) {
                throw new IllegalArgumentException(dir + ": the checkpoint's LoRA settings " + saved + " differ from this run's " + lc);
            }
            LoraAdapter.load(model, dir);
            return;
        }
        if (adapter && !Files.isRegularFile(dir.resolve("model.safetensors"))) {
            throw new IllegalArgumentException(dir + ": holds a LoRA adapter (" + LoraAdapter.CONFIG_FILE + "); resume it with --apply_lora and the same LoRA settings");
        }
        try (SafeTensors st = SafeTensors.open(dir.resolve("model.safetensors"))) {
            for (ParamLayout.Spec s : model.layout().specs()) {
                Tensor t = st.get(s.name());
                if (t == null || t.numel() != s.size()) {
                    throw new IllegalArgumentException(dir + ": tensor " + s.name() + (t == null ? " is missing" : " has " + t.numel() + " values, expected " + s.size()));
                }
                model.setParam(s.name(), t.toFloatArray());
            }
        }
    }

    private static void copyTokenizer(Path tokenizerDir, Path dir) throws IOException {
        if (tokenizerDir == null) return;
        for (String f : TOKENIZER_FILES) {
            Path src = tokenizerDir.resolve(f);
            if (Files.isRegularFile(src)) Files.copy(src, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The optimizer moments as two flat F32 tensors (exp_avg, exp_avg_sq) plus the step count in the metadata. */
    public static void writeOptimizer(AdamW adam, Path dir) {
        new SafeTensorsWriter().metadata("format", "gpt2j-adamw").metadata("step", Integer.toString(adam.stepCount()))
                .addFloats("exp_avg", DType.F32, new long[]{adam.expAvg().length}, adam.expAvg())
                .addFloats("exp_avg_sq", DType.F32, new long[]{adam.expAvgSq().length}, adam.expAvgSq())
                .write(dir.resolve(OPTIMIZER));
    }

    public static void readOptimizer(AdamW adam, Path dir) {
        Path f = dir.resolve(OPTIMIZER);
        if (!Files.isRegularFile(f)) throw new IllegalArgumentException(dir + ": no " + OPTIMIZER + "; cannot resume the optimizer");
        try (SafeTensors st = SafeTensors.open(f)) {
            Tensor m = st.get("exp_avg"), v = st.get("exp_avg_sq");
            if (m == null || v == null) throw new IllegalArgumentException(f + ": exp_avg / exp_avg_sq missing");
            int step = Integer.parseInt(st.metadata().getOrDefault("step", "-1"));
            adam.restore(m.toFloatArray(), v.toFloatArray(), step);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(f + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code output/checkpoint-<step>} atomically: everything goes to a hidden sibling first, which is then
     * renamed (an older directory of the same name, from a run that was resumed before it, is replaced). A LoRA
     * model's checkpoint holds the adapter (the trainable tail, unmerged, as resume needs it), not the full model;
     * the optimizer moments cover the same tail ({@link AdamW#trainableFrom()}).
     */
    public static Path writeCheckpoint(Path output, int step, TrainableGpt2 model, AdamW adam, TrainerState state,
                                       Path tokenizerDir, String baseModel, java.util.function.Consumer<Path> extra) {
        if (adam.trainableFrom() != model.trainableFrom()) {
            throw new IllegalArgumentException("the optimizer updates from layout offset " + adam.trainableFrom() + ", the model trains from " + model.trainableFrom());
        }
        Path dest = output.resolve(PREFIX + step), tmp = output.resolve(".tmp-" + PREFIX + step);
        try {
            Files.createDirectories(output);
            deleteTree(tmp);
            if (model.loraConfig() != null) writeAdapter(model, tmp, tokenizerDir, baseModel);
            else writeModel(model, tmp, tokenizerDir);
            writeOptimizer(adam, tmp);
            state.write(tmp);
            if (extra != null) extra.accept(tmp);
            if (Files.exists(dest)) {
                Path old = output.resolve(".old-" + PREFIX + step);
                deleteTree(old);
                Files.move(dest, old);
                deleteTree(old);
            }
            try {
                Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dest);
            }
            return dest;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + dest + ": " + e.getMessage(), e);
        }
    }

    /** checkpoint-N directories under {@code output}, oldest (lowest N) first. */
    public static List<Path> list(Path output) {
        if (!Files.isDirectory(output)) return List.of();
        try (Stream<Path> s = Files.list(output)) {
            return s.filter(p -> Files.isDirectory(p) && p.getFileName().toString().matches(PREFIX + "\\d+"))
                    .sorted(Comparator.comparingLong(Checkpoints::stepOf)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + output + ": " + e.getMessage(), e);
        }
    }

    static long stepOf(Path checkpoint) {
        return Long.parseLong(checkpoint.getFileName().toString().substring(PREFIX.length()));
    }

    /**
     * Deletes the oldest checkpoints beyond {@code limit} (0: keep all) as transformers' _rotate_checkpoints does: the
     * best checkpoint counts as the newest, and with limit 1 a best that is not the latest keeps both.
     */
    public static void rotate(Path output, int limit, String best) {
        if (limit <= 0) return;
        List<Path> all = list(output);
        if (all.isEmpty()) return;
        java.util.ArrayList<Path> sorted = new java.util.ArrayList<>(all);
        Path b = best == null ? null : output.resolve(Path.of(best).getFileName());
        if (b != null && sorted.remove(b)) sorted.add(b);
        int keep = b != null && limit == 1 && !all.getLast().equals(b) && all.contains(b) ? 2 : limit;
        for (int i = 0; i < sorted.size() - keep; i++) deleteTree(sorted.get(i));
    }

    /** Replaces files of {@code output} by those of {@code from}, each with an atomic rename. */
    public static void moveFilesInto(Path from, Path output) {
        try (Stream<Path> s = Files.list(from)) {
            for (Path f : s.toList()) {
                try {
                    Files.move(f, output.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(f, output.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.delete(from);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + from + " into " + output + ": " + e.getMessage(), e);
        }
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + p + ": " + e.getMessage(), e);
        }
    }
}
