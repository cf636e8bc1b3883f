package io.gpt2j.core.load;

import io.gpt2j.core.io.CheckpointException;
import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.io.SafeTensorsWriter;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.model.Gpt2Weights;
import io.gpt2j.core.model.WeightConversion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a loaded checkpoint again as one Hugging Face directory whose matmul weights (the four Conv1D weights of
 * every block, wte, an untied lm_head) are stored as another dtype, so that it can be memory-mapped and computed on
 * without converting at load. Every other tensor keeps its name, dtype and bytes; config, generation config and
 * tokenizer files are copied. Each file is written to a temp file and renamed, model.safetensors first.
 */
public final class ConvertedCheckpoint {
    /** Files copied unchanged when the source directory has them. */
    static final List<String> COPIED = List.of(HfCheckpoint.CONFIG, HfCheckpoint.GENERATION_CONFIG, "vocab.json", "merges.txt",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "encoder.json", "vocab.bpe");

    private ConvertedCheckpoint() {
    }

    /** What was written: tensors converted to the target and kept as they were, copied files, model.safetensors bytes. */
    public record Summary(Path file, int converted, int kept, List<String> copiedFiles, long bytes) {
    }

    /**
     * Writes {@code src} to {@code outDir} (created if needed; files of the same name are replaced) with its matmul
     * weights in {@code target} (F32, F16, BF16 or Q8_0), each converted on {@code pool} when the writer reaches it.
     */
    public static Summary write(LoadedCheckpoint src, DType target, Path outDir, Parallel pool) {
        return write(src, target, target == DType.Q8_0, outDir, pool);
    }

    /**
     * As {@link #write(LoadedCheckpoint, DType, Path, Parallel)}; {@code decodeLayout} stores the Conv1D weights
     * transposed ({@code out} rows of {@code in} values: F16_T, BF16_T, Q8_0_T), the layout one decode row reads as a
     * sequential stream, readable by gpt2j only. Q8_0 always takes it; F32 has none.
     */
    public static Summary write(LoadedCheckpoint src, DType target, boolean decodeLayout, Path outDir, Parallel pool) {
        switch (target) {
            case F32, F16, BF16, Q8_0 -> {
            }
            default -> throw new IllegalArgumentException("matmul weights can be stored as F32, F16, BF16 or Q8_0, not " + target);
        }
        if (target == DType.Q8_0 && !decodeLayout) {
            throw new IllegalArgumentException("Q8_0 is stored in the decode layout only (its Conv1D weights as Q8_0_T)");
        }
        if (target == DType.F32 && decodeLayout) {
            throw new IllegalArgumentException("F32 has no decode layout: it is stored as transformers writes it");
        }
        Set<Tensor> matmul = matmulWeights(src.weights()), conv1d = conv1dWeights(src.weights());
        Map<String, Tensor> tensors = src.fileTensors();
        boolean anyQ8 = false;
        int converted = 0, kept = 0;
        SafeTensorsWriter w = new SafeTensorsWriter();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            DType as = conv1d.contains(t) ? WeightConversion.conv1dFileStorage(t, target, decodeLayout) : target;
            if (matmul.contains(t) && t.dtype() != as) {
                checkConvertible(src, e.getKey(), t, target);
                w.addLazy(e.getKey(), as, t.shape(), arena -> WeightConversion.to(t, as, arena, pool).data());
                converted++;
                anyQ8 |= as.isQ8();
            } else {
                w.addRaw(e.getKey(), t.dtype(), t.shape(), t.data());
                if (matmul.contains(t)) converted++; else kept++;
                anyQ8 |= t.dtype().isQ8();
            }
        }
        Map<String, String> meta = new LinkedHashMap<>(src.metadata());
        meta.putIfAbsent("format", "pt"); // transformers refuses safetensors files without it
        meta.put(SafeTensors.FORMAT_KEY, SafeTensors.FORMAT_VERSION);
        meta.remove(SafeTensors.Q8_0_LAYOUT_KEY);
        if (anyQ8) meta.put(SafeTensors.Q8_0_LAYOUT_KEY, SafeTensors.Q8_0_LAYOUT);
        meta.forEach(w::metadata);
        Path file = outDir.resolve(HfCheckpoint.SINGLE);
        try {
            Files.createDirectories(outDir);
            w.write(file);
            List<String> copied = new java.util.ArrayList<>();
            for (String name : COPIED) {
                Path from = src.dir().resolve(name);
                if (!Files.isRegularFile(from)) continue;
                Path tmp = outDir.resolve("." + name + "." + Long.toHexString(System.nanoTime()) + ".tmp");
                Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, outDir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                copied.add(name);
            }
            return new Summary(file, converted, kept, List.copyOf(copied), Files.size(file));
        } catch (IOException e) {
            throw new CheckpointException(outDir + ": cannot write the converted checkpoint: " + e, e);
        }
    }

    /** The tensors the kernels multiply with, by identity (the loader hands out the file's own Tensor objects). */
    static Set<Tensor> matmulWeights(Gpt2Weights w) {
        Set<Tensor> s = conv1dWeights(w);
        s.add(w.wte());
        if (!w.tied()) s.add(w.lmHead());
        return s;
    }

    /** The Conv1D weights among {@link #matmulWeights} (Q8_0 stores them as Q8_0_T). */
    static Set<Tensor> conv1dWeights(Gpt2Weights w) {
        Set<Tensor> s = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Gpt2Weights.Layer l : w.h()) {
            s.add(l.cAttnWeight());
            s.add(l.attnCProjWeight());
            s.add(l.cFcWeight());
            s.add(l.mlpCProjWeight());
        }
        return s;
    }

    private static void checkConvertible(LoadedCheckpoint src, String name, Tensor t, DType target) {
        if (target == DType.Q8_0 && t.numel() % 32 != 0) {
            throw new CheckpointException(src.dir() + ": tensor '" + name + "' has shape " + t.shapeString() + " (" + t.numel()
                    + " elements, not a multiple of 32): it cannot be stored as Q8_0; use f16 or bf16");
        }
    }
}
