package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class RandomCheckpointCommandTest {
    @TempDir
    Path tmp;

    static Path golden(String rel) {
        return Path.of(System.getProperty("gpt2j.testdata"), "golden", rel);
    }

    @Test
    void writesExplicitDimsWithGivenTokenizer() {
        Path out = tmp.resolve("small");
        int code = Main.commandLine().execute("random-checkpoint", "--n-embd", "32", "--n-layer", "2", "--n-head", "4",
                "--n-positions", "16", "--vocab-size", "1000", "--dtype", "f16", "--seed", "3",
                "--tokenizer", golden("checkpoints/tiny-gpt2-v1000").toString(), "--out", out.toString());
        assertEquals(0, code);
        try (LoadedCheckpoint ck = HfCheckpoint.load(out)) {
            assertEquals(32, ck.config().nEmbd());
            assertEquals(16, ck.config().nPositions());
            assertEquals(999, ck.config().eosTokenId(), "eos is <|endoftext|>'s id in the tokenizer");
            assertEquals(DType.F16, ck.weights().wte().dtype());
        }
    }

    @Test
    void bundledTokenizerIsTheRealGpt2One() throws Exception {
        Path out = tmp.resolve("bundled");
        assertEquals(0, Main.commandLine().execute("random-checkpoint", "--n-embd", "16", "--n-layer", "1", "--n-head", "2",
                "--n-positions", "8", "--out", out.toString()));
        assertEquals(-1, Files.mismatch(golden("gpt2-tokenizer/vocab.json"), out.resolve("vocab.json")));
        assertEquals(-1, Files.mismatch(golden("gpt2-tokenizer/merges.txt"), out.resolve("merges.txt")));
        try (LoadedCheckpoint ck = HfCheckpoint.load(out)) {
            assertEquals(50257, ck.config().vocabSize());
            assertEquals(50256, ck.config().eosTokenId());
        }
    }

    @Test
    void smallVocabWithoutTokenizerAndExistingOutputAreRefused() {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(1, cl.execute("random-checkpoint", "--vocab-size", "1000", "--out", tmp.resolve("x").toString()));
        assertTrue(err.toString().contains("--tokenizer"), err.toString());
        Path out = tmp.resolve("twice");
        assertEquals(0, Main.commandLine().execute("random-checkpoint", "--n-embd", "16", "--n-layer", "1", "--n-head", "2",
                "--n-positions", "8", "--out", out.toString()));
        assertEquals(1, cl.execute("random-checkpoint", "--n-embd", "16", "--n-layer", "1", "--n-head", "2",
                "--n-positions", "8", "--out", out.toString()));
        assertTrue(err.toString().contains("--force"), err.toString());
    }
}
