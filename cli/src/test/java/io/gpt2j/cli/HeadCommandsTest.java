package io.gpt2j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.HfHeads;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.ClassificationHead;
import io.gpt2j.core.model.Classifier;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import io.gpt2j.train.Batch;
import io.gpt2j.train.Task;
import io.gpt2j.train.TextClassificationData;
import io.gpt2j.train.TrainableGpt2;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * classify / tag / evaluate text- and token-classification end to end: a sequence-classification directory written by
 * {@code finetune text-classification} (2 steps on tiny-gpt2-v1000) and a token-classification directory with the
 * golden (transformers-initialised) classifier of tiny-gpt2-v1000.
 */
class HeadCommandsTest {
    static final Path TESTDATA = Path.of(System.getProperty("gpt2j.testdata"));
    static final Path BASE = TESTDATA.resolve("golden/checkpoints/tiny-gpt2-v1000");
    static final Path EMOTION = TESTDATA.resolveSibling("train/src/test/resources/emotion");
    static final Path NER = TESTDATA.resolveSibling("train/src/test/resources/ner");
    static final List<String> TEXTS = List.of("i feel so happy today", "im feeling quite sad and sorry for myself", "");

    @TempDir
    static Path tmp;
    static Path seqcls, tokcls;

    record Run(int code, String out, String err) {
    }

