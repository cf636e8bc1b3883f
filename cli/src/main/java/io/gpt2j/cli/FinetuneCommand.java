package io.gpt2j.cli;

import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import io.gpt2j.train.ClassificationMetrics;
import io.gpt2j.train.FineTuneOptions;
import io.gpt2j.train.LoraAdapter;
import io.gpt2j.train.LoraConfig;
import io.gpt2j.train.SequenceClassificationTrainer;
import io.gpt2j.train.Task;
import io.gpt2j.train.TextClassificationData;
import io.gpt2j.train.TrainConfigs;
import io.gpt2j.train.TrainableGpt2;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gpt2j finetune <task>}: fine-tuning front end (wiring only; the math lives in the train module). */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Fine-tunes a GPT-2 checkpoint (fp32, CPU) and saves it in Hugging Face layout.",
        subcommands = {FinetuneCommand.TextClassification.class})
public final class FinetuneCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** GPT2ForSequenceClassification on a JSONL file of {"text", "label"}; Azure ML / TrainingArguments names. */
    @Command(name = "text-classification", mixinStandardHelpOptions = true,
            description = {"Trains GPT2ForSequenceClassification on JSONL rows {\"text\": ..., \"label\": int|string},",
                    "reports accuracy and f1_macro on --validation after each epoch, and saves an HF-loadable directory.",
                    "Example: gpt2j finetune text-classification --model gpt2 --train train.jsonl "
                            + "--validation validation.jsonl --output out --num_train_epochs 1 --learning_rate 5e-5"})
    public static final class TextClassification implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "Hugging Face GPT-2 directory") Path model;
        @Option(names = "--train", required = true, description = "training JSONL") Path train;
        @Option(names = "--validation", description = "validation JSONL (optional)") Path validation;
        @Option(names = "--output", required = true, description = "output directory") Path output;
        @Option(names = {"--text_column", "--text-column"}, description = "text field (default text)") String textColumn = "text";
        @Option(names = {"--label_column", "--label-column"}, description = "label field (default label)") String labelColumn = "label";
        @Option(names = {"--labels"}, description = "file with one label name per line (index = label id); default: labels.txt beside --train if present") Path labels;
        @Option(names = {"--num_train_epochs", "--num-train-epochs"}, description = "default 3") double numTrainEpochs = 3;
        @Option(names = {"--max_steps", "--max-steps"}, description = "> 0 overrides epochs (default -1)") int maxSteps = -1;
        @Option(names = {"--learning_rate", "--learning-rate"}, description = "default 5e-5") double learningRate = 5e-5;
        @Option(names = {"--per_device_train_batch_size", "--per-device-train-batch-size"}, description = "default 8") int batchSize = 8;
        @Option(names = {"--gradient_accumulation_steps", "--gradient-accumulation-steps"}, description = "default 1") int gradAccum = 1;
        @Option(names = {"--warmup_steps", "--warmup-steps"}, description = "default 0") int warmupSteps = 0;
        @Option(names = {"--warmup_ratio", "--warmup-ratio"}, description = "used when warmup_steps is 0 (default 0)") double warmupRatio = 0;
        @Option(names = {"--weight_decay", "--weight-decay"}, description = "default 0 (not applied to biases and LayerNorm weights)") double weightDecay = 0;
        @Option(names = {"--lr_scheduler_type", "--lr-scheduler-type"}, description = "linear, cosine, cosine_with_restarts, polynomial, constant, constant_with_warmup (default linear)") String scheduler = "linear";
        @Option(names = {"--max_grad_norm", "--max-grad-norm"}, description = "default 1.0; 0 disables clipping") double maxGradNorm = 1.0;
        @Option(names = {"--max_seq_length", "--max-seq-length"}, description = "tokens per example after truncation (default 128, at most n_positions)") int maxSeqLength = 128;
        @Option(names = "--seed", description = "default 42") long seed = 42;
        @Option(names = {"--logging_steps", "--logging-steps"}, description = "default 500") int loggingSteps = 500;
        @Option(names = "--threads", description = "kernel threads (default: all CPUs)") Integer threads;
        @Option(names = "--no-dropout", description = "train without dropout (default: the config's embd/attn/resid_pdrop, as transformers' Trainer)") boolean noDropout;
        @Option(names = {"--apply_lora", "--apply-lora"}, arity = "0..1", description = "train LoRA adapters with the GPT-2 weights frozen (default false)") boolean applyLora;
        @Option(names = {"--lora_r", "--lora-r"}, description = "LoRA rank (default 8)") int loraR = 8;
        @Option(names = {"--lora_alpha", "--lora-alpha"}, description = "LoRA alpha; updates are scaled by alpha / r (default 128)") double loraAlpha = 128;
        @Option(names = {"--lora_dropout", "--lora-dropout"}, description = "dropout on the LoRA input path (default 0.0)") double loraDropout = 0;
        @Option(names = {"--lora_target_modules", "--lora-target-modules"}, split = ",", defaultValue = "c_attn", description = "c_attn, c_proj, c_fc (default c_attn)") List<String> loraTargets;
        @Option(names = {"--save_lora_adapter", "--save-lora-adapter"}, description = "save a PEFT adapter (adapter_config.json + adapter_model.safetensors) instead of merging LoRA into the weights") boolean saveAdapter;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            FineTuneOptions opt = new FineTuneOptions(numTrainEpochs, maxSteps, learningRate, batchSize, gradAccum,
                    warmupSteps, warmupRatio, weightDecay, scheduler.toLowerCase(Locale.ROOT), maxGradNorm, maxSeqLength, seed, loggingSteps, !noDropout);
            Path labelFile = labels != null ? labels : train.toAbsolutePath().getParent().resolve("labels.txt");
            List<String> given = Files.isRegularFile(labelFile)
                    ? Files.readAllLines(labelFile).stream().map(String::strip).filter(s -> !s.isEmpty()).toList() : List.of();
            var trainRows = TextClassificationData.readJsonl(train, textColumn, labelColumn);
            List<String> names = TextClassificationData.labelNames(trainRows, given);
            Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(model);
            try (LoadedCheckpoint ckpt = HfCheckpoint.load(model);
                 Parallel pool = new Parallel(threads != null ? threads : Parallel.defaultThreads())) {
                Gpt2Config base = ckpt.config();
                if (maxSeqLength > base.nPositions()) {
                    throw new IllegalArgumentException("--max_seq_length " + maxSeqLength + " exceeds the model's n_positions " + base.nPositions());
                }
                int pad = base.padTokenId() >= 0 ? base.padTokenId() : base.eosTokenId();
                Gpt2Config cfg = TrainConfigs.forClassification(base, "GPT2ForSequenceClassification", names, "single_label_classification", pad);
                var trainData = TextClassificationData.encode(trainRows, names, tok, maxSeqLength);
                var valData = validation == null ? null
                        : TextClassificationData.encode(TextClassificationData.readJsonl(validation, textColumn, labelColumn), names, tok, maxSeqLength);
                LoraConfig lora = applyLora ? new LoraConfig(loraR, loraAlpha, loraDropout, loraTargets) : null;
                TrainableGpt2 m = TrainableGpt2.fromCheckpoint(ckpt, cfg, Task.SEQUENCE_CLASSIFICATION, names.size(), seed, pool, lora);
                SequenceClassificationTrainer trainer = new SequenceClassificationTrainer(m, opt);
                out.printf("fine-tuning %s: %d examples, %d labels %s, %d optimizer steps, %,d trainable parameters%s%n", model, trainData.size(), names.size(), names,
                        opt.totalSteps(trainData.size()), m.trainableCount(), lora == null ? "" : " (LoRA " + lora + ")");
                Map<String, Object> results = new LinkedHashMap<>();
                long t0 = System.nanoTime();
                trainer.train(trainData, valData, new SequenceClassificationTrainer.Listener() {
                    @Override
                    public void onLog(int step, int total, double epoch, double loss, double lr, double norm) {
                        out.printf(Locale.ROOT, "{\"step\": %d, \"epoch\": %.4f, \"loss\": %.6f, \"learning_rate\": %.6g, \"grad_norm\": %.6f}%n", step, epoch, loss, lr, norm);
                    }

                    @Override
                    public void onEval(double epoch, ClassificationMetrics e, double loss) {
                        out.printf(Locale.ROOT, "{\"epoch\": %.0f, \"eval_loss\": %.6f, \"eval_accuracy\": %.6f, \"eval_f1_macro\": %.6f}%n", epoch, loss, e.accuracy(), e.f1Macro());
                        results.put("epoch", epoch);
                        results.put("eval_loss", loss);
                        results.put("eval_accuracy", e.accuracy());
                        results.put("eval_f1_macro", e.f1Macro());
                        results.put("eval_samples", e.n());
                    }
                });
                results.put("train_runtime_s", (System.nanoTime() - t0) / 1e9);
                if (lora != null && saveAdapter) LoraAdapter.save(m, output, model.toString());
                else SequenceClassificationTrainer.save(m, output, model, results);
                out.printf("saved %s%n", output);
            }
            return 0;
        }
    }
}
