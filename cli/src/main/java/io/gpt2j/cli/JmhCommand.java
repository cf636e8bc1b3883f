package io.gpt2j.cli;

import io.gpt2j.bench.jmh.Jmh;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/** `gpt2j jmh [JMH options]`: the kernel micro-benchmarks (io.gpt2j.bench.jmh) under JMH; wiring only. */
@Command(name = "jmh", description = {"Run the kernel micro-benchmarks with JMH (matvec/matmul per dtype, attention,",
        "layer norm, gelu). Every argument goes to JMH, e.g. `jmh MatVec -p dtype=Q8_0 -p threads=2`; `jmh -h`",
        "lists JMH's options, `jmh -l` the benchmarks."})
final class JmhCommand implements Callable<Integer> {
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Jmh.run(args.toArray(String[]::new));
        return 0;
    }
}
