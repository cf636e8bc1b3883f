package io.gpt2j.generate;

import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.Gpt2;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Test helper: the golden tiny checkpoints loaded once through the real loader. */
public final class GoldenModels {
    private GoldenModels() {
    }

    static final Parallel POOL = new Parallel(2);
    private static final Map<String, LoadedCheckpoint> CACHE = new ConcurrentHashMap<>();

    public static LoadedCheckpoint checkpoint(String name) {
        return CACHE.computeIfAbsent(name, n -> HfCheckpoint.load(Golden.dir().resolve("checkpoints").resolve(n)));
    }

    public static Gpt2Lm lm(String name) {
        LoadedCheckpoint c = checkpoint(name);
        return new Gpt2Lm(new Gpt2(c.config(), c.weights(), POOL));
    }
}