    static Run run(String stdin, Object cmd, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = cmd == null ? Main.commandLine() : new CommandLine(cmd);
        if (cmd != null) cl.setExecutionExceptionHandler(Main.commandLine().getExecutionExceptionHandler());
        cl.setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void fixtures() throws Exception {
        seqcls = tmp.resolve("seqcls");
        Run r = run(null, null, "finetune", "text-classification", "--model", BASE.toString(), "--train", EMOTION.resolve("train64.jsonl").toString(),
                "--validation", EMOTION.resolve("validation32.jsonl").toString(), "--output", seqcls.toString(), "--max_steps", "2",
                "--learning_rate", "1e-3", "--per_device_train_batch_size", "8", "--max_seq_length", "64", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        tokcls = tmp.resolve("tokcls");
        try (SafeTensors g = SafeTensors.open(TESTDATA.resolve("golden/tiny-gpt2-v1000/train_tokcls.safetensors"));
             LoadedCheckpoint base = HfCheckpoint.load(BASE)) {
            HfHeads.write(base, new ClassificationHead(ClassificationHead.Kind.TOKEN_CLASSIFICATION, ClassificationHead.Problem.SINGLE_LABEL,
                    g.get("init.classifier.weight").toFloatArray(), g.get("init.classifier.bias").toFloatArray(),
                    Files.readAllLines(NER.resolve("labels.txt")), -1), tokcls);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void classifyJsonMatchesTheTrainingModelsForward() throws Exception {
        Run r = run(null, null, "classify", "--model", seqcls.toString(), "--json", "--threads", "2", TEXTS.get(0), TEXTS.get(1));
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().strip().lines().toList();
        assertEquals(2, lines.size());
        // the train module's forward (TrainableGpt2, eval mode) on the same texts as one right-padded batch
        Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(seqcls);
        float[] ref;
        try (LoadedCheckpoint ck = HfCheckpoint.load(seqcls); Parallel pool = new Parallel(2)) {
            TrainableGpt2 m = TrainableGpt2.fromCheckpoint(ck, Task.SEQUENCE_CLASSIFICATION, 6, 0, pool);
            var data = TextClassificationData.encode(List.of(new TextClassificationData.Row(TEXTS.get(0), 0),
                    new TextClassificationData.Row(TEXTS.get(1), 0)), ck.config().id2label(), tok, 64);
            Batch b = data.batch(new int[]{0, 1}, 0, 2, ck.config().padTokenId());
            m.forward(b);
            ref = m.logits().clone();
        }
        double worst = 0;
        for (int i = 0; i < 2; i++) {
            Map<String, Object> o = Json.parseObject(lines.get(i));
            assertEquals(TEXTS.get(i), o.get("text"));
            List<Object> logits = (List<Object>) o.get("logits");
            Map<String, Object> scores = (Map<String, Object>) o.get("scores");
            assertEquals(List.of("sadness", "joy", "love", "anger", "fear", "surprise"), List.copyOf(scores.keySet()));
            double sum = 0, best = -1;
            String arg = null;
            for (var e : scores.entrySet()) {
                double v = ((Number) e.getValue()).doubleValue();
                sum += v;
                if (v > best) { best = v; arg = e.getKey(); }
            }
            assertEquals(1.0, sum, 1e-5, "softmax");
            assertEquals(arg, o.get("label"));
            for (int k = 0; k < 6; k++) worst = Math.max(worst, Math.abs(((Number) logits.get(k)).doubleValue() - ref[i * 6 + k]));
        }
        System.out.printf("classify vs TrainableGpt2 logits max-abs %.2e%n", worst);
        assertTrue(worst < 1e-4, "logits differ from the training forward by " + worst); // two fp32 engines, as vs transformers
    }

    @Test
    void classifyPlainTopKFromStdinAndFile() throws Exception {
        String in = TEXTS.get(0) + "\n\n" + TEXTS.get(1) + "\n";
        Run r = run(in, new ClassifyCommand(new ByteArrayInputStream(in.getBytes(StandardCharsets.UTF_8))),
                "--model", seqcls.toString(), "--top-k", "2", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().strip().lines().toList();
        assertEquals(2, lines.size(), r.out());
        assertTrue(lines.get(0).matches("\\w+ 0\\.\\d{4}, \\w+ 0\\.\\d{4}\t" + TEXTS.get(0)), lines.get(0));
        Path file = tmp.resolve("texts.txt");
        Files.writeString(file, in);
        Run f = run(null, null, "classify", "--model", seqcls.toString(), "--top-k", "2", "--input", file.toString(), "--threads", "1");
        assertEquals(r.out(), f.out());
    }

    @Test
    void wrongCheckpointsAndInputsGiveOneLineErrors() throws Exception {
        Run lm = run(null, null, "classify", "--model", BASE.toString(), "hi");
        assertEquals(1, lm.code());
        assertTrue(lm.err().contains("has no classification head") && lm.err().contains("GPT2LMHeadModel"), lm.err());
        Run tok = run(null, null, "classify", "--model", tokcls.toString(), "hi");
        assertEquals(1, tok.code());
        assertTrue(tok.err().contains("GPT2ForTokenClassification") && tok.err().contains("gpt2j tag"), tok.err());
        Run seq = run(null, null, "tag", "--model", seqcls.toString(), "hi");
        assertTrue(seq.code() == 1 && seq.err().contains("gpt2j classify"), seq.err());
        Path blank = tmp.resolve("blank.txt");
        Files.writeString(blank, "\n  \n");
        Run b = run(null, null, "classify", "--model", seqcls.toString(), "--input", blank.toString());
        assertTrue(b.code() == 1 && b.err().contains("no texts"), b.err());
        Run k = run(null, null, "classify", "--model", seqcls.toString(), "--top-k", "0", "x");
        assertTrue(k.code() == 1 && k.err().contains("--top-k"), k.err());
    }

    @Test
    @SuppressWarnings("unchecked")
    void tagGivesWordsFromTheirFirstSubTokenAndEntitySpans() throws Exception {
        String text = "Anna Lindqvist visited Oslo, Norway.";
        Run r = run(null, null, "tag", "--model", tokcls.toString(), "--json", "--threads", "1", text);
        assertEquals(0, r.code(), r.err());
        Map<String, Object> o = Json.parseObject(r.out().strip());
        List<Object> words = (List<Object>) o.get("words");
        assertEquals(List.of("Anna", "Lindqvist", "visited", "Oslo", ",", "Norway", "."), words.stream().map(w -> ((Map<String, Object>) w).get("word")).toList());
        // independent path: encode each word as " " + word, run the classifier, arg-max at each word's first token
        Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(tokcls);
        List<String> labels = Files.readAllLines(NER.resolve("labels.txt"));
        try (LoadedCheckpoint ck = HfCheckpoint.load(tokcls); Parallel pool = new Parallel(1)) {
            ClassificationHead head = HfHeads.read(ck);
            int[] all = new int[0];
            int[] first = new int[words.size()];
            for (int w = 0; w < words.size(); w++) {
                int[] sub = tok.encode(" " + ((Map<String, Object>) words.get(w)).get("word"));
                first[w] = all.length;
                int[] n = java.util.Arrays.copyOf(all, all.length + sub.length);
                System.arraycopy(sub, 0, n, all.length, sub.length);
                all = n;
            }
            float[] logits = new Classifier(new Gpt2(ck.config(), ck.weights(), pool), head).logits(List.of(all)).get(0);
            for (int w = 0; w < words.size(); w++) {
                int best = ClassificationHead.argmax(logits, first[w] * 9, 9);
                assertEquals(labels.get(best), ((Map<String, Object>) words.get(w)).get("tag"), "word " + w);
            }
        }
        for (Object e : (List<Object>) o.get("entities")) {
            Map<String, Object> m = (Map<String, Object>) e;
            int s = ((Number) m.get("start")).intValue(), en = ((Number) m.get("end")).intValue();
            assertEquals(text.substring(s, en), m.get("word"));
            assertTrue(labels.contains("B-" + m.get("entity_group")), m.toString());
        }
        Run plain = run(null, null, "tag", "--model", tokcls.toString(), "--threads", "1", text);
        assertEquals(0, plain.code(), plain.err());
        assertEquals(1 + ((List<Object>) o.get("entities")).size(), plain.out().strip().lines().count(), plain.out());
    }

    @Test
    @SuppressWarnings("unchecked")
    void evaluateTextClassificationAgreesWithTheTrainersValidation() throws Exception {
        Path png = tmp.resolve("cm.png"), report = tmp.resolve("report.json");
        Run r = run(null, null, "evaluate", "text-classification", "--model", seqcls.toString(), "--data", EMOTION.resolve("validation32.jsonl").toString(),
                "--max-seq-length", "64", "--confusion-png", png.toString(), "--output", report.toString(), "--threads", "2");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> rep = Json.parseObject(Files.readString(report));
        Map<String, Object> m = (Map<String, Object>) rep.get("metrics");
        Map<String, Object> trainer = Json.parseObject(Files.readString(seqcls.resolve("eval_results.json")));
        assertEquals(((Number) trainer.get("eval_accuracy")).doubleValue(), ((Number) m.get("accuracy")).doubleValue(), 1e-12);
        assertEquals(((Number) trainer.get("eval_f1_macro")).doubleValue(), ((Number) m.get("f1_macro")).doubleValue(), 1e-12);
        assertEquals(32L, rep.get("examples"));
        assertTrue(r.out().contains("macro avg") && r.out().contains("confusion matrix"), r.out());
        int k = ((List<Object>) ((Map<String, Object>) m.get("confusion_matrix")).get("labels")).size();
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(140 + 48 * k + 24, img.getWidth());
        assertEquals(140 + 48 * k + 24, img.getHeight());

        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"text\": \"a\", \"label\": \"joy\"}\n{\"text\": \"b\", \"label\": \"bliss\"}\n");
        Run e = run(null, null, "evaluate", "text-classification", "--model", seqcls.toString(), "--data", bad.toString());
        assertTrue(e.code() == 1 && e.err().contains("row 2") && e.err().contains("bliss"), e.err());
    }

    @Test
    @SuppressWarnings("unchecked")
    void evaluateTokenClassificationOnJsonlAndConll() throws Exception {
        Run j = run(null, null, "evaluate", "token-classification", "--model", tokcls.toString(), "--data", NER.resolve("train.jsonl").toString(), "--threads", "1");
        assertEquals(0, j.code(), j.err());
        Map<String, Object> rep = Json.parseObject(j.out().strip());
        assertEquals(3L, rep.get("sentences"));
        assertEquals(12L, rep.get("words"));
        Map<String, Object> m = (Map<String, Object>) rep.get("metrics");
        assertEquals(4L, m.get("gold_entities")); // Anna Lindqvist, Oslo, Nordbank, European Cup
        for (String key : List.of("precision", "recall", "f1", "token_accuracy")) {
            double v = ((Number) m.get(key)).doubleValue();
            assertTrue(v >= 0 && v <= 1, key + " " + v);
        }
        assertTrue(j.err().contains("micro avg"), j.err());
        Path png = tmp.resolve("ner.png");
        Run c = run(null, null, "evaluate", "token-classification", "--model", tokcls.toString(), "--data", NER.resolve("iob1.conll").toString(),
                "--max-seq-length", "8", "--confusion-png", png.toString(), "--threads", "1");
        assertEquals(0, c.code(), c.err());
        Map<String, Object> crep = Json.parseObject(c.out().strip());
        assertTrue(((Number) crep.get("words_truncated")).longValue() > 0, "8 tokens cut some sentences: " + crep);
        assertTrue(ImageIO.read(png.toFile()).getWidth() > 0);
    }
}
