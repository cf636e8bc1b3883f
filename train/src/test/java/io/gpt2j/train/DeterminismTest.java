package io.gpt2j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import org.junit.jupiter.api.Test;

/** Training is bit-reproducible: the same step gives identical gradients cold and JIT-warm, on 1 or 2 threads. */
class DeterminismTest {
    @Test
    void gradientsAreBitIdenticalAcrossRepeatsAndThreadCounts() {
        try (LoadedCheckpoint ckpt = HfCheckpoint.load(TrainGolden.checkpoint("tiny-gpt2-v1000"));
             SafeTensors g = TrainGolden.tensors("tiny-gpt2-v1000", "lm");
             Parallel one = new Parallel(1); Parallel two = new Parallel(2)) {
            Batch batch = new Batch(g.get("input_ids").toIntArray(), g.get("attention_mask").toIntArray(),
                    g.get("labels").toIntArray(), null, 3, 12);
            TrainableGpt2 a = TrainableGpt2.fromCheckpoint(ckpt, Task.CAUSAL_LM, 0, 0, two);
            a.zeroGrad();
            a.forward(batch);
            a.backward();
            float[] first = a.grads().clone();
            for (int i = 0; i < 200; i++) { // enough for the JIT to compile the kernels
                a.zeroGrad();
                a.forward(batch);
                a.backward();
            }
            assertArrayEquals(first, a.grads(), "cold vs JIT-warm");
            TrainableGpt2 b = TrainableGpt2.fromCheckpoint(ckpt, Task.CAUSAL_LM, 0, 0, one);
            b.forward(batch);
            b.backward();
            assertArrayEquals(first, b.grads(), "2 threads vs 1");
        }
    }
}
