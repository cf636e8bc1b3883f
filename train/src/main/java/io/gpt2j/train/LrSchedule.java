package io.gpt2j.train;

/**
 * transformers' learning-rate schedules (optimization.py, get_scheduler) as pure functions: the multiplier of the
 * base lr at scheduler step {@code step} (0 for the first optimizer step, as LambdaLR counts).
 */
public record LrSchedule(String type, int warmupSteps, int trainingSteps, double numCycles, double lrEnd, double power) {
    public static final java.util.List<String> TYPES = java.util.List.of("linear", "cosine", "cosine_with_restarts",
            "polynomial", "constant", "constant_with_warmup");

    public LrSchedule {
        if (!TYPES.contains(type)) throw new IllegalArgumentException("lr_scheduler_type '" + type + "' is not supported; expected one of " + TYPES);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmup_steps must be >= 0, got " + warmupSteps);
    }

    /** transformers' defaults: num_cycles 0.5 (cosine) / 1 (restarts), lr_end 1e-7 and power 1 (polynomial). */
    public static LrSchedule of(String type, int warmupSteps, int trainingSteps) {
        return new LrSchedule(type, warmupSteps, trainingSteps, type.equals("cosine_with_restarts") ? 1.0 : 0.5, 1e-7, 1.0);
    }

    /** The lr at {@code step} for base lr {@code baseLr} (polynomial needs it: it decays towards lr_end). */
    public double lr(double baseLr, int step) {
        return baseLr * factor(baseLr, step);
    }

    public double factor(double baseLr, int step) {
        int w = warmupSteps, total = trainingSteps;
        switch (type) {
            case "constant":
                return 1.0;
            case "constant_with_warmup":
                return step < w ? (double) step / Math.max(1.0, w) : 1.0;
            default:
                break;
        }
        if (step < w) return (double) step / Math.max(1, w);
        switch (type) {
            case "linear":
                return Math.max(0.0, (double) (total - step) / Math.max(1, total - w));
            case "cosine": {
                double progress = (double) (step - w) / Math.max(1, total - w);
                return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress)));
            }
            case "cosine_with_restarts": {
                double progress = (double) (step - w) / Math.max(1, total - w);
                if (progress >= 1.0) return 0.0;
                return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * ((numCycles * progress) % 1.0))));
            }
            case "polynomial": {
                if (!(baseLr > lrEnd)) throw new IllegalArgumentException("polynomial schedule: lr_end (" + lrEnd + ") must be smaller than the initial lr (" + baseLr + ")");
                if (step > total) return lrEnd / baseLr;
                double range = baseLr - lrEnd;
                double decaySteps = total - w;
                double pctRemaining = 1 - (step - w) / decaySteps;
                return (range * Math.pow(pctRemaining, power) + lrEnd) / baseLr;
            }
            default:
                throw new IllegalStateException(type);
        }
    }
}
