package io.gpt2j.cli;

import static io.gpt2j.cli.FinetuneTasksTest.args;
import static io.gpt2j.cli.FinetuneTasksTest.fails;
import static io.gpt2j.cli.FinetuneTasksTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import io.gpt2j.train.Checkpoints;
import io.gpt2j.train.Evaluator;
import io.gpt2j.train.LmBlocks;
import io.gpt2j.train.LoraAdapter;
import io.gpt2j.train.LoraConfig;
import io.gpt2j.train.ParamLayout;
import io.gpt2j.train.Task;
import io.gpt2j.train.TrainConfigs;
import io.gpt2j.train.TrainableGpt2;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune token-classification} and {@code causal-lm} with {@code --apply_lora} end to end on tiny-gpt2: the
 * output reloads (merged: as a plain transformers checkpoint; adapter: into a LoRA model), the GPT-2 weights stay
 * frozen, and LoRA flags that do not fit the run are refused with one line.
 */
class FinetuneLoraTest {
    static final Path BASE = Path.of(FinetuneTasksTest.MODEL);

    /** Merged save: adapted Conv1D weights changed, every other GPT-2 tensor bit-identical to the base, head trained. */
    @Test
    void tokenClassificationWithLoraSavesAMergedModelOverAFrozenBase(@TempDir Path out) throws Exception {
        Path conll = FinetuneTasksTest.RESOURCES.resolve("ner/iob1.conll");
        var r = run(args("token-classification", "--train", conll.toString(), "--validation", conll.toString(), "--output", out.toString(),
                "--max_steps", "4", "--learning_rate", "5e-2", "--per_device_train_batch_size", "2", "--max_seq_length", "48",
                "--save_steps", "2", "--apply_lora", "--lora_r", "2", "--lora_alpha", "4", "--lora_target_modules", "c_attn,c_fc"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("LoRA LoraConfig[r=2, alpha=4.0") && r.out().contains("(LoRA merged into the weights)"), r.out());
        assertTrue(Files.isRegularFile(out.resolve("checkpoint-2").resolve(LoraAdapter.WEIGHTS_FILE)), "checkpoints hold the adapter");
        try (Parallel pool = new Parallel(2); LoadedCheckpoint base = HfCheckpoint.load(BASE); LoadedCheckpoint re = HfCheckpoint.load(out)) {
            assertEquals(List.of("GPT2ForTokenClassification"), re.config().architectures());
            assertFalse(re.extraTensors().keySet().stream().anyMatch(k -> k.contains("lora_")), "no adapter tensors in a merged save");
            int K = re.config().numLabels();
            TrainableGpt2 before = TrainableGpt2.fromCheckpoint(base, Task.TOKEN_CLASSIFICATION, K, 0, pool);
            TrainableGpt2 after = TrainableGpt2.fromCheckpoint(re, Task.TOKEN_CLASSIFICATION, K, 0, pool);
            int adapted = 0;
            for (ParamLayout.Spec s : before.layout().specs()) {
                if (!s.name().startsWith("transformer.")) continue;
                boolean target = s.name().endsWith("attn.c_attn.weight") || s.name().endsWith("mlp.c_fc.weight");
                if (target) {
                    assertFalse(java.util.Arrays.equals(before.param(s.name()), after.param(s.name())), s.name() + " carries the merged update");
                    adapted++;
                } else {
                    assertArrayEquals(before.param(s.name()), after.param(s.name()), s.name() + " is frozen");
                }
            }
            assertEquals(2 * re.config().nLayer(), adapted);
            // tiny-gpt2 has no classifier: the saved one was trained (PEFT's modules_to_save) from a fresh init
            assertTrue(re.extraTensors().containsKey("classifier.weight") && re.extraTensors().containsKey("classifier.bias"));
        }
        var tag = run("tag", "--model", out.toString(), "--json", "Anna visited Oslo.");
        assertEquals(0, tag.code(), tag.err());
        assertTrue(tag.out().contains("\"entities\""), tag.out());
    }

    /** Adapter save: PEFT files only, reloaded with LoraAdapter.load they reproduce the run's own eval_loss exactly. */
    @Test
    void causalLmWithLoraSavesAnAdapterThatReloads(@TempDir Path dir) throws Exception {
        Path corpus = Files.writeString(dir.resolve("corpus.txt"), "the cat sat on the mat.\nthe dog sat on the log.\n".repeat(20));
        Path out = dir.resolve("out");
        var r = run(args("causal-lm", "--train", corpus.toString(), "--validation", corpus.toString(), "--output", out.toString(),
                "--max_steps", "3", "--learning_rate", "5e-2", "--per_device_train_batch_size", "4", "--block_size", "32",
                "--save_steps", "0", "--apply_lora", "true", "--lora_r", "4", "--lora_alpha", "8", "--lora_dropout", "0.1",
                "--lora_target_modules", "c_attn,c_proj", "--save_lora_adapter"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(PEFT LoRA adapter)"), r.out());
        assertFalse(Files.exists(out.resolve("model.safetensors")) || Files.exists(out.resolve("config.json")), "an adapter, not a model");
        assertTrue(Files.isRegularFile(out.resolve("vocab.json")), "tokenizer files beside the adapter");
        Map<String, Object> cfg = Json.parseObject(Files.readString(out.resolve(LoraAdapter.CONFIG_FILE)));
        assertEquals("CAUSAL_LM", cfg.get("task_type"));
        assertNull(cfg.get("modules_to_save"), "the LM has no head of its own to save");
        assertEquals(BASE.toString(), cfg.get("base_model_name_or_path"));
        LoraConfig lc = LoraAdapter.readConfig(out);
        assertEquals(new LoraConfig(4, 8, 0.1, List.of("c_attn", "c_proj")), lc);
        try (SafeTensors st = SafeTensors.open(out.resolve(LoraAdapter.WEIGHTS_FILE))) {
            // 2 layers x (c_attn, attn.c_proj, mlp.c_proj) x (A, B), nothing else
            assertEquals(12, st.tensors().size(), st.tensors().keySet().toString());
            assertTrue(st.tensors().keySet().stream().allMatch(k -> k.startsWith("base_model.model.transformer.h.") && k.contains(".lora_")));
        }
        double saved = ((Number) Json.parseObject(Files.readString(out.resolve("eval_results.json"))).get("eval_loss")).doubleValue();
        try (Parallel pool = new Parallel(2); LoadedCheckpoint base = HfCheckpoint.load(BASE)) {
            TrainableGpt2 m = TrainableGpt2.fromCheckpoint(base, TrainConfigs.forCausalLm(base.config()), Task.CAUSAL_LM, 0, 5, pool, lc);
            TrainableGpt2 untrained = TrainableGpt2.fromCheckpoint(base, TrainConfigs.forCausalLm(base.config()), Task.CAUSAL_LM, 0, 5, pool, lc);
            LoraAdapter.load(m, out);
            LmBlocks val = LmBlocks.fromFile(corpus, Gpt2Tokenizer.fromDirectory(BASE), 32);
            int pad = base.config().eosTokenId();
            double reloaded = Evaluator.causalLm(val).evaluate(m, 4, pad).get("eval_loss");
            double start = Evaluator.causalLm(val).evaluate(untrained, 4, pad).get("eval_loss");
            System.out.printf("[lora causal-lm] eval_loss base %.6f, trained %.6f, reloaded adapter %.6f%n", start, saved, reloaded);
            // the same forward in the same order on the same threads as the run's last evaluation: no tolerance needed
            assertEquals(saved, reloaded, 0.0);
            assertTrue(saved < start, "training lowered the validation loss: " + start + " -> " + saved);
        }
    }

    @Test
    void loraFlagsThatDoNotFitTheRunAreRefused(@TempDir Path dir) throws Exception {
        Path corpus = Files.writeString(dir.resolve("corpus.txt"), "the cat sat on the mat.\n".repeat(40));
        String out = dir.resolve("out").toString();
        fails("--save_lora_adapter needs --apply_lora", args("causal-lm", "--train", corpus.toString(), "--output", out, "--save_lora_adapter"));
        fails("LoRA target module 'q_proj' is not a GPT-2 Conv1D module", args("causal-lm", "--train", corpus.toString(), "--output", out,
                "--apply_lora", "--lora_target_modules", "q_proj"));
        fails("lora_r must be >= 1, got 0", args("text-classification", "--train", FinetuneTasksTest.RESOURCES.resolve("emotion/train64.jsonl").toString(),
                "--output", out, "--apply_lora", "--lora_r", "0"));
        // a LoRA checkpoint resumed with other LoRA settings
        assertEquals(0, run(args("causal-lm", "--train", corpus.toString(), "--output", out, "--max_steps", "2", "--save_steps", "1",
                "--block_size", "16", "--apply_lora", "--lora_r", "2")).code());
        fails("differ from this run's", args("causal-lm", "--train", corpus.toString(), "--output", out, "--max_steps", "2", "--save_steps", "1",
                "--block_size", "16", "--apply_lora", "--lora_r", "2", "--lora_alpha", "64",
                "--resume_from_checkpoint", Path.of(out, Checkpoints.PREFIX + "1").toString()));
    }
}
