package io.gpt2j.core;

import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.Json;
import io.gpt2j.core.io.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test access to the golden reference data under testdata/ (a committed copy of the golden set), with a minimal,
 * independent safetensors reader so golden files are not read through the code under test.
 */
public final class Golden {
    private Golden() {
    }

    public static Path root() {
        String p = System.getProperty("gpt2j.testdata");
        Path dir = p != null ? Path.of(p) : Path.of("../testdata");
        if (!Files.isDirectory(dir)) throw new IllegalStateException("golden test data not found at " + dir.toAbsolutePath());
        return dir.resolve("golden");
    }

    public static Path path(String first, String... more) {
        return root().resolve(Path.of(first, more));
    }

    public static String text(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Map<String, Object> json(Path p) {
        return Json.parseObject(text(p));
    }

    /** Reads every tensor of a safetensors file (test helper; not the production reader). */
    @SuppressWarnings("unchecked")
    public static Map<String, Tensor> safetensors(Path file) {
        try (FileChannel ch = FileChannel.open(file)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(lenBuf, 0);
            long hlen = lenBuf.getLong(0);
            byte[] hb = new byte[(int) hlen];
            ch.read(ByteBuffer.wrap(hb), 8);
            Map<String, Object> header = Json.parseObject(new String(hb, java.nio.charset.StandardCharsets.UTF_8));
            Map<String, Tensor> out = new LinkedHashMap<>();
            long base = 8 + hlen;
            for (var e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) continue;
                Map<String, Object> m = (Map<String, Object>) e.getValue();
                List<Object> shape = (List<Object>) m.get("shape");
                List<Object> offs = (List<Object>) m.get("data_offsets");
                long[] sh = shape.stream().mapToLong(o -> ((Number) o).longValue()).toArray();
                long a = ((Number) offs.get(0)).longValue(), b = ((Number) offs.get(1)).longValue();
                out.put(e.getKey(), new Tensor(e.getKey(), DType.fromName((String) m.get("dtype")), sh, seg.asSlice(base + a, b - a)));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Max |a-b| over n elements. */
    public static double maxAbsDiff(float[] a, int ao, float[] b, int bo, int n) {
        double m = 0;
        for (int i = 0; i < n; i++) m = Math.max(m, Math.abs((double) a[ao + i] - b[bo + i]));
        return m;
    }
}
