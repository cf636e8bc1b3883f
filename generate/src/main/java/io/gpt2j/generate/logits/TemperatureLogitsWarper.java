package io.gpt2j.generate.logits;

/** scores / temperature (fp32), transformers' TemperatureLogitsWarper. */
public final class TemperatureLogitsWarper implements LogitsProcessor {
    private final float temperature;

    public TemperatureLogitsWarper(double temperature) {
        Scores.check(temperature > 0 && Double.isFinite(temperature), "`temperature` (=" + temperature
                + ") has to be a strictly positive float, otherwise your next token scores will be invalid;"
                + " for greedy decoding set do_sample=false");
        this.temperature = (float) temperature;
    }

    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        for (int i = 0; i < vocab; i++) s[off + i] = s[off + i] / temperature;
    }

    @Override
    public String toString() {
        return "Temperature(" + temperature + ")";
    }
}
