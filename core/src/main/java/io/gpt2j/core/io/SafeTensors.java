package io.gpt2j.core.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One memory-mapped .safetensors file: validates the header and exposes each tensor as a zero-copy slice of the
 * mapping. It owns no model knowledge (names, shapes against a config): that lives in {@code load/}.
 * The mapping lives as long as its {@link Arena}; {@link #open(Path)} makes a shared one that {@link #close()} frees.
 */
public final class SafeTensors implements AutoCloseable {
    /** Header length above which a file is rejected (the reference implementation's limit is 100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** {@code __metadata__} key that names the writer's file format version ({@link #FORMAT_VERSION}). */
    public static final String FORMAT_KEY = "gpt2j.format";
    public static final String FORMAT_VERSION = "1";
    /**
     * {@code __metadata__} key naming how Q8_0 blocks run through a tensor; a file holding a Q8_0 tensor must carry
     * it with the value {@link #Q8_0_LAYOUT}, so that a file written under another layout is never misread.
     */
    public static final String Q8_0_LAYOUT_KEY = "gpt2j.q8_0_layout";
    /** Today's layout: blocks of 32 follow the tensor's flat element order, i.e. along the last (contiguous) axis. */
    public static final String Q8_0_LAYOUT = "conv1d-blocks-along-last-axis";

    private final Path path;
    private final Arena arena;
    private final boolean ownsArena;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;
    private final long dataStart;

    private SafeTensors(Path path, Arena arena, boolean ownsArena, Map<String, Tensor> tensors,
                        Map<String, String> metadata, long dataStart) {
        this.path = path;
        this.arena = arena;
        this.ownsArena = ownsArena;
        this.tensors = tensors;
        this.metadata = metadata;
        this.dataStart = dataStart;
    }

    /** Maps {@code file} into a new shared arena (usable from any thread) that {@link #close()} releases. */
    public static SafeTensors open(Path file) {
        Arena arena = Arena.ofShared();
        try {
            return open(file, arena, true);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Maps {@code file} into the caller's arena; {@link #close()} then leaves the arena alone. */
    public static SafeTensors open(Path file, Arena arena) {
        return open(file, arena, false);
    }

    private static SafeTensors open(Path file, Arena arena, boolean owns) {
        long size;
        MemorySegment all;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            size = ch.size();
            if (size < 8) throw fail(file, "file is " + size + " bytes, too short for the 8-byte header length (truncated?)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (lenBuf.hasRemaining() && ch.read(lenBuf, lenBuf.position()) >= 0) {
                // positional reads until the 8 bytes are in
            }
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
                throw fail(file, "header length " + Long.toUnsignedString(headerLen) + " is absurd (limit "
                        + MAX_HEADER_BYTES + " bytes); not a safetensors file?");
            }
            if (8 + headerLen > size) {
                throw fail(file, "header length " + headerLen + " runs past the end of the file (" + size
                        + " bytes; truncated or not a safetensors file?)");
            }
            all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            // Same pages, same lifetime (the arena), but viewed as a plain native segment: C2 then reliably
            // intrinsifies Vector API loads from it, which it does not always do for mapped-segment slices
            // (measured: 490 MB of boxed vectors per matmul call in some runs). Still read-only.
            all = MemorySegment.ofAddress(all.address()).reinterpret(size, arena, null).asReadOnly();
            String header = decodeHeader(file, all.asSlice(8, headerLen));
            return parse(file, arena, owns, all, header, 8 + headerLen);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e, e);
        }
    }

    private static String decodeHeader(Path file, MemorySegment bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes.asByteBuffer()).toString();
        } catch (CharacterCodingException e) {
            throw fail(file, "malformed JSON header: not valid UTF-8");
        }
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    private static SafeTensors parse(Path file, Arena arena, boolean owns, MemorySegment all, String header, long dataStart) {
        Map<String, Object> json;
        try {
            json = Json.parseObject(header);
        } catch (Json.JsonException e) {
            throw fail(file, "malformed JSON header: " + e.getMessage());
        }
        long dataSize = all.byteSize() - dataStart;
        Map<String, String> metadata = Map.of();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, Object> e : json.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                metadata = parseMetadata(file, e.getValue());
            } else {
                entries.add(parseEntry(file, e.getKey(), e.getValue(), dataSize));
            }
        }
        checkOverlaps(file, entries);
        checkQ8Layout(file, entries, metadata);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry en : entries) {
            MemorySegment slice = all.asSlice(dataStart + en.begin, en.end - en.begin);
            tensors.put(en.name, new Tensor(en.name, en.dtype, en.shape, slice));
        }
        return new SafeTensors(file, arena, owns, Collections.unmodifiableMap(tensors), metadata, dataStart);
    }

    private static Map<String, String> parseMetadata(Path file, Object v) {
        if (!(v instanceof Map<?, ?> m)) throw fail(file, "__metadata__ must be an object, found " + Json.typeName(v));
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw fail(file, "__metadata__ value for '" + e.getKey() + "' must be a string, found " + Json.typeName(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static Entry parseEntry(Path file, String name, Object v, long dataSize) {
        if (!(v instanceof Map<?, ?> m)) throw fail(file, name, "header entry must be an object, found " + Json.typeName(v));
        for (String k : List.of("dtype", "shape", "data_offsets")) {
            if (!m.containsKey(k)) throw fail(file, name, "header entry has no '" + k + "'");
        }
        if (!(m.get("dtype") instanceof String dtypeName)) {
            throw fail(file, name, "dtype must be a string, found " + Json.typeName(m.get("dtype")));
        }
        DType dtype = DType.fromName(dtypeName);
        if (dtype == null) throw fail(file, name, "unknown dtype '" + dtypeName + "'");
        long[] shape = longs(file, name, "shape", m.get("shape"), -1);
        long[] off = longs(file, name, "data_offsets", m.get("data_offsets"), 2);
        long numel = 1;
        for (long d : shape) {
            try {
                numel = Math.multiplyExact(numel, d);
            } catch (ArithmeticException ex) {
                throw fail(file, name, "shape " + java.util.Arrays.toString(shape) + " has too many elements");
            }
        }
        long begin = off[0], end = off[1];
        if (end < begin) throw fail(file, name, "data_offsets [" + begin + ", " + end + "] end before they begin");
        if (end > dataSize) {
            throw fail(file, name, "data_offsets [" + begin + ", " + end + "] run past the end of the data section ("
                    + dataSize + " bytes; is the file truncated?)");
        }
        long expected;
        try {
            expected = dtype.byteSize(numel);
        } catch (IllegalArgumentException | ArithmeticException ex) {
            throw fail(file, name, "shape " + java.util.Arrays.toString(shape) + " does not fit dtype " + dtype + ": " + ex.getMessage());
        }
        if (end - begin != expected) {
            throw fail(file, name, "holds " + (end - begin) + " bytes but shape " + java.util.Arrays.toString(shape)
                    + " of " + dtype + " needs " + expected);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long[] longs(Path file, String name, String field, Object v, int wantLength) {
        if (!(v instanceof List<?> l)) throw fail(file, name, field + " must be an array, found " + Json.typeName(v));
        if (wantLength >= 0 && l.size() != wantLength) {
            throw fail(file, name, field + " must have " + wantLength + " entries, found " + l.size());
        }
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            Object x = l.get(i);
            if (!(x instanceof Long n)) throw fail(file, name, field + " " + Json.write(v) + " must hold integers");
            if (n < 0) throw fail(file, name, field + " " + Json.write(v) + " must not be negative");
            out[i] = n;
        }
        return out;
    }

    private static void checkOverlaps(Path file, List<Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.removeIf(e -> e.begin == e.end);
        sorted.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < sorted.size(); i++) {
            Entry prev = sorted.get(i - 1), cur = sorted.get(i);
            if (cur.begin < prev.end) {
                throw fail(file, cur.name, "data_offsets [" + cur.begin + ", " + cur.end + "] overlap tensor '" + prev.name
                        + "' [" + prev.begin + ", " + prev.end + "]");
            }
        }
    }

    private static void checkQ8Layout(Path file, List<Entry> entries, Map<String, String> metadata) {
        Entry q8 = entries.stream().filter(e -> e.dtype.isQ8()).findFirst().orElse(null);
        if (q8 == null) return;
        String layout = metadata.get(Q8_0_LAYOUT_KEY);
        if (layout == null) {
            throw fail(file, q8.name, "is " + q8.dtype + " but __metadata__ has no '" + Q8_0_LAYOUT_KEY + "' saying how its blocks are laid out "
                    + "(gpt2j quantize writes '" + Q8_0_LAYOUT + "'; re-create the file with it)");
        }
        if (!layout.equals(Q8_0_LAYOUT)) {
            throw fail(file, q8.name, "is " + q8.dtype + " in layout '" + layout + "' (__metadata__ '" + Q8_0_LAYOUT_KEY
                    + "'), which this gpt2j cannot read; it reads '" + Q8_0_LAYOUT + "'");
        }
    }

    static CheckpointException fail(Path file, String problem) {
        return new CheckpointException(file + ": " + problem);
    }

    static CheckpointException fail(Path file, String tensor, String problem) {
        return new CheckpointException(file + ": tensor '" + tensor + "': " + problem);
    }

    public Path path() {
        return path;
    }

    /** Every tensor in header order, read-only, each a zero-copy slice of the mapping. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** The tensor called {@code name}, or null. */
    public Tensor get(String name) {
        return tensors.get(name);
    }

    /** The header's {@code __metadata__} string map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Byte offset of the data section in the file (8 + header length). */
    public long dataStart() {
        return dataStart;
    }

    public Arena arena() {
        return arena;
    }

    /** Unmaps the file when this object made the arena; tensors must not be used afterwards. */
    @Override
    public void close() {
        if (ownsArena) arena.close();
    }
}
