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
import java.util.Arrays;
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

    /** config.json, model.safetensors (F32, transformers' names) and the tokenizer files of {@code tokenizerDir}. */
    public static void writeModel(TrainableGpt2 model, Path dir, Path tokenizerDir) {
        try {
            Files.createDirectories(dir);
            Gpt2Config c = model.config();
            Files.writeString(dir.resolve("config.json"), HfConfig.pretty(HfConfig.toJson(c, "float32")));
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
            float[] p = model.params();
            for (ParamLayout.Spec s : model.layout().specs()) {
                w.addFloats(s.name(), DType.F32, s.shape(), Arrays.copyOfRange(p, s.offset(), s.offset() + s.size()));
            }
            w.write(dir.resolve("model.safetensors"));
            if (tokenizerDir != null) {
                for (String f : TOKENIZER_FILES) {
                    Path src = tokenizerDir.resolve(f);
                    if (Files.isRegularFile(src)) Files.copy(src, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the model to " + dir + ": " + e.getMessage(), e);
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
            int step = Integer.parseInt(st.metadata().getOrDefault("step", "-1"));
            adam.restore(m.toFloatArray(), v.toFloatArray(), step);
        }
    }

    /**
     * Writes {@code output/checkpoint-<step>} atomically: everything goes to a hidden sibling first, which is then
     * renamed (an older directory of the same name, from a run that was resumed before it, is replaced).
     */
    public static Path writeCheckpoint(Path output, int step, TrainableGpt2 model, AdamW adam, TrainerState state,
                                       Path tokenizerDir, java.util.function.Consumer<Path> extra) {
        Path dest = output.resolve(PREFIX + step), tmp = output.resolve(".tmp-" + PREFIX + step);
        try {
            Files.createDirectories(output);
            deleteTree(tmp);
            writeModel(model, tmp, tokenizerDir);
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
