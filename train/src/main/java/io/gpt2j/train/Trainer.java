package io.gpt2j.train;

import io.gpt2j.core.io.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The transformers Trainer loop for every head: shuffled batches, gradient accumulation, dropout in training mode,
 * global-norm clipping, AdamW with the Trainer's decay grouping, an LR schedule; evaluation, logging to
 * metrics.jsonl, atomic checkpoints with exact resume, early stopping, NaN guard, plot and the final HF directory.
 * Owns one run (its optimizer and position); reports through a {@link Listener}, never prints.
 */
public final class Trainer {
    public static final String METRICS_FILE = "metrics.jsonl", PLOT_FILE = "training_curves.png";

    /** Progress callbacks (the CLI draws a progress bar and prints the records). */
    public interface Listener {
        /** After every optimizer step: its mean micro-batch loss, its learning rate, training tokens/s so far. */
        default void onStep(int step, int totalSteps, double loss, double lr, double tokensPerSecond) {
        }

        /** A record of the log history: a training log (loss, learning_rate, ...) or an evaluation (eval_*). */
        default void onLog(Map<String, Object> record) {
        }

        default void onSave(Path checkpoint) {
        }
    }

    /** A NaN or infinite loss or gradient norm: the run stops and nothing is saved from that point. */
    public static final class DivergedException extends IllegalStateException {
        public DivergedException(String message) {
            super(message);
        }
    }

    /** How a run ended: optimizer steps done, whether early stopping ended it, the last metrics, the best checkpoint. */
    public record Result(int steps, boolean stoppedEarly, Map<String, Double> metrics, Path bestCheckpoint) {
    }

    private final TrainableGpt2 model;
    private final FineTuneOptions opt;
    private final LoopOptions loop;
    private final Path tokenizerDir;
    private final int padId;
    private final AdamW adam;
    private final List<Map<String, Object>> history = new ArrayList<>();
    private Double bestMetric;
    private String bestCheckpoint;
    private int patience;
    private double logLossSum;
    private int logCount;
    private BufferedWriter metricsOut;
    // results of the last optimizerStep
    private long stepTokens;
    private float stepNorm;
    private double stepLr;

    /**
     * @param tokenizerDir the base model directory: its tokenizer files are copied into every saved directory and it
     *                     is a LoRA adapter's base_model_name_or_path (may be null)
     */
    public Trainer(TrainableGpt2 model, FineTuneOptions options, LoopOptions loop, Path tokenizerDir) {
        if (model.task() == Task.SEQUENCE_CLASSIFICATION && model.config().padTokenId() < 0) {
            throw new IllegalArgumentException("the model config needs pad_token_id for batched sequence classification");
        }
        if (options.maxSeqLength() > model.config().nPositions()) {
            throw new IllegalArgumentException("max_seq_length " + options.maxSeqLength() + " exceeds the model's n_positions " + model.config().nPositions());
        }
        if (loop.saveLoraAdapter() && model.loraConfig() == null) {
            throw new IllegalArgumentException("save_lora_adapter needs a model trained with LoRA (apply_lora)");
        }
        this.model = model;
        this.opt = options;
        this.loop = loop;
        this.tokenizerDir = tokenizerDir;
        this.padId = model.config().padTokenId() >= 0 ? model.config().padTokenId() : model.config().eosTokenId();
        // with LoRA only the head and the adapters (the layout's tail) are trained and have moments
        this.adam = new AdamW(model.layout(), model.trainableFrom(), 0.9f, 0.999f, 1e-8f, (float) options.weightDecay(), true);
    }

