package io.gpt2j.generate;

import io.gpt2j.core.io.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Test helper: locates testdata/golden and reads small safetensors files (F32 / I64) fully into memory. */
public final class Golden {
    private Golden() {
    }

    public static Path dir() {
        String p = System.getProperty("gpt2j.testdata");
        Path base = p != null ? Path.of(p) : Path.of("../testdata");
        Path g = base.resolve("golden");
        if (!Files.isDirectory(g)) throw new IllegalStateException("golden data not found at " + g.toAbsolutePath());
        return g;
    }

    public record Entry(String dtype, long[] shape, float[] floats, long[] longs) {
        public int[] ints() {
            int[] out = new int[longs.length];
            for (int i = 0; i < out.length; i++) out[i] = Math.toIntExact(longs[i]);
            return out;
        }
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Entry> readSafetensors(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long n = bb.getLong(0);
        Map<String, Object> header = Json.parseObject(new String(all, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8));
        Map<String, Entry> out = new LinkedHashMap<>();
        int base = 8 + (int) n;
        for (Map.Entry<String, Object> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) continue;
            Map<String, Object> info = (Map<String, Object>) e.getValue();
            String dtype = (String) info.get("dtype");
            List<Object> sh = (List<Object>) info.get("shape");
            long[] shape = sh.stream().mapToLong(o -> ((Number) o).longValue()).toArray();
            List<Object> offs = (List<Object>) info.get("data_offsets");
            int from = base + ((Number) offs.get(0)).intValue(), to = base + ((Number) offs.get(1)).intValue();
            switch (dtype) {
                case "F32" -> {
                    float[] f = new float[(to - from) / 4];
                    for (int i = 0; i < f.length; i++) f[i] = bb.getFloat(from + 4 * i);
                    out.put(e.getKey(), new Entry(dtype, shape, f, null));
                }
                case "I64" -> {
                    long[] l = new long[(to - from) / 8];
                    for (int i = 0; i < l.length; i++) l[i] = bb.getLong(from + 8 * i);
                    out.put(e.getKey(), new Entry(dtype, shape, null, l));
                }
                default -> { /* not needed by these tests */ }
            }
        }
        return out;
    }

    public static List<Map<String, Object>> readJsonl(Path file) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) if (!line.isBlank()) out.add(Json.parseObject(line));
        return out;
    }

    public static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }

    public static int[][] intRows(Object list) {
        return ((List<?>) list).stream().map(Golden::ints).toArray(int[][]::new);
    }
}
