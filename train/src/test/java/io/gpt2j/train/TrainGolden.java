package io.gpt2j.train;

import io.gpt2j.core.io.Json;
import io.gpt2j.core.io.SafeTensors;
import io.gpt2j.core.io.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Test access to testdata/golden (train.json, train_*.safetensors) and error measurement helpers. */
final class TrainGolden {
    private TrainGolden() {
    }

    static Path root() {
        String p = System.getProperty("gpt2j.testdata");
        Path dir = p != null ? Path.of(p) : Path.of("../testdata");
        if (!Files.isDirectory(dir)) throw new IllegalStateException("golden test data not found at " + dir.toAbsolutePath());
        return dir.resolve("golden");
    }

    static Path checkpoint(String model) {
        return root().resolve("checkpoints").resolve(model);
    }

    static SafeTensors tensors(String model, String kind) {
        return SafeTensors.open(root().resolve(model).resolve("train_" + kind + ".safetensors"));
    }

    static Map<String, Object> json(String model) {
        try {
            return Json.parseObject(Files.readString(root().resolve(model).resolve("train.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> section(String model, String kind) {
        return (Map<String, Object>) json(model).get(kind);
    }

    static int[] ints(Tensor t) {
        return t.toIntArray();
    }

    static int[] ints(List<?> list) {
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) list.get(i)).intValue();
        return out;
    }

    static float maxAbs(float[] a) {
        float m = 0;
        for (float x : a) m = Math.max(m, Math.abs(x));
        return m;
    }

    static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("length " + a.length + " vs " + b.length);
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