    /** Trains on {@code train}, evaluating with {@code validation} (may be null) as the loop options say. */
    public Result train(TrainingData train, Evaluator validation, Listener listener) {
        int n = train.size(), bs = opt.perDeviceTrainBatchSize(), ga = opt.gradientAccumulationSteps();
        if (n == 0) throw new IllegalArgumentException("no training examples");
        if (loop.applyEarlyStopping() && validation == null) throw new IllegalArgumentException("apply_early_stopping needs validation data");
        int total = opt.totalSteps(n), stepsPerEpoch = opt.stepsPerEpoch(n);
        int batches = (n + bs - 1) / bs;
        // micro-batches per optimizer step; those that do not fill a last accumulation group of an epoch are skipped
        int group = Math.min(ga, batches);
        LrSchedule sched = LrSchedule.of(opt.lrSchedulerType(), opt.warmup(total), total);
        TrainableGpt2.Dropout drop = opt.dropout() ? TrainableGpt2.Dropout.fromConfig(model.config()) : TrainableGpt2.Dropout.NONE;
        // lora_dropout is its own setting (PEFT): it applies in training mode even when the model's dropout is off
        boolean trainMode = drop.any() || (model.loraConfig() != null && model.loraConfig().dropout() > 0);
        int step = loop.resumeFromCheckpoint() != null ? resume(loop.resumeFromCheckpoint(), n, total) : 0;
        openMetrics();
        try {
            Map<String, Double> last = null;
            int lastEvalStep = -1;
            boolean stopped = false;
            long t0 = System.nanoTime(), runTokens = 0, logTokens = 0, logT0 = t0;
            int[] order = null;
            int orderEpoch = -1;
            while (step < total && !stopped) {
                int epoch = step / stepsPerEpoch, inEpoch = step % stepsPerEpoch;
                if (epoch != orderEpoch) {
                    order = permutation(n, new Random(opt.seed() + epoch));
                    orderEpoch = epoch;
                }
                double stepLoss = optimizerStep(train, order, inEpoch, step, epoch, group, sched, drop, trainMode);
                runTokens += stepTokens;
                logTokens += stepTokens;
                double lr = stepLr;
                float norm = stepNorm;
                step++;
                logLossSum += stepLoss;
                logCount += group;
                long now = System.nanoTime();
                listener.onStep(step, total, stepLoss / group, lr, runTokens / Math.max(1e-9, (now - t0) / 1e9));
                double ep = (double) step / stepsPerEpoch;
                if (step % opt.loggingSteps() == 0 || step == total) {
                    logTraining(step, ep, lr, norm, logTokens / Math.max(1e-9, (now - logT0) / 1e9), listener);
                    logTokens = 0;
                    logT0 = System.nanoTime();
                }
                boolean evalNow = validation != null && switch (loop.evaluationStrategy()) {
                    case "steps" -> step % loop.evalSteps() == 0;
                    case "epoch" -> step % stepsPerEpoch == 0;
                    default -> false;
                };
                boolean improved = false;
                if (evalNow) {
                    last = evaluateAndLog(validation, step, ep, listener);
                    lastEvalStep = step;
                    improved = track(last);
                    if (loop.applyEarlyStopping() && !improved && patience >= loop.earlyStoppingPatience()) stopped = true;
                }
                boolean saveNow = loop.output() != null
                        && ((loop.saveSteps() > 0 && step % loop.saveSteps() == 0) || (evalNow && loop.applyEarlyStopping()));
                if (saveNow) save(step, ep, total, n, improved && evalNow, listener);
            }
            if (validation != null && lastEvalStep != step) {
                last = evaluateAndLog(validation, step, (double) step / stepsPerEpoch, listener);
            }
            Path best = bestCheckpoint == null ? null : Path.of(bestCheckpoint);
            if (loop.applyEarlyStopping() && best != null && Files.isDirectory(best)) {
                Checkpoints.readTrainable(model, best);
                if (validation != null) last = evaluate(validation);
            }
            if (loop.output() != null) writeFinal(last, step, total, n);
            return new Result(step, stopped, last, best);
        } finally {
            closeMetrics();
        }
    }

    /**
     * One optimizer step: {@code group} micro-batches forward and backward (gradients averaged over them), clipping,
     * AdamW at the scheduled rate. Returns the summed micro-batch loss; sets stepTokens, stepNorm, stepLr.
     */
    private double optimizerStep(TrainingData train, int[] order, int inEpoch, int step, int epoch, int group,
                                 LrSchedule sched, TrainableGpt2.Dropout drop, boolean trainMode) {
        int n = train.size(), bs = opt.perDeviceTrainBatchSize();
        model.zeroGrad();
        double stepLoss = 0;
        stepTokens = 0;
        for (int k = 0; k < group; k++) {
            int bi = inEpoch * group + k;
            if (trainMode) model.train(drop, mix(opt.seed(), (long) step * group + k));
            Batch batch = train.batch(order, bi * bs, Math.min(n, (bi + 1) * bs), padId);
            float loss = model.forward(batch);
            if (!Float.isFinite(loss)) throw diverged("loss is " + loss, step, epoch);
            model.backward();
            stepLoss += loss;
            stepTokens += tokens(batch);
        }
        float[] g = model.grads();
        if (group > 1) {
            float s = 1f / group; // element-wise, so splitting it over the pool changes no bit
            model.pool().forRange(g.length, 1 << 16, (from, to) -> {
                for (int i = from; i < to; i++) g[i] *= s;
            });
        }
        stepNorm = AdamW.clipGradNorm(model.pool(), g, opt.maxGradNorm() > 0 ? opt.maxGradNorm() : Double.POSITIVE_INFINITY);
        if (!Float.isFinite(stepNorm)) throw diverged("gradient norm is " + stepNorm, step, epoch);
        stepLr = sched.lr(opt.learningRate(), step);
        adam.step(model.pool(), model.params(), g, stepLr);
        return stepLoss;
    }

