package io.gpt2j.cli;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.ConvertedCheckpoint;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gpt2j quantize}: rewrites a checkpoint with its matmul weights in another dtype (wiring only). */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Writes a copy of a Hugging Face GPT-2 directory whose matmul weights (c_attn, attn.c_proj, c_fc, mlp.c_proj,",
                "wte, an untied lm_head) are stored as --dtype; every other tensor, config.json, generation_config.json and",
                "the tokenizer files are copied as they are. Loading the result memory-maps it and computes on it directly.",
                "F16, BF16 and F32 output is a standard safetensors file that transformers loads; Q8_0 (llama.cpp's blocks",
                "of 32 int8 with one fp16 scale) is readable by gpt2j only. --layout decode stores F16/BF16 Conv1D weights",
                "transposed, as the load-time --dtype conversion does: faster decode, readable by gpt2j only.",
                "Example: gpt2j quantize --model gpt2-large --dtype q8_0 --out gpt2-large-q8_0"})
final class QuantizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face GPT-2 directory to read")
    Path model;

    @Option(names = "--dtype", required = true, description = "q8_0, f16, bf16 or f32")
    String dtype;

    @Option(names = "--out", required = true, description = "output directory (must not exist or be empty unless --force)")
    Path out;

    @Option(names = "--layout", description = "hf (default for f16, bf16, f32: transformers' layout) or decode (Conv1D "
            + "weights transposed, gpt2j-only; always so for q8_0)")
    String layout;

    @Option(names = "--force", description = "write into a non-empty --out, replacing files of the same name")
    boolean force;

    @Option(names = "--threads", description = "conversion threads (default: all available processors)")
    Integer threads;

    @Spec
    CommandSpec spec;

    static DType parseDtype(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "q8_0", "q8" -> DType.Q8_0;
            case "f16", "float16", "fp16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            case "f32", "float32", "fp32" -> DType.F32;
            default -> throw new IllegalArgumentException("--dtype must be q8_0, f16, bf16 or f32, got '" + s + "'");
        };
    }

    /** --layout: hf or decode; unset means hf, except for Q8_0 which has only the decode layout. */
    static boolean parseLayout(String s, DType target) {
        if (s == null) return target == DType.Q8_0;
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "hf" -> {
                if (target == DType.Q8_0) throw new IllegalArgumentException("--layout hf: Q8_0 is stored in the decode layout only");
                yield false;
            }
            case "decode" -> {
                if (target == DType.F32) throw new IllegalArgumentException("--layout decode: F32 is stored in transformers' layout only");
                yield true;
            }
            default -> throw new IllegalArgumentException("--layout must be hf or decode, got '" + s + "'");
        };
    }

    @Override
    public Integer call() throws IOException {
        DType target = parseDtype(dtype);
        boolean decodeLayout = parseLayout(layout, target);
        if (!Files.isDirectory(model)) throw new IllegalArgumentException("--model " + model + " is not a directory");
        if (Files.exists(out) && Files.exists(model) && Files.isSameFile(out, model)) {
            throw new IllegalArgumentException("--out " + out + " is the --model directory; write the converted copy elsewhere");
        }
        if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException("--out " + out + " is a file, not a directory");
        if (!force && Files.isDirectory(out)) {
            try (Stream<Path> entries = Files.list(out)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException("--out " + out + " is not empty; pass --force to write into it");
                }
            }
        }
        int th = threads == null ? Parallel.defaultThreads() : threads;
        long t0 = System.nanoTime();
        try (LoadedCheckpoint ck = HfCheckpoint.load(model); Parallel pool = new Parallel(th)) {
            long inBytes = 0;
            for (Path f : ck.files()) inBytes += Files.size(f);
            ConvertedCheckpoint.Summary s = ConvertedCheckpoint.write(ck, target, decodeLayout, out, pool);
            double secs = (System.nanoTime() - t0) / 1e9;
            spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s: %d matmul weights as %s%s, %d other tensors as they were; "
                            + "%.1f MB (from %.1f MB) in %.1f s; copied %s%n", s.file(), s.converted(), target,
                    decodeLayout ? " (Conv1D weights transposed: decode layout)" : "", s.kept(),
                    s.bytes() / 1e6, inBytes / 1e6, secs, String.join(", ", s.copiedFiles()));
            spec.commandLine().getOut().flush();
        }
        return 0;
    }
}
