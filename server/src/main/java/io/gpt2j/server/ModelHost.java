package io.gpt2j.server;

import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.HfHeads;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Classifier;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.model.KvDtype;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import io.gpt2j.generate.GeneratedSequence;
import io.gpt2j.generate.GenerationConfig;
import io.gpt2j.generate.GenerationListener;
import io.gpt2j.generate.Generator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A loaded model as the server uses it: checkpoint, tokenizer, generation defaults, the thread that owns the forward
 * passes (the {@link Scheduler} for a language model, the {@link ClassificationQueue} for a classification head), and
 * the model card. Requests generate through {@link #generate}; nothing here knows HTTP.
 */
public final class ModelHost implements AutoCloseable {
    private final LoadedCheckpoint checkpoint;
    private final Parallel pool;
    private final Gpt2 model;
    private final Gpt2Tokenizer tokenizer;
    private final Scheduler scheduler;
    private final String name;
    private final String modelCard;
    private final Classifier classifier;
    private final ClassificationQueue classification;

    private ModelHost(LoadedCheckpoint checkpoint, Parallel pool, Gpt2Tokenizer tokenizer, String name,
                      ServerSettings settings, KvDtype kvDtype, io.gpt2j.core.io.DType dtype) {
        this.checkpoint = checkpoint;
        this.pool = pool;
        this.model = new Gpt2(checkpoint.config(), io.gpt2j.core.model.WeightConversion.forTarget(checkpoint.weights(), dtype, pool), pool, kvDtype);
        this.tokenizer = tokenizer;
        this.name = name;
        this.classifier = HfHeads.hasHead(checkpoint) ? new Classifier(model, HfHeads.read(checkpoint)) : null;
        this.scheduler = classifier == null ? new Scheduler(model, settings.maxBatchTokens(), settings.batchWindowMicros()) : null;
        this.classification = classifier == null ? null : new ClassificationQueue(classifier, settings.maxBatchTokens());
        Path readme = checkpoint.dir().resolve("README.md");
        String card = null;
        try {
            if (Files.isRegularFile(readme)) card = Files.readString(readme);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the model card " + readme, e);
        }
        this.modelCard = card;
    }

    /** Loads a Hugging Face GPT-2 directory (weights memory-mapped, tokenizer, generation_config.json); F32 KV caches. */
    public static ModelHost load(Path dir, ServerSettings settings) {
        return load(dir, settings, KvDtype.F32);
    }

    /** As {@link #load(Path, ServerSettings)}, with the KV caches of every request stored as {@code kvDtype}. */
    public static ModelHost load(Path dir, ServerSettings settings, KvDtype kvDtype) {
        return load(dir, settings, kvDtype, null);
    }

    /**
     * As {@link #load(Path, ServerSettings, KvDtype)}, with the matmul weights converted to {@code dtype} (F32, F16,
     * BF16 or Q8_0) at load; null keeps them as stored.
     */
    public static ModelHost load(Path dir, ServerSettings settings, KvDtype kvDtype, io.gpt2j.core.io.DType dtype) {
        LoadedCheckpoint ck = HfCheckpoint.load(dir);
        Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(dir);
        int th = settings.threads() > 0 ? settings.threads() : Parallel.defaultThreads();
        String name = settings.modelName() != null ? settings.modelName()
                : dir.toAbsolutePath().normalize().getFileName().toString();
        return new ModelHost(ck, new Parallel(th), tok, name, settings, kvDtype, dtype);
    }

    public String name() {
        return name;
    }

    public Gpt2 model() {
        return model;
    }

    public Gpt2Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The generation scheduler; null for a classification model. */
    public Scheduler scheduler() {
        return scheduler;
    }

    /** The classification head's runner when the checkpoint is a GPT2For{Sequence,Token}Classification, else null. */
    public Classifier classifier() {
        return classifier;
    }

    /** The thread that runs the classifier's passes; null for a language model. */
    ClassificationQueue classification() {
        return classification;
    }

    /** A request's ticket on whichever thread runs this model. */
    Ticket openTicket(long deadlineNanos) {
        return scheduler != null ? scheduler.open(deadlineNanos) : classification.open(deadlineNanos);
    }

    /** Cache positions held now: reserved by generating requests, or of the classification pass running. */
    int kvTokens() {
        return scheduler != null ? scheduler.usedTokens() : classification.passPositions();
    }

    /** KV caches of requests still generating, or texts of live classification requests not yet classified. */
    int activeSequences() {
        return scheduler != null ? scheduler.activeSequences() : classification.activeTexts();
    }

    /** 400 for generation routes when the model is a classifier (its head is not a language-model head). */
    void requireGeneration(String route) {
        if (classifier != null) {
            throw new ApiError(400, "not_a_generation_model", "the loaded model " + name + " is a "
                    + classifier.head().kind().architecture() + " without a language-model head: " + route
                    + " is not available; use POST /score for its labels");
        }
    }

    /** generation_config.json of the checkpoint: the defaults every request overrides. */
    public Map<String, Object> generationDefaults() {
        return checkpoint.generationConfig();
    }

    /** README.md of the model directory, or null. */
    public String modelCard() {
        return modelCard;
    }

    public int contextLength() {
        return model.config().nPositions();
    }

    /** One prompt's sequences, generated through the scheduler under the ticket's deadline. */
    List<GeneratedSequence> generate(Ticket ticket, int[] prompt, GenerationConfig config, GenerationListener listener) {
        Generator g = new Generator(scheduler.lm(ticket), tokenizer::decodeBytes);
        return g.generate(List.of(prompt), config, listener).get(0);
    }

    @Override
    public void close() {
        if (scheduler != null) scheduler.close();
        if (classification != null) classification.close();
        pool.close();
        checkpoint.close();
    }
}
