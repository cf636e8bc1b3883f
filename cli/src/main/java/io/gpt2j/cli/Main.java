package io.gpt2j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The gpt2j command line: registers the subcommands and maps errors to exit codes. No model logic here. */
@Command(name = "gpt2j", mixinStandardHelpOptions = true, version = "gpt2j 0.1.0",
        description = "GPT-2 on the JVM: load Hugging Face checkpoints, tokenize, generate, benchmark.",
        subcommands = {CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Builds the command line with every subcommand and gpt2j's error handling. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        Commands.register(cl);
        // UTF-8 whatever the platform default, flushed per println; commands flush streamed text themselves
        cl.setOut(new java.io.PrintWriter(new java.io.OutputStreamWriter(System.out, java.nio.charset.StandardCharsets.UTF_8), true));
        cl.setErr(new java.io.PrintWriter(new java.io.OutputStreamWriter(System.err, java.nio.charset.StandardCharsets.UTF_8), true));
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            Throwable t = ex;
            String msg = t.getMessage() == null ? t.toString() : t.getMessage();
            cmd.getErr().println("gpt2j " + cmd.getCommandName() + ": " + msg.replace('\n', ' '));
            if (System.getenv("GPT2J_DEBUG") != null) t.printStackTrace(cmd.getErr());
            return 1;
        });
        return cl;
    }

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        System.out.flush();
        System.exit(code);
    }
}
