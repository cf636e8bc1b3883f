package io.gpt2j.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.gpt2j.generate.GeneratedSequence;
import io.gpt2j.generate.GenerationConfig;
import io.gpt2j.generate.GenerationListener;
import io.gpt2j.generate.PipelineText;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The Azure ML scoring contract (POST /score) with the semantics of transformers' text-generation pipeline: each
 * input runs on its own (unbatched, as the pipeline does by default), generated_text = prompt + continuation unless
 * return_full_text is false.
 */
final class ScoringApi {
    private final Service service;

    ScoringApi(Service service) {
        this.service = service;
    }

    /** A parsed request: the inputs, the parameters, and whether the flat (input_data + params) form was used. */
    private record Request(List<String> inputs, Map<String, Object> params, boolean flat) {
    }

    /**
     * The three accepted request shapes and the response each one gets (labels for a classification model);
     * {@code log} receives the request's access-log fields.
     */
    Object score(JsonNode body, BiConsumer<String, Object> log) {
        Request req = parse(body);
        if (service.host().classifier() != null) return Classification.score(service, req.inputs(), req.params(), log);
        List<String> inputs = req.inputs();
        Map<String, Object> params = req.params();
        boolean flat = req.flat();
        checkPipelineParameters(params);
        boolean full = PipelineText.returnFullText(params);
        GenerationConfig config = service.config(PipelineText.generationParameters(params));
        List<int[]> ids = new ArrayList<>();
        for (String s : inputs) ids.add(service.encode(s));
        List<List<GeneratedSequence>> results = service.run(ids, config, (GenerationListener) null);
        long generated = 0;
        for (List<GeneratedSequence> l : results) for (GeneratedSequence g : l) generated += g.tokenIds().length;
        log.accept("completion_tokens", generated);
        List<Object> out = new ArrayList<>();
        for (int p = 0; p < inputs.size(); p++) {
            List<Object> seqs = new ArrayList<>();
            for (GeneratedSequence g : results.get(p)) {
                String text = PipelineText.generatedText(inputs.get(p), ids.get(p), g.fullIds(), full,
                        service.host().tokenizer()::decode);
                if (flat) out.add(text);
                else seqs.add(Map.of("generated_text", text));
            }
            if (!flat) out.add(seqs);
        }
        return out;
    }

    private Request parse(JsonNode body) {
        List<String> inputs;
        Map<String, Object> params;
        boolean flat;
        if (body.has("inputs")) {
            Bodies.onlyKeys(body, Set.of("inputs", "parameters"), "the request");
            JsonNode in = body.get("inputs");
            if (in.isObject()) {
                Bodies.onlyKeys(in, Set.of("input_string"), "inputs");
                in = in.get("input_string");
                inputs = Bodies.prompts(in, "inputs.input_string", service.settings().maxPrompts());
            } else {
                inputs = Bodies.prompts(in, "inputs", service.settings().maxPrompts());
            }
            params = Bodies.map(body.get("parameters"), "parameters");
            flat = false;
        } else if (body.has("input_data")) {
            JsonNode d = body.get("input_data");
            if (d.isObject()) {
                Bodies.onlyKeys(body, Set.of("input_data"), "the request");
                Bodies.onlyKeys(d, Set.of("input_string", "parameters"), "input_data");
                inputs = Bodies.prompts(d.get("input_string"), "input_data.input_string", service.settings().maxPrompts());
                params = Bodies.map(d.get("parameters"), "input_data.parameters");
                flat = false;
            } else {
                Bodies.onlyKeys(body, Set.of("input_data", "params"), "the request");
                inputs = Bodies.prompts(d, "input_data", service.settings().maxPrompts());
                params = Bodies.map(body.get("params"), "params");
                flat = true;
            }
        } else {
            throw ApiError.badRequest("missing_field", "the request needs \"inputs\" (with \"parameters\") or \"input_data\"");
        }
        return new Request(inputs, params, flat);
    }

    /** Pipeline-only parameters other than return_full_text are accepted only where they change nothing. */
    private static void checkPipelineParameters(Map<String, Object> params) {
        for (String k : PipelineText.PIPELINE_PARAMETERS) {
            if (!params.containsKey(k) || k.equals("return_full_text")) continue;
            Object v = params.get(k);
            boolean harmless = (k.equals("return_text") || k.equals("clean_up_tokenization_spaces")) && Boolean.TRUE.equals(v);
            if (!harmless) {
                throw new ApiError(400, "unsupported_parameter", "pipeline parameter '" + k + "' = " + v
                        + " is not supported by this server");
            }
        }
    }
}
