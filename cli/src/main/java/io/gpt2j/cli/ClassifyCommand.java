package io.gpt2j.cli;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.model.ClassificationHead;
import io.gpt2j.core.model.Predictions;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpt2j classify}: texts through a GPT2ForSequenceClassification checkpoint (wiring; math in core/model). */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = {"Classifies texts with a fine-tuned GPT2ForSequenceClassification directory (e.g. the output of",
                "gpt2j finetune text-classification). Texts come from the arguments, --input FILE or stdin, one per line.",
                "Prints 'label score' (the --top-k best) and the text; --json prints {\"text\", \"label\", \"scores\", \"logits\"} per text.",
                "Scores: softmax (single_label_classification), sigmoid (multi_label_classification), the raw value (regression)."})
public final class ClassifyCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "fine-tuned checkpoint directory") Path model;
    @Option(names = "--json", description = "one JSON object per text") boolean json;
    @Option(names = "--top-k", paramLabel = "K", description = "labels shown per text in the plain output (default 1; all with --json)") int topK = 1;
    @Option(names = "--input", paramLabel = "FILE", description = "read texts from FILE, one per line") Path input;
    @Option(names = "--threads", description = "worker threads (default: all available processors)") Integer threads;
    @Parameters(paramLabel = "TEXT", description = "texts to classify") List<String> texts = new ArrayList<>();
    @Spec CommandSpec spec;

    private final InputStream stdin;

    public ClassifyCommand() {
        this(System.in);
    }

    ClassifyCommand(InputStream stdin) {
        this.stdin = stdin;
    }

    @Override
    public Integer call() throws Exception {
        if (topK < 1) throw new IllegalArgumentException("--top-k must be at least 1, got " + topK);
        List<String> in = HeadInputs.texts(texts, input, stdin);
        PrintWriter out = spec.commandLine().getOut();
        try (HeadInputs.Loaded m = HeadInputs.Loaded.open(model, ClassificationHead.Kind.SEQUENCE_CLASSIFICATION, threads)) {
            ClassificationHead head = m.head();
            List<Predictions.Prediction> ps = Predictions.classify(m.classifier(), in, m.tokenizer()::encode);
            for (int i = 0; i < in.size(); i++) {
                Predictions.Prediction p = ps.get(i);
                out.println(json ? Json.write(toJson(in.get(i), p, head)) : plain(in.get(i), p, head, topK));
            }
            out.flush();
        }
        return 0;
    }

    static Map<String, Object> toJson(String text, Predictions.Prediction p, ClassificationHead head) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("text", text);
        o.put("label", p.label());
        if (head.problem() == ClassificationHead.Problem.MULTI_LABEL) o.put("labels", p.labels());
        Map<String, Object> scores = new LinkedHashMap<>();
        for (int k = 0; k < head.numLabels(); k++) scores.put(head.labels().get(k), (double) p.scores()[k]);
        o.put("scores", scores);
        List<Double> logits = new ArrayList<>();
        for (float f : p.logits()) logits.add((double) f);
        o.put("logits", logits);
        if (p.truncated()) o.put("truncated", true);
        return o;
    }

    static String plain(String text, Predictions.Prediction p, ClassificationHead head, int topK) {
        Integer[] order = new Integer[head.numLabels()];
        for (int k = 0; k < order.length; k++) order[k] = k;
        Arrays.sort(order, Comparator.comparingDouble((Integer k) -> -p.scores()[k]));
        StringBuilder sb = new StringBuilder();
        for (int j = 0; j < Math.min(topK, order.length); j++) {
            if (j > 0) sb.append(", ");
            sb.append(head.labels().get(order[j])).append(String.format(Locale.ROOT, " %.4f", p.scores()[order[j]]));
        }
        if (head.problem() == ClassificationHead.Problem.MULTI_LABEL) sb.append(" [").append(String.join(", ", p.labels())).append(']');
        return sb.append('\t').append(text.replace('\t', ' ')).append(p.truncated() ? "\t(truncated)" : "").toString();
    }
}
