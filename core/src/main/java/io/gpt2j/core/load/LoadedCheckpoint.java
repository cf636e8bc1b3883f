package io.gpt2j.core.load;

import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.model.Gpt2Weights;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face GPT-2 directory, loaded: config, raw generation_config.json, and weights that are zero-copy views
 * of the memory-mapped safetensors files (in the files' dtypes). Immutable and shareable across threads;
 * {@link #close()} unmaps the files when the loader created the arena, after which no tensor may be used.
 */
public final class LoadedCheckpoint implements AutoCloseable {
    private final Path dir;
    private final Gpt2Config config;
    private final Map<String, Object> generationConfig;
    private final Gpt2Weights weights;
    private final Map<String, Tensor> extraTensors;
    private final List<SafeTensors> files;

    LoadedCheckpoint(Path dir, Gpt2Config config, Map<String, Object> generationConfig, Gpt2Weights weights,
                     Map<String, Tensor> extraTensors, List<SafeTensors> files) {
        this.dir = dir;
        this.config = config;
        this.generationConfig = generationConfig;
        this.weights = weights;
        this.extraTensors = extraTensors;
        this.files = List.copyOf(files);
    }

    public Path dir() {
        return dir;
    }

    public Gpt2Config config() {
        return config;
    }

    /** generation_config.json as parsed JSON (empty when the file is absent); the generate module interprets it. */
    public Map<String, Object> generationConfig() {
        return generationConfig;
    }

    public Gpt2Weights weights() {
        return weights;
    }

    /**
     * Tensors that are not part of the GPT-2 body, by their name in the file (e.g. {@code score.weight},
     * {@code classifier.weight}, {@code qa_outputs.bias}, or an {@code lm_head.weight} ignored because it is tied).
     */
    public Map<String, Tensor> extraTensors() {
        return extraTensors;
    }

    /** The safetensors files the weights live in, in shard order. */
    public List<Path> files() {
        return files.stream().map(SafeTensors::path).toList();
    }

    /** Every tensor of every file, by its name in the file, in file and header order (for rewriting a checkpoint). */
    Map<String, Tensor> fileTensors() {
        Map<String, Tensor> all = new java.util.LinkedHashMap<>();
        for (SafeTensors f : files) f.tensors().forEach(all::putIfAbsent);
        return all;
    }

    /** The safetensors files' {@code __metadata__} (of the first file). */
    public Map<String, String> metadata() {
        return files.isEmpty() ? Map.of() : files.get(0).metadata();
    }

    @Override
    public void close() {
        for (SafeTensors f : files) f.close();
    }
}
