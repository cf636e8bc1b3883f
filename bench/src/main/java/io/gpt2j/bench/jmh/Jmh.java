package io.gpt2j.bench.jmh;

import java.util.Collection;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * Entry point of the kernel micro-benchmarks: JMH's own command line (benchmark regex, -p param=value, -f, -wi,
 * -i, -jvmArgsAppend, -h, -l ...). Forked JVMs inherit this JVM's flags (--add-modules jdk.incubator.vector).
 */
public final class Jmh {
    private Jmh() {
    }

    public static Collection<RunResult> run(String... args) throws CommandLineOptionException, RunnerException, java.io.IOException {
        CommandLineOptions options = new CommandLineOptions(args);
        if (options.shouldHelp()) {
            options.showHelp();
            return java.util.List.of();
        }
        if (options.shouldList() || options.shouldListWithParams()) {
            new Runner(options).list();
            return java.util.List.of();
        }
        return new Runner(options).run();
    }
}
