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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code finetune token-classification} and {@code causal-lm} end to end on tiny-gpt2, and bad input of every task. */
class FinetuneTasksTest {
    static final Path TESTDATA = Path.of(System.getProperty("gpt2j.testdata"));
    static final String MODEL = TESTDATA.resolve("golden/checkpoints/tiny-gpt2").toString();
    static final Path RESOURCES = TESTDATA.resolveSibling("train/src/test/resources");

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter o = new StringWriter(), e = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(o, true)).setErr(new PrintWriter(e, true));
        int code = cl.execute(args);
        System.out.print(o);
        System.out.print(e);
        return new Run(code, o.toString(), e.toString());
    }

    static String[] args(String task, String... more) {
        List<String> a = new ArrayList<>(List.of("finetune", task, "--model", MODEL, "--threads", "2", "--disable_tqdm"));
        a.addAll(Arrays.asList(more));
        return a.toArray(String[]::new);
    }

    @Test
    void tokenClassificationOnConllWritesAnHfTokenClassifier(@TempDir Path out) throws Exception {
        Path conll = RESOURCES.resolve("ner/iob1.conll");
        Run r = run(args("token-classification", "--train", conll.toString(), "--validation", conll.toString(), "--output", out.toString(),
                "--num_train_epochs", "4", "--learning_rate", "5e-3", "--per_device_train_batch_size", "2", "--max_seq_length", "48",
                "--logging_steps", "2", "--evaluation_strategy", "steps", "--eval_steps", "4", "--save_steps", "4", "--save_total_limit", "1",
                "--metric_for_best_model", "f1"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"eval_f1\":") && r.out().contains("\"eval_precision\":"), r.out());
        try (LoadedCheckpoint re = HfCheckpoint.load(out)) {
            assertEquals(List.of("GPT2ForTokenClassification"), re.config().architectures());
            // the labels.txt beside the data (HF conll2003 order) wins over the tags found in the file
            assertEquals(List.of("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"), re.config().id2label());
            assertEquals(50256, re.config().padTokenId());
            assertTrue(re.extraTensors().containsKey("classifier.weight") && re.extraTensors().containsKey("classifier.bias"));
        }
        Map<String, Object> res = Json.parseObject(Files.readString(out.resolve("eval_results.json")));
        assertTrue(res.containsKey("eval_f1") && res.containsKey("eval_accuracy"), res.toString());
        assertTrue(Files.exists(out.resolve("training_curves.png")) && Files.exists(out.resolve("metrics.jsonl")));
        assertTrue(Files.isDirectory(out.resolve("checkpoint-8")), "newest checkpoint kept");
    }

    @Test
    void tokenClassificationOnJsonlWithLabelsBesideTheData(@TempDir Path out) throws Exception {
        Path jsonl = RESOURCES.resolve("ner/train.jsonl");
        Run r = run(args("token-classification", "--train", jsonl.toString(), "--output", out.toString(), "--max_steps", "2",
                "--per_device_train_batch_size", "2", "--max_seq_length", "32", "--save_steps", "0"));
        assertEquals(0, r.code(), r.err());
        try (LoadedCheckpoint re = HfCheckpoint.load(out)) {
            assertEquals(9, re.config().numLabels());
            assertEquals("B-PER", re.config().id2label().get(1), "names from ner/labels.txt");
        }
    }

    @Test
    void causalLmPacksACorpusAndReportsPerplexity(@TempDir Path dir) throws Exception {
        Path corpus = Files.writeString(dir.resolve("corpus.txt"), "the cat sat on the mat.\nthe dog sat on the log.\n".repeat(20));
        Path out = dir.resolve("out");
        Run r = run(args("causal-lm", "--train", corpus.toString(), "--validation", corpus.toString(), "--output", out.toString(),
                "--num_train_epochs", "2", "--learning_rate", "5e-3", "--per_device_train_batch_size", "4", "--block_size", "32",
                "--logging_steps", "1", "--save_steps", "0"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"eval_perplexity\":"), r.out());
        try (LoadedCheckpoint re = HfCheckpoint.load(out)) {
            assertEquals(List.of("GPT2LMHeadModel"), re.config().architectures());
            assertEquals(0, re.config().numLabels());
        }
        Map<String, Object> res = Json.parseObject(Files.readString(out.resolve("eval_results.json")));
        double loss = ((Number) res.get("eval_loss")).doubleValue(), ppl = ((Number) res.get("eval_perplexity")).doubleValue();
        assertEquals(Math.exp(loss), ppl, 1e-9 * ppl);
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        double first = ((Number) Json.parseObject(lines.get(0)).get("loss")).doubleValue();
        double last = ((Number) Json.parseObject(lines.get(lines.size() - 2)).get("loss")).doubleValue();
        assertTrue(last < first, "training loss goes down: " + first + " -> " + last);
    }

    /** Continuing from a token classifier keeps its label order when the data has the same label set (run_ner). */
    @Test
    void continuingKeepsTheCheckpointsLabelOrder(@TempDir Path dir) throws Exception {
        Path data = Files.copy(RESOURCES.resolve("ner/string-tags.jsonl"), dir.resolve("d.jsonl"));
        Path order = Files.writeString(dir.resolve("order.txt"), "O\nB-PER\nB-ORG\nB-MISC\nI-MISC\n");
        Path first = dir.resolve("first"), second = dir.resolve("second");
        assertEquals(0, run(args("token-classification", "--train", data.toString(), "--token-key", "words", "--tag-key", "tags",
                "--labels", order.toString(), "--output", first.toString(), "--max_steps", "1", "--save_steps", "0")).code());
        List<String> a = new ArrayList<>(List.of("finetune", "token-classification", "--model", first.toString(), "--threads", "2",
                "--disable_tqdm", "--train", data.toString(), "--token-key", "words", "--tag-key", "tags", "--output", second.toString(),
                "--max_steps", "1", "--save_steps", "0"));
        assertEquals(0, run(a.toArray(String[]::new)).code());
        try (LoadedCheckpoint re = HfCheckpoint.load(second)) {
            assertEquals(List.of("O", "B-PER", "B-ORG", "B-MISC", "I-MISC"), re.config().id2label(), "not the sorted order of the data");
        }
    }

    /** Every bad input: exit code 1 and exactly one line on stderr naming the problem. */
    static void fails(String expect, String... args) {
        Run r = run(args);
        assertEquals(1, r.code(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        assertTrue(r.err().contains(expect), "expected '" + expect + "' in: " + r.err());
    }

    @Test
    void badInputGivesOneClearLine(@TempDir Path dir) throws Exception {
        String out = dir.resolve("out").toString();
        Path conll = RESOURCES.resolve("ner/iob1.conll");
        Path few = Files.writeString(dir.resolve("few.txt"), "O\nI-PER\n");
        fails("unknown label 'I-LOC'", args("token-classification", "--train", conll.toString(), "--labels", few.toString(), "--output", out));
        Path empty = Files.writeString(dir.resolve("empty.jsonl"), "");
        fails("empty.jsonl: no sentences", args("token-classification", "--train", empty.toString(), "--output", out));
        fails("empty.jsonl: no examples", args("text-classification", "--train", empty.toString(), "--output", out));
        Path emptyText = Files.writeString(dir.resolve("empty.txt"), "\n");
        fails("empty.txt: no text", args("causal-lm", "--train", emptyText.toString(), "--output", out));
        // labels file with 2 names vs integer tags up to 8
        fails("label id 2 is out of range for 2 labels", args("token-classification", "--train", RESOURCES.resolve("ner/train.jsonl").toString(),
                "--labels", few.toString(), "--output", out));
        Path twoLabels = Files.writeString(dir.resolve("two.txt"), "neg\npos\n");
        fails("label 3 is not one of [neg, pos]", args("text-classification", "--train", RESOURCES.resolve("emotion/train64.jsonl").toString(),
                "--labels", twoLabels.toString(), "--output", out));
        Path mism = Files.writeString(dir.resolve("mism.jsonl"), "{\"tokens\": [\"a\", \"b\"], \"ner_tags\": [\"O\"]}\n");
        fails("mism.jsonl:1: 2 words in 'tokens' but 1 tags", args("token-classification", "--train", mism.toString(), "--output", out));
        fails("--max_seq_length 256 exceeds the model's n_positions 128", args("token-classification", "--train", conll.toString(),
                "--max_seq_length", "256", "--output", out));
        Path tiny = Files.writeString(dir.resolve("tiny.txt"), "a few words\n");
        fails("do not fill one block of block_size 64", args("causal-lm", "--train", tiny.toString(), "--block_size", "64", "--output", out));
        fails("evaluation_strategy 'often'", args("causal-lm", "--train", tiny.toString(), "--evaluation_strategy", "often", "--output", out));
        fails("--resume_from_checkpoint", args("causal-lm", "--train", tiny.toString(), "--resume_from_checkpoint", dir.resolve("nope").toString(), "--output", out));
        fails("--metric_for_best_model f1_macro is not a token_classification metric", args("token-classification", "--train", conll.toString(),
                "--metric_for_best_model", "f1_macro", "--output", out));
        fails("--labels " + dir.resolve("missing.txt") + ": no such file", args("token-classification", "--train", conll.toString(),
                "--labels", dir.resolve("missing.txt").toString(), "--output", out));
        fails("--seqeval_mode 'iob3'", args("token-classification", "--train", conll.toString(), "--seqeval_mode", "iob3", "--output", out));
    }

    /** A checkpoint that already has a 6-label head refuses data with 2 labels, unless told to start a fresh head. */
    @Test
    void headWithAnotherLabelCountIsRefused(@TempDir Path dir) throws Exception {
        Path emotion = RESOURCES.resolve("emotion/train64.jsonl"), six = dir.resolve("six");
        assertEquals(0, run(args("text-classification", "--train", emotion.toString(), "--output", six.toString(), "--max_steps", "1",
                "--max_seq_length", "16", "--save_steps", "0")).code());
        Path binary = Files.writeString(dir.resolve("binary.jsonl"), "{\"text\": \"good\", \"label\": \"pos\"}\n{\"text\": \"bad\", \"label\": \"neg\"}\n");
        List<String> a = new ArrayList<>(List.of("finetune", "text-classification", "--model", six.toString(), "--threads", "2", "--disable_tqdm",
                "--train", binary.toString(), "--output", dir.resolve("out").toString(), "--max_steps", "1", "--save_steps", "0"));
        fails("already has a 6-label head (score.weight", a.toArray(String[]::new));
        a.add("--ignore_mismatched_sizes");
        assertEquals(0, run(a.toArray(String[]::new)).code());
    }
}
