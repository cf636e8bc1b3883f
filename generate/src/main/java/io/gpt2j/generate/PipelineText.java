package io.gpt2j.generate;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * transformers 4.38's text-generation pipeline post-processing: how {@code generated_text} is built from a returned
 * sequence, and which request parameters belong to the pipeline rather than to generate(). Pure functions; the
 * caller supplies the tokenizer's decode.
 */
public final class PipelineText {
    private PipelineText() {
    }

    /** The tokenizer's {@code decode(ids, skip_special_tokens, clean_up_tokenization_spaces)}. */
    @FunctionalInterface
    public interface Decoder {
        String decode(int[] ids, boolean skipSpecialTokens, boolean cleanUpTokenizationSpaces);
    }

    /** Parameters the pipeline consumes itself; everything else in "parameters" goes to generate(). */
    public static final Set<String> PIPELINE_PARAMETERS = Set.of("return_full_text", "return_text", "return_tensors",
            "clean_up_tokenization_spaces", "prefix", "handle_long_generation");

    /** The generation parameters of a pipeline request (pipeline-only keys removed). */
    public static Map<String, Object> generationParameters(Map<String, ?> parameters) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (parameters != null) parameters.forEach((k, v) -> {
            if (!PIPELINE_PARAMETERS.contains(k)) out.put(k, v);
        });
        return out;
    }

    /** return_full_text, default true; a non-boolean value is a {@link GenerationConfigException}. */
    public static boolean returnFullText(Map<String, ?> parameters) {
        Object v = parameters == null ? null : parameters.get("return_full_text");
        if (v == null) return true;
        if (v instanceof Boolean b) return b;
        throw new GenerationConfigException("return_full_text", "invalid return_full_text=" + v + ": expected true or false");
    }

    /**
     * generated_text for one sequence: decode it with skip_special_tokens=True and clean-up, drop as many
     * characters (code points, as Python counts) as the decoded prompt has, and prepend the original prompt string
     * when returnFullText.
     *
     * @param promptIds the prompt as fed to the model (left padding allowed: special tokens decode to nothing)
     * @param sequence  the whole returned sequence, prompt included
     */
    public static String generatedText(String promptText, int[] promptIds, int[] sequence, boolean returnFullText,
                                       Decoder decoder) {
        String text = decoder.decode(sequence, true, true);
        String prompt = decoder.decode(promptIds, true, true);
        int cut = prompt.codePointCount(0, prompt.length());
        int total = text.codePointCount(0, text.length());
        String rest = cut >= total ? "" : text.substring(text.offsetByCodePoints(0, cut));
        return returnFullText ? promptText + rest : rest;
    }
}