    /** Metrics of the model on {@code data} in eval mode (no dropout); training mode is set again per micro-batch. */
    public Map<String, Double> evaluate(Evaluator data) {
        model.eval();
        return data.evaluate(model, opt.perDeviceTrainBatchSize(), padId);
    }

    public AdamW optimizer() {
        return adam;
    }

    public List<Map<String, Object>> history() {
        return List.copyOf(history);
    }

    /** A training log record: the mean micro-batch loss since the last one, this step's rate and norm, throughput. */
    private void logTraining(int step, double epoch, double lr, float norm, double tokensPerSecond, Listener listener) {
        Map<String, Object> r = record(step, epoch);
        r.put("loss", logLossSum / logCount);
        r.put("learning_rate", lr);
        r.put("grad_norm", (double) norm);
        r.put("tokens_per_second", tokensPerSecond);
        log(r, listener);
        logLossSum = 0;
        logCount = 0;
    }

    private Map<String, Double> evaluateAndLog(Evaluator validation, int step, double ep, Listener listener) {
        Map<String, Double> m = evaluate(validation);
        Map<String, Object> r = record(step, ep);
        r.putAll(m);
        log(r, listener);
        return m;
    }

    /** Updates the best metric and the early-stopping counter (EarlyStoppingCallback, threshold 0); true if improved. */
    private boolean track(Map<String, Double> metrics) {
        Double v = metrics.get(loop.metricForBestModel());
        if (v == null) {
            throw new IllegalArgumentException("metric_for_best_model '" + loop.metricForBestModel() + "' is not among the validation metrics " + metrics.keySet());
        }
        boolean better = bestMetric == null || (loop.greaterIsBetter() ? v > bestMetric : v < bestMetric);
        if (better) {
            bestMetric = v;
            patience = 0;
        } else {
            patience++;
        }
        return better;
    }

