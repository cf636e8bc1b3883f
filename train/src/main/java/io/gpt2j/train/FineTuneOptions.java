package io.gpt2j.train;

/**
 * Fine-tuning hyper-parameters with the names Azure ML / transformers TrainingArguments use, and their defaults.
 * max_steps > 0 overrides num_train_epochs; warmup_steps > 0 overrides warmup_ratio. {@code dropout}: train with the
 * config's dropout probabilities (transformers' Trainer does); false trains dropout-free.
 */
public record FineTuneOptions(
        double numTrainEpochs,
        int maxSteps,
        double learningRate,
        int perDeviceTrainBatchSize,
        int gradientAccumulationSteps,
        int warmupSteps,
        double warmupRatio,
        double weightDecay,
        String lrSchedulerType,
        double maxGradNorm,
        int maxSeqLength,
        long seed,
        int loggingSteps,
        boolean dropout) {

    public FineTuneOptions {
        if (!(numTrainEpochs > 0) && maxSteps <= 0) throw new IllegalArgumentException("num_train_epochs must be > 0 (or set max_steps), got " + numTrainEpochs);
        if (!(learningRate >= 0)) throw new IllegalArgumentException("learning_rate must be >= 0, got " + learningRate);
        if (perDeviceTrainBatchSize < 1) throw new IllegalArgumentException("per_device_train_batch_size must be >= 1, got " + perDeviceTrainBatchSize);
        if (gradientAccumulationSteps < 1) throw new IllegalArgumentException("gradient_accumulation_steps must be >= 1, got " + gradientAccumulationSteps);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmup_steps must be >= 0, got " + warmupSteps);
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) throw new IllegalArgumentException("warmup_ratio must be in [0, 1], got " + warmupRatio);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight_decay must be >= 0, got " + weightDecay);
        if (!LrSchedule.TYPES.contains(lrSchedulerType)) {
            throw new IllegalArgumentException("lr_scheduler_type '" + lrSchedulerType + "' is not supported; expected one of " + LrSchedule.TYPES);
        }
        if (maxSeqLength < 1) throw new IllegalArgumentException("max_seq_length must be >= 1, got " + maxSeqLength);
        if (loggingSteps < 1) throw new IllegalArgumentException("logging_steps must be >= 1, got " + loggingSteps);
    }

    /** transformers TrainingArguments defaults (3 epochs, lr 5e-5, batch 8, linear, max_grad_norm 1, seed 42, logging 500). */
    public static FineTuneOptions defaults() {
        return new FineTuneOptions(3.0, -1, 5e-5, 8, 1, 0, 0.0, 0.0, "linear", 1.0, 128, 42, 500, true);
    }

    /** Optimizer steps per epoch, as transformers counts them: max(ceil(n / batch) / accumulation, 1). */
    public int stepsPerEpoch(int examples) {
        int batches = (examples + perDeviceTrainBatchSize - 1) / perDeviceTrainBatchSize;
        return Math.max(batches / gradientAccumulationSteps, 1);
    }

    public int totalSteps(int examples) {
        return maxSteps > 0 ? maxSteps : (int) Math.ceil(numTrainEpochs * stepsPerEpoch(examples));
    }

    public int warmup(int totalSteps) {
        return warmupSteps > 0 ? warmupSteps : (int) Math.ceil(totalSteps * warmupRatio);
    }
}
