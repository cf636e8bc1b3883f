package io.gpt2j.core.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpt2j.core.Golden;
import org.junit.jupiter.api.Test;

/**
 * Continuous-batching decode: sequences of different lengths, each in its own cache, stepped together, must give
 * the logits each gets alone (same arithmetic per row; tolerance 1e-5 allows for summation order only).
 */
class DecodeBatchTest {
    final Gpt2 model = TestModels.load("tiny-gpt2-v1000");
    final int V = model.config().vocabSize();

    @Test
    void batchedStepsEqualSeparateRuns() {
        int[][] prompts = {{5, 7, 9, 11, 13}, {42}, {600, 601, 602}};
        InferenceState[] states = new InferenceState[3];
        InferenceState[] alone = new InferenceState[3];
        float[] l1 = new float[V];
        for (int i = 0; i < 3; i++) {
            states[i] = model.newState(1, 32);
            alone[i] = model.newState(1, 32);
            model.forward(states[i], new int[][] {prompts[i]}, null, null, null, null, false);
            model.forward(alone[i], new int[][] {prompts[i]}, null, null, null, null, false);
        }
        float[] batched = new float[3 * V];
        int[] next = {17, 18, 19};
        for (int step = 0; step < 6; step++) {
            model.decodeBatch(states, next, batched);
            for (int i = 0; i < 3; i++) {
                model.forward(alone[i], new int[][] {{next[i]}}, null, null, l1, null, false);
                double d = Golden.maxAbsDiff(batched, i * V, l1, 0, V);
                assertTrue(d < 1e-5, "step " + step + " row " + i + " differs by " + d);
            }
            for (int i = 0; i < 3; i++) next[i] = (next[i] * 31 + step) % V;
        }
    }

    @Test
    void leftPaddedStateKeepsItsPositions() {
        InferenceState padded = model.newState(1, 16), plain = model.newState(1, 16);
        model.forward(padded, new int[][] {{999, 999, 3, 4}}, null, new int[][] {{0, 0, 1, 1}}, null, null, false);
        model.forward(plain, new int[][] {{3, 4}}, null, null, null, null, false);
        float[] a = new float[V], b = new float[V];
        model.decodeBatch(new InferenceState[] {padded}, new int[] {8}, a);
        model.decodeBatch(new InferenceState[] {plain}, new int[] {8}, b);
        assertTrue(Golden.maxAbsDiff(a, 0, b, 0, V) < 1e-5);
    }

    @Test
    void rejectsOverflowAndDuplicates() {
        InferenceState full = model.newState(1, 2);
        model.forward(full, new int[][] {{1, 2}}, null, null, null, null, false);
        float[] out = new float[2 * V];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.decodeBatch(new InferenceState[] {full}, new int[] {3}, out));
        assertTrue(e.getMessage().contains("context overflow"), e.getMessage());
        InferenceState s = model.newState(1, 8);
        e = assertThrows(IllegalArgumentException.class, () -> model.decodeBatch(new InferenceState[] {s, s}, new int[] {3, 4}, out));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
    }
}