    private static Map<String, Object> record(int step, double epoch) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("step", step);
        r.put("epoch", epoch);
        return r;
    }

    private void log(Map<String, Object> r, Listener listener) {
        history.add(r);
        if (metricsOut != null) {
            try {
                metricsOut.write(Json.write(r));
                metricsOut.newLine();
                metricsOut.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + loop.output().resolve(METRICS_FILE) + ": " + e.getMessage(), e);
            }
        }
        listener.onLog(r);
    }

    private TrainerState state(int step, double epoch, int total, int n) {
        return new TrainerState(step, epoch, total, n, opt.perDeviceTrainBatchSize(), opt.gradientAccumulationSteps(),
                opt.seed(), adam.stepCount(), bestMetric, bestCheckpoint, patience, logLossSum, logCount, history);
    }

    private void save(int step, double epoch, int total, int n, boolean best, Listener listener) {
        if (best) bestCheckpoint = loop.output().resolve(Checkpoints.PREFIX + step).toString();
        TrainerState st = state(step, epoch, total, n);
        Path dir = Checkpoints.writeCheckpoint(loop.output(), step, model, adam, st, tokenizerDir, baseModel(),
                tmp -> TrainingPlot.write(history, plotMetric(), tmp.resolve(PLOT_FILE)));
        Checkpoints.rotate(loop.output(), loop.saveTotalLimit(), bestCheckpoint);
        listener.onSave(dir);
    }

    private void writeFinal(Map<String, Double> last, int step, int total, int n) {
        Path out = loop.output(), tmp = out.resolve(".tmp-final");
        Checkpoints.deleteTree(tmp);
        if (loop.saveLoraAdapter()) Checkpoints.writeAdapter(model, tmp, tokenizerDir, baseModel());
        else Checkpoints.writeModel(model, tmp, tokenizerDir); // LoRA merged into the weights
        state(step, (double) step / opt.stepsPerEpoch(n), total, n).write(tmp);
        TrainingPlot.write(history, plotMetric(), tmp.resolve(PLOT_FILE));
        if (last != null) {
            try {
                Files.writeString(tmp.resolve("eval_results.json"), io.gpt2j.core.load.HfConfig.pretty(new LinkedHashMap<>(last)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write eval_results.json: " + e.getMessage(), e);
            }
        }
        Checkpoints.moveFilesInto(tmp, out);
    }

    /** The metric drawn beside the losses: metric_for_best_model unless it is the loss, else the task's headline metric. */
    private String plotMetric() {
        if (!loop.metricForBestModel().equals("eval_loss")) return loop.metricForBestModel();
        return switch (model.task()) {
            case CAUSAL_LM -> "eval_perplexity";
            case SEQUENCE_CLASSIFICATION -> "eval_accuracy";
            case TOKEN_CLASSIFICATION -> "eval_f1";
        };
    }

    /** Loads model, optimizer and position from a checkpoint; checks the run is the same so the order is too. */
    private int resume(Path dir, int n, int total) {
        TrainerState st = TrainerState.read(dir);
        List<String> diffs = new ArrayList<>();
        if (st.numTrainExamples() != n) diffs.add("training examples " + st.numTrainExamples() + " -> " + n);
        if (st.trainBatchSize() != opt.perDeviceTrainBatchSize()) diffs.add("per_device_train_batch_size " + st.trainBatchSize() + " -> " + opt.perDeviceTrainBatchSize());
        if (st.gradientAccumulationSteps() != opt.gradientAccumulationSteps()) diffs.add("gradient_accumulation_steps " + st.gradientAccumulationSteps() + " -> " + opt.gradientAccumulationSteps());
        if (st.seed() != opt.seed()) diffs.add("seed " + st.seed() + " -> " + opt.seed());
        if (st.maxSteps() != total) diffs.add("total optimizer steps " + st.maxSteps() + " -> " + total);
        if (!diffs.isEmpty()) {
            throw new IllegalArgumentException(dir + ": cannot continue this checkpoint exactly, the run differs: " + String.join(", ", diffs));
        }
        Checkpoints.readTrainable(model, dir);
        Checkpoints.readOptimizer(adam, dir);
        if (adam.stepCount() != st.adamStep()) throw new IllegalArgumentException(dir + ": optimizer step " + adam.stepCount() + " != trainer state " + st.adamStep());
        history.clear();
        history.addAll(st.logHistory());
        bestMetric = st.bestMetric();
        bestCheckpoint = st.bestModelCheckpoint();
        patience = st.patienceCounter();
        logLossSum = st.logLossSum();
        logCount = st.logCount();
        return st.globalStep();
    }

    private String baseModel() {
        return tokenizerDir == null ? null : tokenizerDir.toString();
    }

    private void openMetrics() {
        if (loop.output() == null) return;
        try {
            Files.createDirectories(loop.output());
            metricsOut = Files.newBufferedWriter(loop.output().resolve(METRICS_FILE));
            for (Map<String, Object> r : history) {
                metricsOut.write(Json.write(r));
                metricsOut.newLine();
            }
            metricsOut.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + loop.output().resolve(METRICS_FILE) + ": " + e.getMessage(), e);
        }
    }

    private void closeMetrics() {
        if (metricsOut == null) return;
        try {
            metricsOut.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            metricsOut = null;
        }
    }

    private DivergedException diverged(String what, int step, int epoch) {
        List<Path> cps = loop.output() == null ? List.of() : Checkpoints.list(loop.output());
        return new DivergedException(what + " at optimizer step " + (step + 1) + " (epoch " + (epoch + 1) + "); training stopped, "
                + "no model saved from this run's state" + (cps.isEmpty() ? "" : "; last good checkpoint: " + cps.getLast())
                + ". Lower --learning_rate, enable --max_grad_norm, or check the data");
    }

    private static long tokens(Batch b) {
        if (b.attentionMask() == null) return (long) b.B() * b.T();
        long t = 0;
        for (int m : b.attentionMask()) t += m;
        return t;
    }

    /** A well-mixed 64-bit seed per (run seed, micro-batch) so dropout masks do not depend on where a run resumed. */
    static long mix(long seed, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + index;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static int[] permutation(int n, Random r) {
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
}
