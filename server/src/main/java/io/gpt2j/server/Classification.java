package io.gpt2j.server;

import io.gpt2j.core.model.ClassificationHead;
import io.gpt2j.core.model.Classifier;
import io.gpt2j.core.model.Predictions;
import io.gpt2j.core.model.Tagging;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * POST /score for a model with a classification head, in the shapes of transformers' pipelines: per input a list of
 * {label, score} best first (text-classification, {@code top_k} limits it) or a list of entity spans
 * {entity_group, word, start, end, score} (token-classification, aggregation "first"). Requests are admitted and
 * timed like generation ({@link Service#admitted}); their passes run on the {@link ClassificationQueue}. No model
 * math here.
 */
final class Classification {
    private Classification() {
    }

    /** {@code log} receives the access-log fields of the request ({@code texts}, {@code prompt_tokens}). */
    static Object score(Service service, List<String> inputs, Map<String, Object> params, BiConsumer<String, Object> log) {
        ModelHost host = service.host();
        Classifier c = host.classifier();
        boolean sequence = c.head().kind() == ClassificationHead.Kind.SEQUENCE_CLASSIFICATION;
        for (String k : params.keySet()) {
            if (!(sequence && k.equals("top_k"))) {
                throw new ApiError(400, "unsupported_parameter", "parameter '" + k + "' does not apply to this "
                        + c.head().kind().architecture() + " model" + (sequence ? "; it accepts only top_k" : "; it takes no parameters"));
            }
        }
        int topK = sequence ? topK(params.get("top_k"), c.head().numLabels()) : 0;
        log.accept("texts", inputs.size());
        return service.admitted(ticket -> {
            Predictions.Logits logits = ids -> host.classification().logits(ticket, ids);
            java.util.function.Function<String, int[]> encode = text -> {
                ticket.check(); // a long list's tokenisation counts against the deadline too
                return host.tokenizer().encode(text);
            };
            return sequence ? labels(Predictions.classify(c, inputs, encode, logits), c.head(), topK, log)
                    : entities(Predictions.tag(c, inputs, encode, logits), log);
        });
    }

    private static List<Object> labels(List<Predictions.Prediction> ps, ClassificationHead head, int topK, BiConsumer<String, Object> log) {
        List<Object> out = new ArrayList<>();
        long tokens = 0;
        for (Predictions.Prediction p : ps) {
            out.add(labels(head, p, topK));
            tokens += p.tokens();
        }
        log.accept("prompt_tokens", tokens);
        return out;
    }

    private static List<Object> entities(List<Predictions.Tagged> tagged, BiConsumer<String, Object> log) {
        List<Object> out = new ArrayList<>();
        long tokens = 0;
        for (Predictions.Tagged t : tagged) {
            tokens += t.tokens();
            List<Object> ents = new ArrayList<>();
            for (Tagging.Entity e : t.entities()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("entity_group", e.type());
                m.put("word", e.text());
                m.put("start", e.start());
                m.put("end", e.end());
                m.put("score", e.score());
                ents.add(m);
            }
            out.add(ents);
        }
        log.accept("prompt_tokens", tokens);
        return out;
    }

    private static int topK(Object v, int k) {
        if (v == null) return k;
        if (!(v instanceof Integer i) || i < 1) {
            throw new ApiError(400, "invalid_parameter", "top_k must be a positive integer (or null for all labels), got " + v);
        }
        return Math.min(i, k);
    }

    private static List<Object> labels(ClassificationHead head, Predictions.Prediction p, int topK) {
        Integer[] order = new Integer[head.numLabels()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -p.scores()[i]));
        List<Object> out = new ArrayList<>();
        for (int j = 0; j < topK; j++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("label", head.labels().get(order[j]));
            m.put("score", p.scores()[order[j]]);
            out.add(m);
        }
        return out;
    }
}
