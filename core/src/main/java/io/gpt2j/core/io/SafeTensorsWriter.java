package io.gpt2j.core.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a .safetensors file: collect tensors (shapes and sources only), then {@link #write(Path)} streams them
 * in chunks, converting float data to F32/F16/BF16, into a temp file that is atomically renamed into place.
 * It never holds a whole file in memory; sources are read once, in the order they were added.
 */
public final class SafeTensorsWriter {
    /** Produces elements {@code [offset, offset + n)} of a float tensor into {@code buf[0..n)}. */
    @FunctionalInterface
    public interface FloatSource {
        void fill(long offset, float[] buf, int n);
    }

    /** Produces a tensor's encoded bytes when the writer reaches it, in {@code arena} (shared), closed right after. */
    @FunctionalInterface
    public interface RawSource {
        MemorySegment bytes(Arena arena);
    }

    private static final int CHUNK = 1 << 18; // elements per conversion chunk (1 MiB of F32)
    private static final ValueLayout.OfFloat F32_LE = Tensor.F32_LE;
    private static final ValueLayout.OfShort I16_LE = Tensor.I16_LE;

    private record Item(String name, DType dtype, long[] shape, long numel, FloatSource floats, MemorySegment raw, RawSource lazy) {
        long bytes() {
            return raw != null ? raw.byteSize() : dtype.byteSize(numel);
        }
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Item> items = new ArrayList<>();
    private final Map<String, Item> byName = new LinkedHashMap<>();

    public SafeTensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** A float tensor stored as {@code dtype} (F32, F16 or BF16); values are converted when written. */
    public SafeTensorsWriter addFloats(String name, DType dtype, long[] shape, float[] values) {
        long n = numel(shape);
        if (values.length != n) {
            throw new IllegalArgumentException("tensor '" + name + "': " + values.length + " values for shape " + java.util.Arrays.toString(shape));
        }
        return addGenerated(name, dtype, shape, (off, buf, k) -> System.arraycopy(values, (int) off, buf, 0, k));
    }

    /** A float tensor whose values come from little-endian F32 bytes in {@code f32}, stored as {@code dtype}. */
    public SafeTensorsWriter addF32Segment(String name, DType dtype, long[] shape, MemorySegment f32) {
        long n = numel(shape);
        if (f32.byteSize() != n * 4) {
            throw new IllegalArgumentException("tensor '" + name + "': " + f32.byteSize() + " bytes of F32 for shape " + java.util.Arrays.toString(shape));
        }
        return addGenerated(name, dtype, shape, (off, buf, k) -> MemorySegment.copy(f32, F32_LE, off * 4, buf, 0, k));
    }

    /** A float tensor produced chunk by chunk by {@code source} (random init, conversion from another tensor). */
    public SafeTensorsWriter addGenerated(String name, DType dtype, long[] shape, FloatSource source) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("tensor '" + name + "': float data can be written as F32, F16 or BF16, not " + dtype);
        }
        return add(new Item(name, dtype, shape.clone(), numel(shape), source, null, null));
    }

    /** Bytes already encoded in {@code dtype}'s little-endian layout, copied as they are (any dtype). */
    public SafeTensorsWriter addRaw(String name, DType dtype, long[] shape, MemorySegment bytes) {
        long n = numel(shape);
        if (bytes.byteSize() != dtype.byteSize(n)) {
            throw new IllegalArgumentException("tensor '" + name + "': " + bytes.byteSize() + " bytes but shape "
                    + java.util.Arrays.toString(shape) + " of " + dtype + " needs " + dtype.byteSize(n));
        }
        return add(new Item(name, dtype, shape.clone(), n, null, bytes, null));
    }

    /**
     * A tensor in {@code dtype} (any, Q8_0 included) whose bytes {@code source} produces only when the writer gets to
     * it (e.g. converted on the fly), so that at most one such tensor is in memory at a time.
     */
    public SafeTensorsWriter addLazy(String name, DType dtype, long[] shape, RawSource source) {
        long n = numel(shape);
        try {
            dtype.byteSize(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + java.util.Arrays.toString(shape) + ": " + e.getMessage(), e);
        }
        return add(new Item(name, dtype, shape.clone(), n, null, null, source));
    }

    /** Copies {@code t} under its own name and dtype. */
    public SafeTensorsWriter addTensor(Tensor t) {
        return addRaw(t.name(), t.dtype(), t.shape(), t.data());
    }

    /** Copies {@code t} under {@code name}, converted to {@code dtype} (F32, F16 or BF16). */
    public SafeTensorsWriter addTensor(String name, Tensor t, DType dtype) {
        if (t.dtype() == dtype) return addRaw(name, dtype, t.shape(), t.data());
        return addGenerated(name, dtype, t.shape(), (off, buf, k) -> {
            for (int i = 0; i < k; i++) buf[i] = t.getFloat(off + i);
        });
    }

    private SafeTensorsWriter add(Item item) {
        if (item.name.equals("__metadata__") || byName.containsKey(item.name)) {
            throw new IllegalArgumentException("tensor name '" + item.name + "' is reserved or already added");
        }
        items.add(item);
        byName.put(item.name, item);
        return this;
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + java.util.Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** The JSON header, space-padded so that the data section starts at a multiple of 8 bytes. */
    byte[] header() {
        Map<String, Object> h = new LinkedHashMap<>();
        if (!metadata.isEmpty()) h.put("__metadata__", metadata);
        long off = 0;
        for (Item it : items) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("dtype", it.dtype.name());
            e.put("shape", it.shape);
            e.put("data_offsets", new long[]{off, off + it.bytes()});
            h.put(it.name, e);
            off += it.bytes();
        }
        byte[] json = Json.write(h).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) out[i] = ' ';
        return out;
    }

    /** Writes everything to {@code file} via a temp file in the same directory and an atomic rename. */
    public void write(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            // CREATE_NEW rather than createTempFile: the latter makes the file owner-only, ignoring the umask
            tmp = dir.resolve("." + file.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                byte[] header = header();
                ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN);
                buf.putLong(header.length).flip();
                writeFully(ch, buf);
                writeFully(ch, ByteBuffer.wrap(header));
                float[] floats = new float[CHUNK];
                for (Item it : items) writeItem(ch, it, buf, floats);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot write: " + e, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original failure matters more than a leftover temp file
                }
            }
        }
    }

    private static void writeItem(FileChannel ch, Item it, ByteBuffer buf, float[] floats) throws IOException {
        MemorySegment seg = MemorySegment.ofBuffer(buf.clear());
        if (it.raw != null) {
            writeRaw(ch, it.raw, buf, seg);
            return;
        }
        if (it.lazy != null) {
            try (Arena arena = Arena.ofShared()) {
                MemorySegment bytes = it.lazy.bytes(arena);
                if (bytes.byteSize() != it.bytes()) {
                    throw new IllegalStateException("tensor '" + it.name + "': produced " + bytes.byteSize() + " bytes, the header says " + it.bytes());
                }
                writeRaw(ch, bytes, buf, seg);
            }
            return;
        }
        for (long off = 0; off < it.numel; off += CHUNK) {
            int k = (int) Math.min(CHUNK, it.numel - off);
            it.floats.fill(off, floats, k);
            int bytes = encode(it.dtype, floats, k, seg);
            buf.clear().limit(bytes);
            writeFully(ch, buf);
        }
    }

    private static void writeRaw(FileChannel ch, MemorySegment raw, ByteBuffer buf, MemorySegment seg) throws IOException {
        long size = raw.byteSize();
        for (long off = 0; off < size; off += buf.capacity()) {
            int k = (int) Math.min(buf.capacity(), size - off);
            MemorySegment.copy(raw, off, seg, 0, k);
            buf.clear().limit(k);
            writeFully(ch, buf);
        }
    }

    private static int encode(DType dtype, float[] src, int n, MemorySegment dst) {
        switch (dtype) {
            case F32 -> {
                MemorySegment.copy(src, 0, dst, F32_LE, 0, n);
                return n * 4;
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst.set(I16_LE, 2L * i, Float.floatToFloat16(src[i]));
                return n * 2;
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) dst.set(I16_LE, 2L * i, toBf16(src[i]));
                return n * 2;
            }
            default -> throw new IllegalStateException("not a float dtype: " + dtype);
        }
    }

    /** float → bfloat16 bits, rounding to nearest even; NaN stays a (quiet) NaN. */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x0040);
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** bfloat16 bits → float (exact). */
    public static float fromBf16(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }
}
