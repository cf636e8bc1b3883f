package io.gpt2j.cli;

import picocli.CommandLine;

/** The one place subcommands are registered (one line each), so parallel work rarely collides. */
final class Commands {
    private Commands() {
    }

    static void register(CommandLine cl) {
        cl.addSubcommand(new TokenizeCommand());
        cl.addSubcommand(new BenchTokenizerCommand());
        cl.addSubcommand(new RandomCheckpointCommand());
        cl.addSubcommand(new QuantizeCommand());
        cl.addSubcommand(new BenchCommand());
        cl.addSubcommand(new JmhCommand());
        cl.addSubcommand("generate", GenerateCommand.commandLine());
        cl.addSubcommand(new ServeCommand());
        cl.addSubcommand(new BenchServerCommand());
        cl.addSubcommand(new FinetuneCommand());
        cl.addSubcommand(new BenchTrainCommand());
        cl.addSubcommand("evaluate", EvaluateCommand.commandLine());
        cl.addSubcommand(new ClassifyCommand());
        cl.addSubcommand(new TagCommand());
    }
}
