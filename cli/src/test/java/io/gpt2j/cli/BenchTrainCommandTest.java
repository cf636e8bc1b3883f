package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.io.SafeTensors;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bench-train} on tiny-gpt2-v1000 and {@code finetune text-classification --apply_lora} end to end. */
class BenchTrainCommandTest {
    static final Path TESTDATA = Path.of(System.getProperty("gpt2j.testdata"));
    static final String TINY = TESTDATA.resolve("golden/checkpoints/tiny-gpt2-v1000").toString();
    static final Path EMOTION = TESTDATA.resolveSibling("train/src/test/resources/emotion");

    static int run(StringWriter o, StringWriter e, String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(o, true)).setErr(new PrintWriter(e, true));
        return cl.execute(args);
    }

    @Test
    void reportsTokensPerSecondPhasesAndMemory() {
        StringWriter o = new StringWriter(), e = new StringWriter();
        int code = run(o, e, "bench-train", "--model", TINY, "--task", "text-classification", "--batch", "2", "--seq-len", "16",
                "--steps", "2", "--lora", "--lora-r", "4", "--lora-target-modules", "c_attn,c_fc", "--threads", "2", "--json");
        assertEquals(0, code, e.toString());
        Map<String, Object> j = Json.parseObject(o.toString().strip());
        double fwd = ((Number) j.get("forward_seconds")).doubleValue(), bwd = ((Number) j.get("backward_seconds")).doubleValue();
        double opt = ((Number) j.get("optimizer_seconds")).doubleValue(), step = ((Number) j.get("step_seconds")).doubleValue();
        assertTrue(fwd > 0 && bwd > 0 && opt > 0, o.toString());
        assertEquals(fwd + bwd + opt, step, 1e-9);
        assertEquals(32 / step, ((Number) j.get("tokens_per_s")).doubleValue(), 1e-6 * (32 / step));
        // 3 layers x r 4 x ((48 + 144) + (48 + 192)) LoRA parameters + score.weight 6 x 48
        assertEquals(3L * 4 * (192 + 240) + 6 * 48, ((Number) j.get("trainable_parameters")).longValue());
        assertTrue(((Number) j.get("peak_rss_bytes")).longValue() > 0 && ((Number) j.get("peak_heap_bytes")).longValue() > 0);
    }

    @Test
    void unknownTaskIsRejected() {
        StringWriter o = new StringWriter(), e = new StringWriter();
        assertEquals(1, run(o, e, "bench-train", "--model", TINY, "--task", "ner"));
        assertTrue(e.toString().contains("--task must be causal-lm or text-classification, got 'ner'"), e.toString());
        e = new StringWriter();
        assertEquals(1, run(o, e, "bench-train", "--model", TINY, "--lora", "--lora-target-modules", "q_proj"));
        assertTrue(e.toString().contains("'q_proj' is not a GPT-2 Conv1D module"), e.toString());
    }

    @Test
    void finetuneWithLoraSavesAPeftAdapter(@TempDir Path out) throws Exception {
        StringWriter o = new StringWriter(), e = new StringWriter();
        int code = run(o, e, "finetune", "text-classification", "--model", TESTDATA.resolve("golden/checkpoints/tiny-gpt2").toString(),
                "--train", EMOTION.resolve("train64.jsonl").toString(), "--output", out.toString(), "--max_steps", "2",
                "--per_device_train_batch_size", "8", "--max_seq_length", "16", "--threads", "2",
                "--apply_lora", "true", "--lora_r", "4", "--lora_alpha", "8", "--lora_dropout", "0.1", "--save_lora_adapter");
        assertEquals(0, code, e.toString());
        assertTrue(o.toString().contains("LoRA"), o.toString());
        Map<String, Object> cfg = Json.parseObject(Files.readString(out.resolve("adapter_config.json")));
        assertEquals(4L, ((Number) cfg.get("r")).longValue());
        assertEquals(java.util.List.of("c_attn"), cfg.get("target_modules"));
        try (SafeTensors st = SafeTensors.open(out.resolve("adapter_model.safetensors"))) {
            assertTrue(st.tensors().containsKey("base_model.model.transformer.h.1.attn.c_attn.lora_B.weight"), st.tensors().keySet().toString());
            assertTrue(st.tensors().containsKey("base_model.model.score.weight"));
        }
    }
}
