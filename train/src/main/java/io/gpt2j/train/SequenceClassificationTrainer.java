package io.gpt2j.train;

import io.gpt2j.core.io.SafeTensorsWriter;
import io.gpt2j.core.load.HfConfig;
import io.gpt2j.core.model.Gpt2Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The transformers Trainer loop for GPT2ForSequenceClassification: shuffled batches, gradient accumulation (loss
 * divided by the accumulation steps), dropout from the config (train mode; evaluation without), global-norm clipping, AdamW with the Trainer's decay grouping, an LR
 * schedule; evaluation (accuracy, macro F1) and saving in Hugging Face layout. Owns one run; reports through a
 * {@link Listener}, never prints.
 */
public final class SequenceClassificationTrainer {
    /** Progress callbacks (the CLI prints them). */
    public interface Listener {
        void onLog(int step, int totalSteps, double epoch, double loss, double lr, double gradNorm);

        default void onEval(double epoch, ClassificationMetrics metrics, double loss) {
        }
    }

    private final TrainableGpt2 model;
    private final FineTuneOptions opt;
    private final int padId;

    public SequenceClassificationTrainer(TrainableGpt2 model, FineTuneOptions options) {
        if (model.task() != Task.SEQUENCE_CLASSIFICATION) throw new IllegalArgumentException("the model must carry a sequence-classification head");
        if (model.config().padTokenId() < 0) throw new IllegalArgumentException("the model config needs pad_token_id for batched classification");
        this.model = model;
        this.opt = options;
        this.padId = model.config().padTokenId();
    }

    /** Trains on {@code train}; evaluates on {@code validation} (may be null) after every epoch. Returns the steps done. */
    public int train(TextClassificationData train, TextClassificationData validation, Listener listener) {
        int n = train.size(), bs = opt.perDeviceTrainBatchSize(), ga = opt.gradientAccumulationSteps();
        int total = opt.totalSteps(n);
        LrSchedule sched = LrSchedule.of(opt.lrSchedulerType(), opt.warmup(total), total);
        AdamW adam = new AdamW(model.layout(), model.trainableFrom(), 0.9f, 0.999f, 1e-8f, (float) opt.weightDecay(), true);
        int batches = (n + bs - 1) / bs;
        // micro-batches that do not fill a last accumulation group are skipped (transformers folds them into the
        // next epoch's first group instead); either way the optimizer step count is max(batches / ga, 1) per epoch
        int usedBatches = batches < ga ? batches : (batches / ga) * ga;
        int step = 0, epoch = 0;
        double logLoss = 0;
        int logCount = 0;
        TrainableGpt2.Dropout drop = opt.dropout() ? TrainableGpt2.Dropout.fromConfig(model.config()) : TrainableGpt2.Dropout.NONE;
        while (step < total) {
            int[] order = permutation(n, new Random(opt.seed() + epoch));
            model.train(drop, opt.seed() * 1_000_003L + epoch);
            model.zeroGrad();
            int inGroup = 0;
            for (int bi = 0; bi < usedBatches && step < total; bi++) {
                Batch batch = train.batch(order, bi * bs, Math.min(n, (bi + 1) * bs), padId);
                float loss = model.forward(batch);
                model.backward();
                logLoss += loss;
                logCount++;
                inGroup++;
                boolean last = bi == usedBatches - 1;
                if (inGroup == ga || last) {
                    float[] g = model.grads();
                    if (inGroup > 1) {
                        float s = 1f / inGroup;
                        for (int i = 0; i < g.length; i++) g[i] *= s;
                    }
                    float norm = opt.maxGradNorm() > 0 ? AdamW.clipGradNorm(g, opt.maxGradNorm()) : Float.NaN;
                    double lr = sched.lr(opt.learningRate(), step);
                    adam.step(model.params(), g, lr);
                    model.zeroGrad();
                    inGroup = 0;
                    step++;
                    if (step % opt.loggingSteps() == 0 || step == total) {
                        listener.onLog(step, total, epoch + (bi + 1.0) / usedBatches, logLoss / logCount, lr, norm);
                        logLoss = 0;
                        logCount = 0;
                    }
                }
            }
            epoch++;
            if (validation != null) {
                Evaluation e = evaluate(validation);
                listener.onEval(epoch, e.metrics(), e.loss());
            }
        }
        return step;
    }

    /** Predictions, metrics and mean loss of the model on {@code data}, in batches of the training batch size. */
    public record Evaluation(int[] predictions, ClassificationMetrics metrics, double loss) {
    }

    /** Evaluates in eval mode (no dropout); training mode, if any, is restored afterwards. */
    public Evaluation evaluate(TextClassificationData data) {
        TrainableGpt2.Dropout was = model.dropout();
        boolean wasTraining = model.training();
        model.eval();
        try {
            return evaluateNoDropout(data);
        } finally {
            if (wasTraining) model.train(was, opt.seed() ^ 0x5DEECE66DL);
        }
    }

    private Evaluation evaluateNoDropout(TextClassificationData data) {
        int n = data.size(), bs = opt.perDeviceTrainBatchSize(), K = model.numLabels();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        int[] pred = new int[n];
        double lossSum = 0;
        for (int from = 0; from < n; from += bs) {
            int to = Math.min(n, from + bs);
            lossSum += model.forward(data.batch(order, from, to, padId)) * (to - from);
            float[] logits = model.logits();
            for (int b = 0; b < to - from; b++) {
                int best = 0;
                for (int k = 1; k < K; k++) if (logits[b * K + k] > logits[b * K + best]) best = k;
                pred[from + b] = best;
            }
        }
        return new Evaluation(pred, ClassificationMetrics.of(pred, data.labels(), K), lossSum / n);
    }

    private static int[] permutation(int n, Random r) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * Writes a directory that transformers' {@code AutoModelForSequenceClassification.from_pretrained} loads:
     * config.json (architectures, id2label/label2id, problem_type, pad_token_id), model.safetensors (F32, transformers'
     * names incl. score.weight), and the tokenizer files copied from {@code tokenizerDir}.
     */
    public static void save(TrainableGpt2 model, Path out, Path tokenizerDir, Map<String, Object> extraResults) {
        try {
            Files.createDirectories(out);
            Gpt2Config c = model.config();
            Files.writeString(out.resolve("config.json"), HfConfig.pretty(HfConfig.toJson(c, "float32")));
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
            LoraAdapter.addMergedModel(w, model); // LoRA updates merged into the weights; plain parameters otherwise
            w.write(out.resolve("model.safetensors"));
            for (String f : List.of("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json",
                    "added_tokens.json", "tokenizer.json", "encoder.json", "vocab.bpe")) {
                Path src = tokenizerDir.resolve(f);
                if (Files.isRegularFile(src)) Files.copy(src, out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
            if (extraResults != null && !extraResults.isEmpty()) {
                Files.writeString(out.resolve("eval_results.json"), HfConfig.pretty(new LinkedHashMap<>(extraResults)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the fine-tuned model to " + out + ": " + e.getMessage(), e);
        }
    }
}
