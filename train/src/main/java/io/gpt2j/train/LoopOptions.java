package io.gpt2j.train;

import java.nio.file.Path;
import java.util.List;

/**
 * What the {@link Trainer} does around the optimizer steps, with transformers TrainingArguments / Azure ML names:
 * when to evaluate, save and stop, and where the run's files go. {@code output} null writes nothing (tests).
 *
 * @param evaluationStrategy no | steps | epoch
 * @param saveSteps          checkpoint every this many optimizer steps; 0 saves no intermediate checkpoints
 * @param saveTotalLimit     keep at most this many checkpoints (the best one is never deleted); 0 keeps all
 * @param metricForBestModel e.g. loss, accuracy, f1 (with or without the eval_ prefix)
 * @param saveLoraAdapter    the final directory holds the PEFT adapter instead of the model with LoRA merged in
 */
public record LoopOptions(String evaluationStrategy, int evalSteps, int saveSteps, int saveTotalLimit,
                          boolean applyEarlyStopping, int earlyStoppingPatience, String metricForBestModel,
                          Path output, Path resumeFromCheckpoint, boolean saveLoraAdapter) {
    public static final List<String> STRATEGIES = List.of("no", "steps", "epoch");

    public LoopOptions {
        if (!STRATEGIES.contains(evaluationStrategy)) {
            throw new IllegalArgumentException("evaluation_strategy '" + evaluationStrategy + "' is not supported; expected one of " + STRATEGIES);
        }
        if (evaluationStrategy.equals("steps") && evalSteps < 1) {
            throw new IllegalArgumentException("evaluation_strategy steps needs eval_steps >= 1, got " + evalSteps);
        }
        if (saveSteps < 0) throw new IllegalArgumentException("save_steps must be >= 0, got " + saveSteps);
        if (saveTotalLimit < 0) throw new IllegalArgumentException("save_total_limit must be >= 0, got " + saveTotalLimit);
        if (earlyStoppingPatience < 1) throw new IllegalArgumentException("early_stopping_patience must be >= 1, got " + earlyStoppingPatience);
        if (applyEarlyStopping && evaluationStrategy.equals("no")) {
            throw new IllegalArgumentException("apply_early_stopping needs evaluation_strategy steps or epoch, not no");
        }
        if (metricForBestModel == null || metricForBestModel.isBlank()) metricForBestModel = "loss";
        if (!metricForBestModel.startsWith("eval_")) metricForBestModel = "eval_" + metricForBestModel;
        if (resumeFromCheckpoint != null && output == null) throw new IllegalArgumentException("resume_from_checkpoint needs an output directory");
    }

    /** Without LoRA adapter saving (a LoRA model is saved merged). */
    public LoopOptions(String evaluationStrategy, int evalSteps, int saveSteps, int saveTotalLimit,
                       boolean applyEarlyStopping, int earlyStoppingPatience, String metricForBestModel,
                       Path output, Path resumeFromCheckpoint) {
        this(evaluationStrategy, evalSteps, saveSteps, saveTotalLimit, applyEarlyStopping, earlyStoppingPatience,
                metricForBestModel, output, resumeFromCheckpoint, false);
    }

    /** Evaluate once per epoch, no intermediate checkpoints, nothing written: the plain loop. */
    public static LoopOptions epochEvalNoFiles() {
        return new LoopOptions("epoch", 0, 0, 0, false, 1, "loss", null, null);
    }

    /** transformers: greater_is_better defaults to false for metrics whose name ends in "loss" (and perplexity). */
    public boolean greaterIsBetter() {
        return !(metricForBestModel.endsWith("loss") || metricForBestModel.endsWith("perplexity"));
    }
}
