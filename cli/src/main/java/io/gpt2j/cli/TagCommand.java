package io.gpt2j.cli;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.model.ClassificationHead;
import io.gpt2j.core.model.Predictions;
import io.gpt2j.core.model.Tagging;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
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

/** {@code gpt2j tag}: named-entity spans from a GPT2ForTokenClassification checkpoint (wiring; logic in core/model). */
@Command(name = "tag", mixinStandardHelpOptions = true,
        description = {"Tags entities with a fine-tuned GPT2ForTokenClassification directory. Texts are split into words",
                "(letter/digit runs, punctuation apart), each word gets its first sub-token's label, and IOB1/IOB2 tags are",
                "grouped into entities: type, text, [start, end) character offsets, mean word score.",
                "--json prints {\"text\", \"entities\": [{\"entity_group\", \"word\", \"start\", \"end\", \"score\"}], \"words\": [...]} per text."})
public final class TagCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "fine-tuned checkpoint directory") Path model;
    @Option(names = "--json", description = "one JSON object per text") boolean json;
    @Option(names = "--input", paramLabel = "FILE", description = "read texts from FILE, one per line") Path input;
    @Option(names = "--threads", description = "worker threads (default: all available processors)") Integer threads;
    @Parameters(paramLabel = "TEXT", description = "texts to tag") List<String> texts = new ArrayList<>();
    @Spec CommandSpec spec;

    private final InputStream stdin;

    public TagCommand() {
        this(System.in);
    }

    TagCommand(InputStream stdin) {
        this.stdin = stdin;
    }

    @Override
    public Integer call() throws Exception {
        List<String> in = HeadInputs.texts(texts, input, stdin);
        PrintWriter out = spec.commandLine().getOut();
        try (HeadInputs.Loaded m = HeadInputs.Loaded.open(model, ClassificationHead.Kind.TOKEN_CLASSIFICATION, threads)) {
            List<Predictions.Tagged> ts = Predictions.tag(m.classifier(), in, m.tokenizer()::encode);
            for (int i = 0; i < in.size(); i++) {
                Predictions.Tagged t = ts.get(i);
                if (json) {
                    out.println(Json.write(toJson(in.get(i), t)));
                } else {
                    out.println(in.get(i) + (t.truncated() ? "\t(truncated: later words untagged)" : ""));
                    for (Tagging.Entity e : t.entities()) {
                        out.println(String.format(Locale.ROOT, "  %-6s %s\t[%d, %d)\t%.4f", e.type(), e.text(), e.start(), e.end(), e.score()));
                    }
                }
            }
            out.flush();
        }
        return 0;
    }

    static Map<String, Object> toJson(String text, Predictions.Tagged t) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("text", text);
        List<Object> ents = new ArrayList<>();
        for (Tagging.Entity e : t.entities()) ents.add(entityJson(e));
        o.put("entities", ents);
        List<Object> words = new ArrayList<>();
        for (int w = 0; w < t.words().size(); w++) {
            Tagging.Word word = t.words().get(w);
            Tagging.WordTag wt = t.tags().get(w);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("word", word.text());
            m.put("start", word.start());
            m.put("end", word.end());
            m.put("tag", wt == null ? null : wt.label());
            m.put("score", wt == null ? null : (double) wt.score());
            words.add(m);
        }
        o.put("words", words);
        if (t.truncated()) o.put("truncated", true);
        return o;
    }

    /** transformers' token-classification pipeline names (aggregation_strategy="first"). */
    static Map<String, Object> entityJson(Tagging.Entity e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("entity_group", e.type());
        m.put("word", e.text());
        m.put("start", e.start());
        m.put("end", e.end());
        m.put("score", (double) e.score());
        return m;
    }
}
