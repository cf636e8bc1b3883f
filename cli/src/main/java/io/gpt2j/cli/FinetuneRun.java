package io.gpt2j.cli;

import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import io.gpt2j.train.Evaluator;
import io.gpt2j.train.FineTuneOptions;
import io.gpt2j.train.LoopOptions;
import io.gpt2j.train.LoraConfig;
import io.gpt2j.train.Task;
import io.gpt2j.train.TrainConfigs;
import io.gpt2j.train.Trainer;
import io.gpt2j.train.TrainableGpt2;
import io.gpt2j.train.TrainingData;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The part of every {@code finetune} task after its data is read: model, head checks, trainer, progress. Wiring only. */
final class FinetuneRun {
    /** A task's prepared data: training set, validation evaluator (or null), label names (null for the LM), a summary. */
    record Data(TrainingData train, Evaluator validation, List<String> labels, String summary) {
    }

    /** Reads a task's data once the tokenizer and the checkpoint config are known. */
    interface DataReader {
        Data read(Gpt2Tokenizer tok, Gpt2Config config) throws Exception;
    }

    private FinetuneRun() {
    }

    static int run(FinetuneArgs a, Task task, String problemType, DataReader reader, PrintWriter out, PrintWriter err) throws Exception {
        FineTuneOptions opt = a.options();
        LoopOptions loop = a.loop();
        LoraConfig lora = a.lora();
        if (loop.resumeFromCheckpoint() != null && !Files.isDirectory(loop.resumeFromCheckpoint())) {
            throw new IllegalArgumentException("--resume_from_checkpoint " + loop.resumeFromCheckpoint() + ": no such directory");
        }
        if (!Evaluator.metricNames(task).contains(loop.metricForBestModel())) {
            throw new IllegalArgumentException("--metric_for_best_model " + a.metricForBestModel + " is not a " + task.name().toLowerCase(Locale.ROOT)
                    + " metric; expected one of " + Evaluator.metricNames(task).stream().map(m -> m.substring(5)).toList());
        }
        Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(a.model);
        try (LoadedCheckpoint ckpt = HfCheckpoint.load(a.model);
             Parallel pool = new Parallel(a.threads != null ? a.threads : Parallel.defaultThreads())) {
            Gpt2Config base = ckpt.config();
            if (opt.maxSeqLength() > base.nPositions()) {
                throw new IllegalArgumentException("--max_seq_length " + opt.maxSeqLength() + " exceeds the model's n_positions " + base.nPositions());
            }
            Data data = reader.read(tok, base);
            int pad = base.padTokenId() >= 0 ? base.padTokenId() : base.eosTokenId();
            TrainableGpt2 model;
            if (task == Task.CAUSAL_LM) {
                Gpt2Config cfg = TrainConfigs.forCausalLm(base);
                model = TrainableGpt2.fromCheckpoint(ckpt, cfg, task, 0, opt.seed(), pool, lora);
            } else {
                checkHead(ckpt, task, data.labels().size(), a.ignoreMismatchedSizes);
                String arch = task == Task.SEQUENCE_CLASSIFICATION ? "GPT2ForSequenceClassification" : "GPT2ForTokenClassification";
                Gpt2Config cfg = TrainConfigs.forClassification(base, arch, data.labels(), problemType, pad);
                model = TrainableGpt2.fromCheckpoint(ckpt, cfg, task, data.labels().size(), opt.seed(), pool, lora);
            }
            int total = opt.totalSteps(data.train().size());
            out.printf("fine-tuning %s (%s): %s, %d optimizer steps, %,d trainable parameters%s%s%n", a.model, task.name().toLowerCase(Locale.ROOT),
                    data.summary(), total, model.trainableCount(), lora == null ? "" : " (LoRA " + lora + ", GPT-2 weights frozen)",
                    loop.resumeFromCheckpoint() != null ? ", resuming from " + loop.resumeFromCheckpoint() : "");
            TrainProgress progress = new TrainProgress(out, err, a.progressMode());
            Trainer trainer = new Trainer(model, opt, loop, a.model);
            long t0 = System.nanoTime();
            Trainer.Result r;
            try {
                r = trainer.train(data.train(), data.validation(), progress);
            } finally {
                progress.close();
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            out.printf(Locale.ROOT, "done: %d steps in %.1f s (%.0f training tokens/s)%s%n", r.steps(), secs, progress.tokensPerSecond(),
                    r.stoppedEarly() ? ", stopped early; best checkpoint " + r.bestCheckpoint() : "");
            if (r.metrics() != null) out.println("validation: " + format(r.metrics()));
            out.printf("saved %s%s%n", a.output, lora == null ? "" : loop.saveLoraAdapter() ? " (PEFT LoRA adapter)" : " (LoRA merged into the weights)");
        }
        return 0;
    }

    /** A checkpoint that already has this task's head must have as many labels as the data, unless told otherwise. */
    static void checkHead(LoadedCheckpoint ckpt, Task task, int numLabels, boolean ignore) {
        String name = task == Task.SEQUENCE_CLASSIFICATION ? "score.weight" : "classifier.weight";
        Tensor head = ckpt.extraTensors().get(name);
        if (head == null) return;
        long have = head.numel() / ckpt.config().nEmbd();
        if (have != numLabels && !ignore) {
            throw new IllegalArgumentException(ckpt.dir() + " already has a " + have + "-label head (" + name + ", id2label "
                    + ckpt.config().id2label() + ") but the data has " + numLabels + " labels; pass --labels with the checkpoint's "
                    + have + " names, or --ignore_mismatched_sizes to train a fresh head");
        }
    }

    static String format(Map<String, Double> m) {
        StringBuilder sb = new StringBuilder();
        m.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append(' ')
                .append(v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.4f", v)));
        return sb.toString();
    }

    /**
     * run_ner's rule for a checkpoint that already has labels: when its id2label holds exactly the labels found in
     * the data, its order is kept (so its head stays valid); otherwise the data's order is used.
     */
    static List<String> preferCheckpointOrder(List<String> fromData, Gpt2Config cfg) {
        List<String> ckpt = cfg.id2label();
        if (ckpt.isEmpty() || ckpt.size() != fromData.size()) return fromData;
        return new java.util.HashSet<>(ckpt).equals(new java.util.HashSet<>(fromData)) ? ckpt : fromData;
    }

    /** Label names from a file given with --labels, else labels.txt beside the training data, else none. */
    static List<String> labelFile(Path given, Path train) {
        Path f = given != null ? given : train.toAbsolutePath().getParent().resolve("labels.txt");
        if (given != null && !Files.isRegularFile(given)) throw new IllegalArgumentException("--labels " + given + ": no such file");
        return Files.isRegularFile(f) ? io.gpt2j.train.TokenClassificationData.readLabels(f) : List.of();
    }
}
