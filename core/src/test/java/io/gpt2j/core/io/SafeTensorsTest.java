package io.gpt2j.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path tmp;

    static Path golden(String rel) {
        return Path.of(System.getProperty("gpt2j.testdata"), "golden", rel);
    }

    /** A file with the given header text (length prefix computed) followed by {@code dataBytes} zero bytes. */
    static Path raw(Path dir, String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    static CheckpointException failsToOpen(Path p) {
        return assertThrows(CheckpointException.class, () -> SafeTensors.open(p).close());
    }

    static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should mention '" + part + "': " + e.getMessage());
        }
        assertTrue(!e.getMessage().contains("\n"), "one-line message expected: " + e.getMessage());
    }

    @Test
    void readsGoldenF16CheckpointWithoutCopying() {
        try (SafeTensors st = SafeTensors.open(golden("checkpoints/tiny-gpt2/model.safetensors"))) {
            assertEquals(28, st.tensors().size());
            assertEquals("pt", st.metadata().get("format"));
            Tensor wte = st.get("transformer.wte.weight");
            assertEquals(DType.F16, wte.dtype());
            assertArrayEquals(new long[]{50257, 64}, wte.shape());
            assertEquals(50257L * 64 * 2, wte.data().byteSize());
            assertTrue(wte.data().isMapped() || wte.data().isNative(), "tensor should be a view of the mapping");
            assertTrue(wte.data().isReadOnly());
            assertEquals(-0.016754150390625f, wte.getFloat(0));
            assertEquals(-0.074462890625f, wte.getFloat(1));
            assertEquals(-0.153564453125f, wte.getFloat(50257L * 64 - 1));
            assertEquals(1.099609375f, st.get("transformer.ln_f.weight").getFloat(0));
        }
    }

    @Test
    void roundTripsF32F16Bf16() {
        float[] values = {0f, -0f, 1f, -2.5f, 3.14159265f, 1e-8f, 65504f, 1e5f, Float.MIN_NORMAL, 0.1f, -0.333333f, 7f};
        SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt").metadata("producer", "test");
        for (DType d : new DType[]{DType.F32, DType.F16, DType.BF16}) {
            w.addFloats("x." + d, d, new long[]{3, 4}, values);
        }
        w.addRaw("ids", DType.I64, new long[]{2}, java.lang.foreign.MemorySegment.ofArray(new long[]{7, -1}));
        w.addFloats("empty", DType.F32, new long[]{0, 5}, new float[0]);
        Path p = tmp.resolve("rt.safetensors");
        w.write(p);
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals("test", st.metadata().get("producer"));
            assertEquals(0, st.dataStart() % 8, "data section must start 8-byte aligned");
            for (int i = 0; i < values.length; i++) {
                assertEquals(values[i], st.get("x.F32").getFloat(i));
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(values[i])), st.get("x.F16").getFloat(i));
                assertEquals(SafeTensorsWriter.fromBf16(SafeTensorsWriter.toBf16(values[i])), st.get("x.BF16").getFloat(i));
            }
            assertEquals(Float.POSITIVE_INFINITY, st.get("x.F16").getFloat(7), "1e5 overflows F16");
            assertArrayEquals(new long[]{7, -1}, st.get("ids").toLongArray());
            assertEquals(0, st.get("empty").numel());
            assertArrayEquals(new long[]{3, 4}, st.get("x.BF16").shape());
        }
        try (var files = listTmp()) {
            assertEquals(1, files.count());
        }
    }

    private java.util.stream.Stream<Path> listTmp() {
        try {
            return Files.list(tmp);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        // 1 + 2^-8 is exactly halfway between bf16 1.0 and 1 + 2^-7: ties go to the even mantissa (1.0)
        assertEquals(1.0f, SafeTensorsWriter.fromBf16(SafeTensorsWriter.toBf16(1f + 0x1p-8f)));
        // 1 + 3*2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): rounds up to the even one
        assertEquals(1f + 0x1p-6f, SafeTensorsWriter.fromBf16(SafeTensorsWriter.toBf16(1f + 3 * 0x1p-8f)));
        // just above halfway rounds up; just below rounds down (truncation would give 1.0 for both)
        assertEquals(1f + 0x1p-7f, SafeTensorsWriter.fromBf16(SafeTensorsWriter.toBf16(Math.nextUp(1f + 0x1p-8f))));
        assertEquals(1f, SafeTensorsWriter.fromBf16(SafeTensorsWriter.toBf16(Math.nextDown(1f + 0x1p-8f))));
        assertEquals(-1f - 0x1p-6f, SafeTensorsWriter.fromBf16(SafeTensorsWriter.toBf16(-1f - 3 * 0x1p-8f)));
        assertEquals(Float.POSITIVE_INFINITY, SafeTensorsWriter.fromBf16(SafeTensorsWriter.toBf16(Float.MAX_VALUE)));
        assertTrue(Float.isNaN(SafeTensorsWriter.fromBf16(SafeTensorsWriter.toBf16(Float.intBitsToFloat(0x7f800001)))),
                "a NaN whose payload sits in the low bits must stay NaN");
        assertEquals((short) 0x3f80, SafeTensorsWriter.toBf16(1f));
    }

    @Test
    void truncatedFileIsReported() throws IOException {
        Path src = golden("checkpoints/tiny-gpt2-v1000/model.safetensors");
        byte[] all = Files.readAllBytes(src);
        Path p = tmp.resolve("cut.safetensors");
        Files.write(p, Arrays.copyOf(all, all.length / 2));
        CheckpointException e = failsToOpen(p);
        assertMentions(e, p.toString(), "tensor '", "run past the end of the data section", "truncated");

        Path tiny = tmp.resolve("tiny.safetensors");
        Files.write(tiny, new byte[]{1, 2, 3});
        assertMentions(failsToOpen(tiny), tiny.toString(), "3 bytes", "too short");
    }

    @Test
    void headerLengthPastEndOfFile() throws IOException {
        Path p = tmp.resolve("hdr.safetensors");
        ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
        Files.write(p, b.array());
        assertMentions(failsToOpen(p), p.toString(), "header length 1000 runs past the end of the file (40 bytes");

        Path absurd = tmp.resolve("absurd.safetensors");
        Files.write(absurd, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array());
        assertMentions(failsToOpen(absurd), absurd.toString(), "header length", "absurd");
    }

    @Test
    void malformedJsonHeader() throws IOException {
        Path p = raw(tmp, "bad.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]", 4);
        assertMentions(failsToOpen(p), p.toString(), "malformed JSON header");
    }

    @Test
    void overlappingTensors() throws IOException {
        Path p = raw(tmp, "overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertMentions(failsToOpen(p), p.toString(), "tensor 'b'", "overlap tensor 'a'");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        Path p = raw(tmp, "range.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8);
        assertMentions(failsToOpen(p), p.toString(), "tensor 'a'", "data_offsets [0, 16]", "past the end");

        Path back = raw(tmp, "back.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8);
        assertMentions(failsToOpen(back), back.toString(), "tensor 'a'", "end before they begin");

        Path size = raw(tmp, "size.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        assertMentions(failsToOpen(size), size.toString(), "tensor 'a'", "holds 8 bytes", "needs 12");

        Path neg = raw(tmp, "neg.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8);
        assertMentions(failsToOpen(neg), neg.toString(), "tensor 'a'", "shape [-2] must not be negative");

        Path missing = raw(tmp, "missing.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8);
        assertMentions(failsToOpen(missing), missing.toString(), "tensor 'a'", "no 'data_offsets'");
    }

    @Test
    void q8TensorOfTheWrongByteLengthOrShapeIsNamed() throws IOException {
        String layout = "\"__metadata__\":{\"gpt2j.q8_0_layout\":\"conv1d-blocks-along-last-axis\"},";
        Path shortData = raw(tmp, "q8-short.safetensors", "{" + layout + "\"h.0.mlp.c_fc.weight\":{\"dtype\":\"Q8_0\",\"shape\":[2,32],\"data_offsets\":[0,64]}}", 64);
        assertMentions(failsToOpen(shortData), shortData.toString(), "tensor 'h.0.mlp.c_fc.weight'", "holds 64 bytes", "of Q8_0 needs 68");
        Path oddShape = raw(tmp, "q8-shape.safetensors", "{" + layout + "\"wte\":{\"dtype\":\"Q8_0\",\"shape\":[3,5],\"data_offsets\":[0,34]}}", 34);
        assertMentions(failsToOpen(oddShape), oddShape.toString(), "tensor 'wte'", "does not fit dtype Q8_0", "multiple of 32");
        Path fine = raw(tmp, "q8-ok.safetensors", "{" + layout + "\"wte\":{\"dtype\":\"Q8_0\",\"shape\":[2,32],\"data_offsets\":[0,68]}}", 68);
        try (SafeTensors st = SafeTensors.open(fine)) {
            assertEquals(DType.Q8_0, st.get("wte").dtype());
        }
    }

    @Test
    void lazyTensorsAreProducedWhenWrittenAndChecked() {
        SafeTensorsWriter w = new SafeTensorsWriter();
        int[] calls = {0};
        w.addLazy("a", DType.F32, new long[] {2}, arena -> {
            calls[0]++;
            return arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT, 1.5f, -2f);
        });
        assertEquals(0, calls[0], "nothing is produced before write");
        w.write(tmp.resolve("lazy.safetensors"));
        assertEquals(1, calls[0]);
        try (SafeTensors st = SafeTensors.open(tmp.resolve("lazy.safetensors"))) {
            assertEquals(-2f, st.get("a").getFloat(1));
        }
        SafeTensorsWriter bad = new SafeTensorsWriter().addLazy("b", DType.F16, new long[] {3}, arena -> arena.allocate(4));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> bad.write(tmp.resolve("bad.safetensors")));
        assertMentions(e, "tensor 'b'", "produced 4 bytes", "says 6");
        assertTrue(!Files.exists(tmp.resolve("bad.safetensors")), "a failed write leaves no file");
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                () -> new SafeTensorsWriter().addLazy("c", DType.Q8_0, new long[] {3, 5}, arena -> arena.allocate(34)));
        assertMentions(odd, "tensor 'c'", "[3, 5]", "multiple of 32");
    }

    @Test
    void unknownDtype() throws IOException {
        Path p = raw(tmp, "dtype.safetensors", "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 8);
        assertMentions(failsToOpen(p), p.toString(), "tensor 'w'", "unknown dtype 'F8_E4M3'");
    }
}
