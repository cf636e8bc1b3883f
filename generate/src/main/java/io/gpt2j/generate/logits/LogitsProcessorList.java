package io.gpt2j.generate.logits;

import java.util.List;

/** An ordered chain of processors, applied one after the other (transformers' LogitsProcessorList). */
public final class LogitsProcessorList implements LogitsProcessor {
    private final LogitsProcessor[] chain;

    public LogitsProcessorList(List<? extends LogitsProcessor> chain) {
        this.chain = chain.toArray(new LogitsProcessor[0]);
    }

    public List<LogitsProcessor> processors() {
        return List.of(chain);
    }

    public boolean isEmpty() {
        return chain.length == 0;
    }

    @Override
    public void process(int row, int[] ids, int len, float[] scores, int off, int vocab) {
        for (LogitsProcessor p : chain) p.process(row, ids, len, scores, off, vocab);
    }

    @Override
    public String toString() {
        return List.of(chain).toString();
    }
}
