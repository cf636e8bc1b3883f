package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The resume check with a real kill: {@code gpt2j finetune} runs in a child JVM that is SIGKILLed once its
 * first checkpoint appears; resuming from the newest checkpoint left on disk gives a model.safetensors byte-identical
 * to an uninterrupted run (dropout on, warmup, gradient accumulation, evaluation between checkpoints).
 */
class FinetuneResumeAfterKillTest {
    static final Path TESTDATA = Path.of(System.getProperty("gpt2j.testdata"));
    static final String MODEL = TESTDATA.resolve("golden/checkpoints/tiny-gpt2").toString();
    static final Path EMOTION = TESTDATA.resolveSibling("train/src/test/resources/emotion");

    static List<String> args(Path out) {
        return new ArrayList<>(List.of("finetune", "text-classification", "--model", MODEL, "--threads", "2", "--disable_tqdm",
                "--train", EMOTION.resolve("train64.jsonl").toString(), "--validation", EMOTION.resolve("validation32.jsonl").toString(),
                "--output", out.toString(), "--max_steps", "24", "--per_device_train_batch_size", "4", "--gradient_accumulation_steps", "2",
                "--learning_rate", "2e-3", "--warmup_steps", "3", "--weight_decay", "0.01", "--max_seq_length", "24",
                "--logging_steps", "1", "--evaluation_strategy", "steps", "--eval_steps", "5", "--save_steps", "3", "--seed", "5"));
    }

    @Test
    void killedRunResumesToTheSameBits(@TempDir Path dir) throws Exception {
        Path straight = dir.resolve("straight"), killed = dir.resolve("killed");
        assertEquals(0, FinetuneTasksTest.run(args(straight).toArray(String[]::new)).code());

        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args(killed));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.isDirectory(killed.resolve("checkpoint-3")) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(10);
        assertTrue(p.isAlive(), "the child must still be training when killed: " + Files.readString(dir.resolve("child.log")));
        p.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
        p.waitFor(30, TimeUnit.SECONDS);
        assertFalse(Files.exists(killed.resolve("model.safetensors")), "a killed run has no final model");
        List<Path> cps;
        try (Stream<Path> s = Files.list(killed)) {
            cps = s.filter(x -> x.getFileName().toString().matches("checkpoint-\\d+"))
                    .sorted(Comparator.comparingInt(x -> Integer.parseInt(x.getFileName().toString().substring(11)))).toList();
        }
        Path last = cps.getLast();
        System.out.println("[kill] checkpoints left: " + cps + "; resuming from " + last);
        assertTrue(Files.exists(last.resolve("trainer_state.json")), "renamed into place only when complete");

        List<String> resume = args(killed);
        resume.addAll(List.of("--resume_from_checkpoint", last.toString()));
        assertEquals(0, FinetuneTasksTest.run(resume.toArray(String[]::new)).code());
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")), Files.readAllBytes(killed.resolve("model.safetensors")),
                "resumed model.safetensors differs from the uninterrupted run's");
        assertArrayEquals(Files.readAllBytes(straight.resolve("checkpoint-24/optimizer.safetensors")),
                Files.readAllBytes(killed.resolve("checkpoint-24/optimizer.safetensors")));
    }
}
