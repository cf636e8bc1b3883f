package io.gpt2j.generate.logits;

/** transformers' LogitNormalization (renormalize_logits=True): scores become log_softmax(scores). */
public final class LogitNormalization implements LogitsProcessor {
    @Override
    public void process(int row, int[] ids, int len, float[] s, int off, int vocab) {
        Scores.logSoftmax(s, off, vocab);
    }

    @Override
    public String toString() {
        return "LogitNormalization";
    }
}
