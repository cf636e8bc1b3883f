package io.gpt2j.cli;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.model.ClassificationHead;
import io.gpt2j.core.model.Predictions;
import io.gpt2j.core.model.Tagging;
import io.gpt2j.eval.metrics.Classification;
import io.gpt2j.eval.metrics.ClassificationReport;
import io.gpt2j.eval.metrics.ConfusionMatrixImage;
import io.gpt2j.eval.metrics.SeqEval;
import io.gpt2j.train.TextClassificationData;
import io.gpt2j.train.TokenClassificationData;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gpt2j evaluate text-classification | token-classification}: a fine-tuned head on a labelled file. Wiring
 * only: train's readers, core's classifier, eval's metrics and reports.
 */
final class EvaluateClassificationCommand {
    private EvaluateClassificationCommand() {
    }

    /** Options both tasks share. */
    abstract static class Common implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "DIR", description = "fine-tuned checkpoint directory") Path model;
        @Option(names = "--data", required = true, paramLabel = "FILE", description = "labelled test data") Path data;
        @Option(names = "--output", paramLabel = "FILE", description = "write the JSON report here (default: stdout, table on stderr)") Path output;
        @Option(names = "--confusion-png", paramLabel = "FILE", description = "also draw the confusion matrix as a PNG") Path png;
        @Option(names = {"--max-seq-length", "--max_seq_length"}, description = "tokens per example after truncation (default: n_positions)") int maxSeqLength;
        @Option(names = "--threads", description = "worker threads (default: all available processors)") Integer threads;
        @Spec CommandSpec spec;

        void emit(Map<String, Object> report, String table, List<String> cmLabels, long[][] cm) throws Exception {
            if (png != null) {
                ConfusionMatrixImage.writePng(png, cmLabels, cm);
                report.put("confusion_png", png.toString());
            }
            String json = Json.write(report);
            PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
            if (output != null) Files.writeString(output, json + "\n", StandardCharsets.UTF_8);
            else out.println(json);
            PrintWriter tableOut = output != null ? out : err; // keep stdout pure JSON
            tableOut.print(table);
            tableOut.flush();
            out.flush();
        }

        void checkData() {
            if (!Files.isRegularFile(data)) throw new IllegalArgumentException("--data " + data + " is not a file");
        }
    }

    @Command(name = "text-classification", mixinStandardHelpOptions = true, showDefaultValues = true,
            description = {"Accuracy, macro/micro F1, precision, recall, MCC, per-class table and confusion matrix of a",
                    "GPT2ForSequenceClassification checkpoint on JSONL rows {\"text\": ..., \"label\": name or id}."})
    static final class Text extends Common {
        @Option(names = {"--text-key", "--text_column"}, description = "text field") String textKey = "text";
        @Option(names = {"--label-key", "--label_column"}, description = "label field (a label name, or an id into the model's id2label)") String labelKey = "label";

        @Override
        public Integer call() throws Exception {
            checkData();
            var rows = TextClassificationData.readJsonl(data, textKey, labelKey);
            try (HeadInputs.Loaded m = HeadInputs.Loaded.open(model, ClassificationHead.Kind.SEQUENCE_CLASSIFICATION, threads)) {
                ClassificationHead head = m.head();
                if (head.problem() != ClassificationHead.Problem.SINGLE_LABEL) {
                    throw new IllegalArgumentException(model + ": problem_type " + head.problem().configName() + " is not evaluated here (single-label only)");
                }
                List<String> names = head.labels();
                List<Integer> gold = new ArrayList<>();
                List<String> texts = new ArrayList<>();
                for (int i = 0; i < rows.size(); i++) {
                    Object l = rows.get(i).label();
                    int id = l instanceof Number n ? n.intValue() : names.indexOf((String) l);
                    if (id < 0 || id >= names.size() || (l instanceof Number n && n.doubleValue() != id)) {
                        throw new IllegalArgumentException(data + ": row " + (i + 1) + ": label " + Json.write(l) + " is not one of the model's labels "
                                + names + " (or an id 0.." + (names.size() - 1) + ")");
                    }
                    gold.add(id);
                    texts.add(rows.get(i).text());
                }
                int max = maxSeqLength > 0 ? maxSeqLength : m.checkpoint().config().nPositions();
                long t0 = System.nanoTime();
                List<Predictions.Prediction> ps = Predictions.classify(m.classifier(), texts,
                        s -> { int[] ids = m.tokenizer().encode(s); return ids.length > max ? java.util.Arrays.copyOf(ids, max) : ids; });
                double secs = (System.nanoTime() - t0) / 1e9;
                List<Integer> pred = ps.stream().map(Predictions.Prediction::labelId).toList();
                Classification<Integer> c = new Classification<>(gold, pred);
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("model_dir", model.toString());
                report.put("task", "text-classification");
                report.put("data", data.toString());
                report.put("examples", texts.size());
                report.put("metrics", ClassificationReport.metrics(c, names::get));
                report.put("seconds", secs);
                long[][] cm = c.confusionMatrix();
                emit(report, ClassificationReport.table(c, names::get), c.labels().stream().map(names::get).toList(), cm);
            }
            return 0;
        }
    }

    @Command(name = "token-classification", mixinStandardHelpOptions = true, showDefaultValues = true,
            description = {"Entity-level precision/recall/F1 (seqeval; IOB1 and IOB2), per entity type, token accuracy and",
                    "the word-tag confusion matrix of a GPT2ForTokenClassification checkpoint on JSONL ({\"tokens\": [...],",
                    "\"ner_tags\": [...]}, tags as names or ids) or CoNLL columns (word first, tag last). Each word is",
                    "predicted from its first sub-token; words cut off by --max-seq-length are left out, as run_ner does."})
    static final class Tokens extends Common {
        @Option(names = {"--token-key", "--tokens-key"}, description = "JSONL field with the words") String tokenKey = "tokens";
        @Option(names = "--tag-key", description = "JSONL field with the tags") String tagKey = "ner_tags";
        @Option(names = "--strict", description = "seqeval strict IOB2 mode (entities must start with B-)") boolean strict;

        @Override
        public Integer call() throws Exception {
            checkData();
            var sentences = TokenClassificationData.read(data, tokenKey, tagKey);
            try (HeadInputs.Loaded m = HeadInputs.Loaded.open(model, ClassificationHead.Kind.TOKEN_CLASSIFICATION, threads)) {
                List<String> names = m.head().labels();
                List<List<String>> gold = new ArrayList<>();
                List<List<Tagging.Word>> words = new ArrayList<>();
                List<String> texts = new ArrayList<>();
                for (var s : sentences) {
                    List<String> g = new ArrayList<>();
                    for (int w = 0; w < s.tags().size(); w++) {
                        Object t = s.tags().get(w);
                        if (t instanceof Integer id) {
                            if (id < 0 || id >= names.size()) throw new IllegalArgumentException(s.where() + ": word " + (w + 1) + ": tag id " + id + " is outside the model's labels " + names);
                            g.add(names.get(id));
                        } else {
                            g.add((String) t);
                        }
                    }
                    gold.add(g);
                    words.add(Tagging.joined(s.words()));
                    texts.add(String.join(" ", s.words()));
                }
                int max = maxSeqLength > 0 ? maxSeqLength : m.checkpoint().config().nPositions();
                long t0 = System.nanoTime();
                List<Predictions.Tagged> tagged = Predictions.tagWords(m.classifier(), texts, words, m.tokenizer()::encode, max);
                double secs = (System.nanoTime() - t0) / 1e9;
                List<List<String>> goldKept = new ArrayList<>(), pred = new ArrayList<>();
                List<String> goldFlat = new ArrayList<>(), predFlat = new ArrayList<>();
                long dropped = 0;
                for (int i = 0; i < gold.size(); i++) {
                    List<String> g = new ArrayList<>(), p = new ArrayList<>();
                    for (int w = 0; w < gold.get(i).size(); w++) {
                        Tagging.WordTag t = tagged.get(i).tags().get(w);
                        if (t == null) { dropped++; continue; }
                        g.add(gold.get(i).get(w));
                        p.add(t.label());
                    }
                    goldKept.add(g);
                    pred.add(p);
                    goldFlat.addAll(g);
                    predFlat.addAll(p);
                }
                Map<String, Object> metrics = ClassificationReport.entityMetrics(goldKept, pred, strict ? SeqEval.Mode.STRICT_IOB2 : SeqEval.Mode.CONLLEVAL);
                Classification<String> tags = new Classification<>(goldFlat, predFlat);
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("model_dir", model.toString());
                report.put("task", "token-classification");
                report.put("data", data.toString());
                report.put("sentences", sentences.size());
                report.put("words", goldFlat.size());
                report.put("words_truncated", dropped);
                report.put("mode", strict ? "strict_iob2" : "conlleval");
                report.put("metrics", metrics);
                report.put("tag_metrics", ClassificationReport.metrics(tags, s -> s));
                report.put("seconds", secs);
                String table = ClassificationReport.entityTable(metrics) + "\n" + ClassificationReport.confusionTable(tags.labels(), tags.confusionMatrix());
                emit(report, table, tags.labels(), tags.confusionMatrix());
            }
            return 0;
        }
    }
}
