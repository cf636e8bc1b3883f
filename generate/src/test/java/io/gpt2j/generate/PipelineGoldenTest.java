package io.gpt2j.generate;

import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * tiny-gpt2/pipeline.jsonl, with the real tokenizer: generated_text (and the token ids) for the unbatched and left-padded cases. The
 * right-padded case is skipped on purpose: right padding is unsupported (transformers itself computes garbage there).
 */
class PipelineGoldenTest {
    @SuppressWarnings("unchecked")
    @TestFactory
    Stream<DynamicTest> pipelineCases() throws Exception {
        List<Map<String, Object>> cases = Golden.readJsonl(Golden.dir().resolve("tiny-gpt2/pipeline.jsonl"));
        assertEquals(6, cases.size());
        Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(Golden.dir().resolve("checkpoints/tiny-gpt2"));
        PipelineText.Decoder dec = tok::decode;
        Generator gen = new Generator(GoldenModels.lm("tiny-gpt2"), tok::decodeBytes);
        Map<String, Object> defaults = GoldenModels.checkpoint("tiny-gpt2").generationConfig();
        List<DynamicTest> tests = new ArrayList<>();
        for (Map<String, Object> c : cases) {
            String name = (String) c.get("case");
            if (name.contains("right_pad")) continue;
            tests.add(DynamicTest.dynamicTest(name, () -> {
                Map<String, Object> req = (Map<String, Object>) c.get("request");
                List<String> inputs = (List<String>) req.get("inputs");
                Map<String, Object> params = (Map<String, Object>) req.get("parameters");
                GenerationConfig cfg = GenerationConfig.fromMap(defaults, PipelineText.generationParameters(params));
                boolean full = PipelineText.returnFullText(params);
                int[][] promptIds = Golden.intRows(c.get("prompt_ids"));
                for (int b = 0; b < 2; b++) assertArrayEquals(promptIds[b], tok.encode(inputs.get(b)), name + " prompt ids");
                boolean batched = name.contains("batch2");
                List<Object> expectedOut = (List<Object>) c.get("output");
                List<Object> expectedIds = (List<Object>) c.get("generated_token_ids");
                List<int[][]> perPrompt = new ArrayList<>();
                List<int[]> modelPrompt = new ArrayList<>();
                if (batched) {
                    int P = Math.max(promptIds[0].length, promptIds[1].length);
                    int[][] ids = new int[2][P], mask = new int[2][P];
                    for (int b = 0; b < 2; b++) {
                        int off = P - promptIds[b].length;
                        java.util.Arrays.fill(ids[b], 0, off, 50256);
                        System.arraycopy(promptIds[b], 0, ids[b], off, promptIds[b].length);
                        java.util.Arrays.fill(mask[b], off, P, 1);
                        modelPrompt.add(ids[b]);
                    }
                    int[][] seqs = gen.generateRaw(ids, mask, cfg).sequences();
                    int n = cfg.numReturnSequences();
                    for (int b = 0; b < 2; b++) perPrompt.add(java.util.Arrays.copyOfRange(seqs, b * n, (b + 1) * n));
                } else {
                    for (int b = 0; b < 2; b++) {
                        perPrompt.add(gen.generateRaw(new int[][]{promptIds[b]}, null, cfg).sequences());
                        modelPrompt.add(promptIds[b]);
                    }
                }
                for (int b = 0; b < 2; b++) {
                    List<Object> outs = (List<Object>) expectedOut.get(b);
                    int[][] ids = Golden.intRows(expectedIds.get(b));
                    assertEquals(outs.size(), perPrompt.get(b).length);
                    for (int j = 0; j < outs.size(); j++) {
                        assertArrayEquals(ids[j], perPrompt.get(b)[j], name + " prompt " + b + " seq " + j + " ids");
                        String expected = (String) ((Map<String, Object>) outs.get(j)).get("generated_text");
                        String actual = PipelineText.generatedText(inputs.get(b), modelPrompt.get(b), perPrompt.get(b)[j], full, dec);
                        assertEquals(expected, actual, name + " prompt " + b + " seq " + j);
                    }
                }
            }));
        }
        return tests.stream();
    }
}
