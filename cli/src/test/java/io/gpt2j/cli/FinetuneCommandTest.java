package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code finetune text-classification} end to end on tiny-gpt2 and the 64-row emotion fixture of the train module. */
class FinetuneCommandTest {
    static final Path TESTDATA = Path.of(System.getProperty("gpt2j.testdata"));
    static final String MODEL = TESTDATA.resolve("golden/checkpoints/tiny-gpt2").toString();
    static final Path EMOTION = TESTDATA.resolveSibling("train/src/test/resources/emotion");

    @Test
    void trainsReportsMetricsAndSavesAnHfDirectory(@TempDir Path out) throws Exception {
        StringWriter o = new StringWriter(), e = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(o, true)).setErr(new PrintWriter(e, true));
        int code = cl.execute("finetune", "text-classification", "--model", MODEL,
                "--train", EMOTION.resolve("train64.jsonl").toString(), "--validation", EMOTION.resolve("validation32.jsonl").toString(),
                "--output", out.toString(), "--num_train_epochs", "1", "--learning_rate", "1e-3", "--per_device_train_batch_size", "16",
                "--warmup_steps", "1", "--weight_decay", "0.01", "--lr_scheduler_type", "cosine", "--max_seq_length", "32",
                "--logging_steps", "2", "--threads", "2");
        System.out.print(o);
        assertEquals(0, code, e.toString());
        assertTrue(o.toString().contains("\"eval_f1_macro\""), o.toString());
        Map<String, Object> results = Json.parseObject(Files.readString(out.resolve("eval_results.json")));
        assertEquals(32L, ((Number) results.get("eval_samples")).longValue());
        try (LoadedCheckpoint re = HfCheckpoint.load(out)) {
            assertEquals(List.of("GPT2ForSequenceClassification"), re.config().architectures());
            assertEquals(List.of("sadness", "joy", "love", "anger", "fear", "surprise"), re.config().id2label());
            assertEquals(50256, re.config().padTokenId());
            assertTrue(re.extraTensors().containsKey("score.weight"));
        }
    }

    @Test
    void badHyperparameterIsReportedWithItsValue() {
        StringWriter o = new StringWriter(), e = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(o, true)).setErr(new PrintWriter(e, true));
        int code = cl.execute("finetune", "text-classification", "--model", MODEL, "--train", EMOTION.resolve("train64.jsonl").toString(),
                "--output", "/tmp/unused-gpt2j", "--lr_scheduler_type", "inverse_sqrt");
        assertEquals(1, code);
        assertTrue(e.toString().contains("inverse_sqrt"), e.toString());
    }
}
