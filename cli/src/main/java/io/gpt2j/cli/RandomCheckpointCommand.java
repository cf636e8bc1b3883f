package io.gpt2j.cli;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.RandomCheckpoint;
import io.gpt2j.core.model.Gpt2Config;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gpt2j random-checkpoint}: writes a random-weight GPT-2 in Hugging Face layout (wiring only). */
@Command(name = "random-checkpoint", mixinStandardHelpOptions = true,
        description = {"Writes a random-weight GPT-2 checkpoint in Hugging Face layout (config.json, generation_config.json,",
                "model.safetensors, vocab.json, merges.txt, tokenizer_config.json), for benchmarks and tests.",
                "Example: gpt2j random-checkpoint --config gpt2-large --dtype f32 --out /tmp/gpt2-large-random"})
public final class RandomCheckpointCommand implements Callable<Integer> {
    private static final String BUNDLED = "/gpt2-tokenizer/";

    @Option(names = "--config", description = "gpt2, gpt2-medium, gpt2-large or gpt2-xl (default gpt2); the dimension options override it")
    String config = "gpt2";

    @Option(names = "--n-embd", description = "embedding width") Integer nEmbd;
    @Option(names = "--n-layer", description = "number of blocks") Integer nLayer;
    @Option(names = "--n-head", description = "attention heads") Integer nHead;
    @Option(names = "--n-positions", description = "context length") Integer nPositions;
    @Option(names = "--vocab-size", description = "vocabulary size") Integer vocabSize;

    @Option(names = "--dtype", description = "f32, f16, bf16 or q8_0 (default f32; q8_0: matmul weights quantized, the rest F32, gpt2j-only)")
    String dtype = "f32";

    @Option(names = "--out", required = true, description = "output directory")
    Path out;

    @Option(names = "--seed", description = "random seed (default 0)")
    long seed;

    @Option(names = "--tokenizer", description = "directory with vocab.json and merges.txt to copy (default: the bundled "
            + "GPT-2 tokenizer when vocab size >= 50257; required for smaller vocabularies)")
    Path tokenizer;

    @Option(names = "--force", description = "overwrite an existing checkpoint in --out")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        DType dt = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32", "float32", "fp32" -> DType.F32;
            case "f16", "float16", "fp16" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            case "q8_0", "q8" -> DType.Q8_0;
            default -> throw new IllegalArgumentException("--dtype must be f32, f16, bf16 or q8_0, got '" + dtype + "'");
        };
        if (!force && Files.exists(out.resolve(HfCheckpoint.SINGLE))) {
            throw new IllegalArgumentException(out + " already holds a checkpoint; pass --force to overwrite it");
        }
        Gpt2Config base = Gpt2Config.standard(config);
        int v = vocabSize != null ? vocabSize : base.vocabSize();
        int e = nEmbd != null ? nEmbd : base.nEmbd();
        Path tokDir = tokenizer;
        Path extracted = null;
        if (tokDir == null) {
            if (v < 50257) {
                throw new IllegalArgumentException("--vocab-size " + v + " is smaller than GPT-2's 50257 tokens: pass "
                        + "--tokenizer DIR with a matching vocab.json and merges.txt");
            }
            extracted = extractBundledTokenizer();
            tokDir = extracted;
        }
        try {
            int eos = RandomCheckpoint.endOfTextId(tokDir);
            if (eos < 0 || eos >= v) eos = v - 1;
            Gpt2Config c = new Gpt2Config(v, nPositions != null ? nPositions : base.nPositions(), e,
                    nLayer != null ? nLayer : base.nLayer(), nHead != null ? nHead : base.nHead(), 4 * e,
                    base.layerNormEpsilon(), base.activationFunction(), true, false, false, true,
                    eos, List.of(eos), -1, List.of("GPT2LMHeadModel"), 0, List.of(), null, java.util.Map.of());
            long t0 = System.nanoTime();
            RandomCheckpoint.write(out, c, dt, seed, tokDir);
            double secs = (System.nanoTime() - t0) / 1e9;
            long bytes = Files.size(out.resolve(HfCheckpoint.SINGLE));
            spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s: n_embd %d, n_layer %d, n_head %d, n_positions %d, "
                            + "vocab %d, %,d parameters, %s, %.1f MB in %.1f s%n", out, c.nEmbd(), c.nLayer(), c.nHead(),
                    c.nPositions(), c.vocabSize(), c.parameterCount(), dt, bytes / 1e6, secs);
            spec.commandLine().getOut().flush();
            return 0;
        } finally {
            if (extracted != null) {
                Files.deleteIfExists(extracted.resolve("vocab.json"));
                Files.deleteIfExists(extracted.resolve("merges.txt"));
                Files.deleteIfExists(extracted);
            }
        }
    }

    /** The real GPT-2 vocab.json + merges.txt shipped in this jar, copied to a temp directory. */
    private static Path extractBundledTokenizer() throws IOException {
        Path dir = Files.createTempDirectory("gpt2j-tokenizer");
        for (String f : new String[]{"vocab.json", "merges.txt"}) {
            try (InputStream in = RandomCheckpointCommand.class.getResourceAsStream(BUNDLED + f)) {
                if (in == null) throw new UncheckedIOException(new IOException("bundled tokenizer file " + f + " is missing from the jar"));
                Files.copy(in, dir.resolve(f));
            }
        }
        return dir;
    }
}
