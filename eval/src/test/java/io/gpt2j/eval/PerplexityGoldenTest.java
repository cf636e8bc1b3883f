package io.gpt2j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every window's NLL and the final perplexities against transformers' sliding-window recipe (perplexity.json),
 * on both tiny golden checkpoints, for the sliding (stride = n_positions/2) and non-overlapping variants.
 */
class PerplexityGoldenTest {
    /** fp32 forward vs torch, per-window mean NLL and the ppl derived from it: relative. */
    static final double REL_TOL = 1e-5;

    static Path golden() {
        String p = System.getProperty("gpt2j.testdata");
        return (p != null ? Path.of(p) : Path.of("../testdata")).resolve("golden");
    }

    @ParameterizedTest
    @CsvSource({"tiny-gpt2,sliding,1", "tiny-gpt2,sliding,4", "tiny-gpt2,non_overlapping,3",
            "tiny-gpt2-v1000,sliding,5", "tiny-gpt2-v1000,non_overlapping,2"})
    @SuppressWarnings("unchecked")
    void matchesTransformersRecipe(String model, String variant, int batch) throws IOException {
        Map<String, Object> g = Json.parseObject(Files.readString(golden().resolve(model).resolve("perplexity.json")));
        Map<String, Object> v = (Map<String, Object>) g.get(variant);
        String text = Files.readString(golden().resolve((String) g.get("text_file")));
        Path dir = golden().resolve("checkpoints").resolve(model);
        Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(dir);
        int[] ids = tok.encode(text);
        List<Object> gids = (List<Object>) g.get("input_ids");
        int[] expectIds = gids.stream().mapToInt(o -> ((Number) o).intValue()).toArray();
        assertArrayEquals(expectIds, ids, "tokenization of the perplexity text");

        int maxLength = ((Number) v.get("max_length")).intValue(), stride = ((Number) v.get("stride")).intValue();
        try (LoadedCheckpoint ck = HfCheckpoint.load(dir); Parallel pool = new Parallel(1)) {
            Gpt2 gpt = new Gpt2(ck.config(), ck.weights(), pool);
            Perplexity.Result r = new Perplexity(new Scorer(gpt), batch).run(ids, maxLength, stride, Progress.NONE);
            List<Object> ws = (List<Object>) v.get("windows");
            assertEquals(ws.size(), r.windows().size(), "number of windows");
            double maxRel = 0;
            for (int i = 0; i < ws.size(); i++) {
                Map<String, Object> w = (Map<String, Object>) ws.get(i);
                Perplexity.WindowNll got = r.windows().get(i);
                assertEquals(((Number) w.get("begin")).intValue(), got.begin(), "window " + i + " begin");
                assertEquals(((Number) w.get("end")).intValue(), got.end(), "window " + i + " end");
                assertEquals(((Number) w.get("trg_len")).intValue(), got.trgLen(), "window " + i + " trg_len");
                assertEquals(((Number) w.get("n_scored")).intValue(), got.nScored(), "window " + i + " n_scored");
                double e = ((Number) w.get("nll")).doubleValue();
                maxRel = Math.max(maxRel, Math.abs(got.nll() - e) / Math.abs(e));
            }
            double relMean = rel(r.meanNll(), v.get("mean_nll"));
            double relPpl = rel(r.ppl(), v.get("ppl"));
            double relTw = rel(r.tokenWeightedMeanNll(), v.get("token_weighted_mean_nll"));
            double relTwPpl = rel(r.tokenWeightedPpl(), v.get("token_weighted_ppl"));
            System.out.printf("%s %s batch=%d: %d windows, max rel err window nll %.2e, mean_nll %.2e, ppl %.2e, "
                            + "token-weighted nll %.2e, ppl %.2e (ppl %.3f, %.1f tokens/s)%n", model, variant, batch, ws.size(),
                    maxRel, relMean, relPpl, relTw, relTwPpl, r.ppl(), r.tokensPerSecond());
            assertTrue(maxRel < REL_TOL, "max relative error of a window nll " + maxRel);
            assertTrue(relMean < REL_TOL, "mean_nll relative error " + relMean);
            // ppl = exp(mean_nll): its relative error is mean_nll's absolute error (~11 * 1e-5 here)
            assertTrue(relPpl < REL_TOL * 20, "ppl relative error " + relPpl);
            assertTrue(relTw < REL_TOL, "token-weighted mean nll relative error " + relTw);
            assertTrue(relTwPpl < REL_TOL * 20, "token-weighted ppl relative error " + relTwPpl);
        }
    }

    private static double rel(double got, Object expected) {
        double e = ((Number) expected).doubleValue();
        return Math.abs(got - e) / Math.abs(e);
    }
}
