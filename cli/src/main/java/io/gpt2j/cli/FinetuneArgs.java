package io.gpt2j.cli;

import io.gpt2j.train.FineTuneOptions;
import io.gpt2j.train.LoopOptions;
import io.gpt2j.train.LoraConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Options every {@code finetune} task shares, with the Azure ML / transformers TrainingArguments names. */
final class FinetuneArgs {
    @Option(names = "--model", required = true, description = "Hugging Face GPT-2 directory") Path model;
    @Option(names = "--train", required = true, description = "training data") Path train;
    @Option(names = "--validation", description = "validation data (optional)") Path validation;
    @Option(names = "--output", required = true, description = "output directory (model, checkpoint-N, metrics.jsonl, plot)") Path output;
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
    @Option(names = {"--max_seq_length", "--max-seq-length", "--block_size", "--block-size"},
            description = "tokens per example after truncation, or per block for causal-lm (default 128, at most n_positions)") int maxSeqLength = 128;
    @Option(names = "--seed", description = "default 42") long seed = 42;
    @Option(names = {"--logging_steps", "--logging-steps"}, description = "log (stdout and OUTPUT/metrics.jsonl) every N steps (default 500)") int loggingSteps = 500;
    @Option(names = {"--evaluation_strategy", "--evaluation-strategy", "--eval_strategy"}, description = "no, steps or epoch (default epoch)") String evaluationStrategy = "epoch";
    @Option(names = {"--eval_steps", "--eval-steps"}, description = "evaluate every N steps with evaluation_strategy steps (default: logging_steps)") Integer evalSteps;
    @Option(names = {"--save_steps", "--save-steps"}, description = "write OUTPUT/checkpoint-N every N steps; 0: none (default 500)") int saveSteps = 500;
    @Option(names = {"--save_total_limit", "--save-total-limit"}, description = "keep at most N checkpoints, the best one always (default 0: all)") int saveTotalLimit = 0;
    @Option(names = {"--apply_early_stopping", "--apply-early-stopping"}, arity = "0..1", description = "stop when metric_for_best_model stops improving; loads the best checkpoint at the end") boolean applyEarlyStopping;
    @Option(names = {"--early_stopping_patience", "--early-stopping-patience"}, description = "evaluations without improvement before stopping (default 1)") int earlyStoppingPatience = 1;
    @Option(names = {"--metric_for_best_model", "--metric-for-best-model"}, description = "e.g. loss, accuracy, f1_macro, f1, perplexity (default loss; loss and perplexity: lower is better)") String metricForBestModel = "loss";
    @Option(names = {"--resume_from_checkpoint", "--resume-from-checkpoint"}, description = "continue a run exactly from OUTPUT/checkpoint-N (same data and options)") Path resumeFromCheckpoint;
    @Option(names = {"--ignore_mismatched_sizes", "--ignore-mismatched-sizes"}, description = "start a fresh head when --model already has one with another number of labels") boolean ignoreMismatchedSizes;
    @Option(names = "--threads", description = "kernel threads (default: all CPUs)") Integer threads;
    @Option(names = "--no-dropout", description = "train without dropout (default: the config's embd/attn/resid_pdrop, as transformers' Trainer)") boolean noDropout;
    @Option(names = {"--apply_lora", "--apply-lora"}, arity = "0..1", description = "train LoRA adapters (and the head) with the GPT-2 weights frozen (default false)") boolean applyLora;
    @Option(names = {"--lora_r", "--lora-r"}, description = "LoRA rank (default 8)") int loraR = 8;
    @Option(names = {"--lora_alpha", "--lora-alpha"}, description = "LoRA alpha; updates are scaled by alpha / r (default 128)") double loraAlpha = 128;
    @Option(names = {"--lora_dropout", "--lora-dropout"}, description = "dropout on the LoRA input path (default 0.0)") double loraDropout = 0;
    @Option(names = {"--lora_target_modules", "--lora-target-modules"}, split = ",", defaultValue = "c_attn", description = "c_attn, c_proj, c_fc (default c_attn)") List<String> loraTargets;
    @Option(names = {"--save_lora_adapter", "--save-lora-adapter"}, arity = "0..1", description = "save a PEFT adapter (adapter_config.json + adapter_model.safetensors) instead of merging LoRA into the weights") boolean saveLoraAdapter;
    @Option(names = {"--disable_tqdm", "--disable-tqdm"}, arity = "0..1", description = "no progress bar (default: a bar on stderr, redrawn in place on a terminal, otherwise a plain line every 30 s)") Boolean disableTqdm;

    FineTuneOptions options() {
        return new FineTuneOptions(numTrainEpochs, maxSteps, learningRate, batchSize, gradAccum, warmupSteps, warmupRatio,
                weightDecay, scheduler.toLowerCase(Locale.ROOT), maxGradNorm, maxSeqLength, seed, loggingSteps, !noDropout);
    }

    LoopOptions loop() {
        String strategy = evaluationStrategy.toLowerCase(Locale.ROOT);
        return new LoopOptions(strategy, evalSteps != null ? evalSteps : loggingSteps, saveSteps, saveTotalLimit,
                applyEarlyStopping, earlyStoppingPatience, metricForBestModel, output, resumeFromCheckpoint, saveLoraAdapter);
    }

    /** The LoRA settings, or null without --apply_lora (then --save_lora_adapter is an error). */
    LoraConfig lora() {
        if (!applyLora) {
            if (saveLoraAdapter) throw new IllegalArgumentException("--save_lora_adapter needs --apply_lora");
            return null;
        }
        return new LoraConfig(loraR, loraAlpha, loraDropout, loraTargets);
    }

    TrainProgress.Mode progressMode() {
        return TrainProgress.mode(disableTqdm);
    }
}
