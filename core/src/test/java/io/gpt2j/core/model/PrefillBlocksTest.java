package io.gpt2j.core.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.load.RandomCheckpoint;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Prefill attention by query blocks (Attention.prefill4, taken by forward() from 8 new rows per sequence with 64-float
 * heads) against the per-query kernel (one token per forward(), i.e. decode), on a random model with GPT-2's head size
 * (the golden tiny checkpoints have 16- and 24-float heads, so their tests never reach the blocked kernel): a whole
 * prompt, a prompt in two chunks (blocks that start after cached slots), and a left-padded batch row against the same
 * tokens alone. Both cache dtypes.
 *
 * Bound 1e-4 on the logits: the two paths add the same F32 products in different orders (per query a vector dot
 * product with a horizontal sum, per block 64 FMAs per lane; a vector exp against Math.exp, 1 ulp apart), which moves
 * these O(1)-O(10) logits by ~1e-6 (observed below 2e-5); a masking or offset error moves them by O(0.1).
 */
class PrefillBlocksTest {
    static final int V = 512, N = 45, PAD = 10;
    static final double BOUND = 1e-4;

    @TempDir
    static Path dir;
    static LoadedCheckpoint checkpoint;
    static Parallel pool;

    @BeforeAll
    static void writeModel() {
        RandomCheckpoint.write(dir, Gpt2Config.of(V, 128, 128, 2, 2), DType.F32, 11, null);
        checkpoint = HfCheckpoint.load(dir);
        pool = new Parallel(2);
    }

    @AfterAll
    static void close() {
        pool.close();
        checkpoint.close();
    }

    static int[] tokens(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(V);
        return t;
    }

    /** Logits of every position, fed one token per forward() (the per-query attention kernel). */
    static float[] oneByOne(Gpt2 m, int[] toks, KvDtype kv) {
        InferenceState st = m.newState(1, 128, kv);
        float[] all = new float[toks.length * V], one = new float[V];
        for (int t = 0; t < toks.length; t++) {
            m.forward(st, new int[][] {{toks[t]}}, null, null, one, null, false);
            System.arraycopy(one, 0, all, t * V, V);
        }
        return all;
    }

    static void assertClose(float[] want, int wo, float[] got, int go, int n, String what) {
        double max = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, Math.abs(want[wo + i] - got[go + i]));
        assertTrue(max <= BOUND, what + ": logits differ by " + max);
        assertTrue(!Double.isNaN(max), what + ": NaN");
    }

    @ParameterizedTest
    @EnumSource(KvDtype.class)
    void wholeAndChunkedPromptsMatchDecode(KvDtype kv) {
        Gpt2 m = new Gpt2(checkpoint.config(), checkpoint.weights(), pool, kv);
        int[] toks = tokens(N, 1);
        float[] ref = oneByOne(m, toks, kv);

        float[] whole = new float[N * V];
        m.forward(m.newState(1, 128, kv), new int[][] {toks}, null, null, whole, null, true);
        assertClose(ref, 0, whole, 0, N * V, kv + " whole prompt of " + N);

        // 20 then 25 new tokens: the second pass's blocks start at slot 20, after cached slots
        InferenceState st = m.newState(1, 128, kv);
        float[] first = new float[20 * V], second = new float[25 * V];
        m.forward(st, new int[][] {Arrays.copyOf(toks, 20)}, null, null, first, null, true);
        m.forward(st, new int[][] {Arrays.copyOfRange(toks, 20, N)}, null, null, second, null, true);
        assertClose(ref, 0, first, 0, 20 * V, kv + " first chunk");
        assertClose(ref, 20 * V, second, 0, 25 * V, kv + " second chunk");
    }

    @ParameterizedTest
    @EnumSource(KvDtype.class)
    void leftPaddedRowMatchesItsTokensAlone(KvDtype kv) {
        Gpt2 m = new Gpt2(checkpoint.config(), checkpoint.weights(), pool, kv);
        int[] real = tokens(N - PAD, 2), other = tokens(N, 3);
        int[] padded = new int[N];
        System.arraycopy(real, 0, padded, PAD, real.length); // pad slots hold token 0, masked out
        int[][] mask = new int[2][N];
        Arrays.fill(mask[0], PAD, N, 1);
        Arrays.fill(mask[1], 1);
        float[] batch = new float[2 * N * V];
        m.forward(m.newState(2, 128, kv), new int[][] {padded, other}, null, mask, batch, null, true);
        float[] alone = oneByOne(m, real, kv), full = oneByOne(m, other, kv);
        // a query block of row 0 holds pad queries (slots < PAD, which see only padding) next to real ones
        assertClose(alone, 0, batch, PAD * V, (N - PAD) * V, kv + " padded row");
        assertClose(full, 0, batch, N * V, N * V, kv + " unpadded row of the same batch");
    }
}
