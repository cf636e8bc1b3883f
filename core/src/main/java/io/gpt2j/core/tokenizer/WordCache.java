package io.gpt2j.core.tokenizer;

/**
 * A bounded, lock-free, direct-mapped cache from pre-token text to its BPE ids. Entries are immutable
 * records, so racy reads and writes of the slots are safe: a reader sees null, an old entry, or a complete
 * new one. A collision simply replaces the slot's entry.
 */
final class WordCache {
    /** Longer pieces are rare and are not cached. */
    static final int MAX_KEY_CHARS = 32;

    private record Entry(String key, int hash, int[] ids) {
    }

    private final Entry[] slots;
    private final int mask;

    WordCache(int capacityPowerOfTwo) {
        slots = new Entry[capacityPowerOfTwo];
        mask = capacityPowerOfTwo - 1;
    }

    static int hash(String s, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) h = 31 * h + s.charAt(i);
        return h;
    }

    private int index(int h) {
        return (h ^ (h >>> 15)) & mask;
    }

    int[] get(String s, int from, int len, int h) {
        Entry e = slots[index(h)];
        if (e != null && e.hash == h && e.key.length() == len && s.regionMatches(from, e.key, 0, len)) return e.ids;
        return null;
    }

    void put(String key, int h, int[] ids) {
        slots[index(h)] = new Entry(key, h, ids);
    }
}
