package io.gpt2j.core.tokenizer;

/**
 * The merge step of byte-level BPE over token ids: a primitive (left,right) → rank table and the merge loop
 * with transformers' semantics (repeatedly merge every occurrence of the lowest-ranked adjacent pair, left to
 * right). Immutable after construction; callers bring their own {@link Scratch}.
 */
final class Bpe {
    static final int NONE = Integer.MAX_VALUE;
    /** Pieces longer than this use the O(n log n) heap merge instead of the O(n²) array scan. */
    private static final int SMALL = 64;

    private final long[] keys;
    private final int[] ranks;
    private final int mask;
    private final int[] resultByRank;
    /** True when every merge only uses tokens produced by earlier merges (true for GPT-2's files). */
    private final boolean monotone;

    /**
     * @param left   left symbol id of merge i (i = rank), or -1 for a merge that can never fire
     * @param right  right symbol id of merge i
     * @param result id of the merged token of merge i
     */
    Bpe(int[] left, int[] right, int[] result, int vocabSize) {
        int n = left.length;
        int cap = Integer.highestOneBit(Math.max(4, n * 2 - 1)) << 1;
        keys = new long[cap];
        ranks = new int[cap];
        mask = cap - 1;
        java.util.Arrays.fill(keys, -1L);
        resultByRank = result.clone();
        for (int r = 0; r < n; r++) {
            if (left[r] >= 0) put(key(left[r], right[r]), r); // a repeated pair keeps its last rank, as in HF's dict
        }
        int[] maxProduced = new int[vocabSize];
        java.util.Arrays.fill(maxProduced, -1);
        for (int r = 0; r < n; r++) if (left[r] >= 0 && rank(left[r], right[r]) == r) maxProduced[result[r]] = r;
        boolean mono = true;
        for (int r = 0; r < n && mono; r++) {
            if (left[r] >= 0 && rank(left[r], right[r]) == r) {
                mono = maxProduced[left[r]] < r && maxProduced[right[r]] < r;
            }
        }
        monotone = mono;
    }

    boolean monotone() {
        return monotone;
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    private static int slot(long k, int mask) {
        long h = k * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }

    private void put(long k, int r) {
        int i = slot(k, mask);
        while (keys[i] != -1L && keys[i] != k) i = (i + 1) & mask;
        keys[i] = k;
        ranks[i] = r;
    }

    /** The rank of merging a with b, or NONE. */
    int rank(int a, int b) {
        long k = key(a, b);
        int i = slot(k, mask);
        while (true) {
            long x = keys[i];
            if (x == k) return ranks[i];
            if (x == -1L) return NONE;
            i = (i + 1) & mask;
        }
    }

    /** Merges the symbols syms[0..n) in place and returns how many remain. */
    int merge(int[] syms, int n, Scratch s) {
        if (n < 2) return n;
        if (!monotone) return mergeByPasses(syms, n);
        return n <= SMALL ? mergeSmall(syms, n, s.ranks(n)) : mergeHeap(syms, n, s);
    }

    /*
     * With monotone merges, a merge never creates a pair ranked below itself, so "leftmost lowest-ranked pair
     * first" visits the same merges in the same order as HF's "all occurrences of the lowest pair per pass".
     */
    private int mergeSmall(int[] syms, int n, int[] rk) {
        for (int i = 0; i < n - 1; i++) rk[i] = rank(syms[i], syms[i + 1]);
        while (n > 1) {
            int best = NONE, bi = -1;
            for (int i = 0; i < n - 1; i++) {
                if (rk[i] < best) {
                    best = rk[i];
                    bi = i;
                }
            }
            if (bi < 0) break;
            syms[bi] = resultByRank[best];
            int tail = n - bi - 2;
            if (tail > 0) System.arraycopy(syms, bi + 2, syms, bi + 1, tail);
            if (tail > 1) System.arraycopy(rk, bi + 2, rk, bi + 1, tail - 1);
            n--;
            if (bi < n - 1) rk[bi] = rank(syms[bi], syms[bi + 1]);
            if (bi > 0) rk[bi - 1] = rank(syms[bi - 1], syms[bi]);
        }
        return n;
    }

    /** Same order as mergeSmall, with a heap of (rank, position) and a linked list: O(n log n). */
    private int mergeHeap(int[] syms, int n, Scratch s) {
        int[] prev = s.prev(n), next = s.next(n);
        LongHeap heap = s.heap(n);
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1;
        }
        for (int i = 0; i < n - 1; i++) {
            int r = rank(syms[i], syms[i + 1]);
            if (r != NONE) heap.push(((long) r << 32) | i);
        }
        while (!heap.isEmpty()) {
            long e = heap.pop();
            int r = (int) (e >>> 32), i = (int) e;
            if (syms[i] < 0) continue;
            int j = next[i];
            if (j >= n || rank(syms[i], syms[j]) != r) continue; // stale entry
            syms[i] = resultByRank[r];
            syms[j] = -1;
            int k = next[j];
            next[i] = k;
            if (k < n) prev[k] = i;
            int p = prev[i];
            if (p >= 0) {
                int rp = rank(syms[p], syms[i]);
                if (rp != NONE) heap.push(((long) rp << 32) | p);
            }
            if (k < n) {
                int rn = rank(syms[i], syms[k]);
                if (rn != NONE) heap.push(((long) rn << 32) | i);
            }
        }
        int w = 0;
        for (int i = 0; i < n; i = next[i]) syms[w++] = syms[i];
        return w;
    }

    /** transformers' algorithm literally, for merge lists where a merge can create a lower-ranked pair. */
    private int mergeByPasses(int[] syms, int n) {
        while (n > 1) {
            int best = NONE, bi = -1;
            for (int i = 0; i < n - 1; i++) {
                int r = rank(syms[i], syms[i + 1]);
                if (r < best) {
                    best = r;
                    bi = i;
                }
            }
            if (bi < 0) break;
            int a = syms[bi], b = syms[bi + 1], z = resultByRank[best], w = 0;
            for (int i = 0; i < n; ) {
                if (i < n - 1 && syms[i] == a && syms[i + 1] == b) {
                    syms[w++] = z;
                    i += 2;
                } else {
                    syms[w++] = syms[i++];
                }
            }
            n = w;
        }
        return n;
    }

    /** Per-call working memory; not shared between threads. */
    static final class Scratch {
        int[] syms = new int[64];
        private int[] ranks = new int[64], prev = new int[0], next = new int[0];
        private LongHeap heap;

        int[] syms(int n) {
            if (syms.length < n) syms = new int[Math.max(n, syms.length * 2)];
            return syms;
        }

        int[] ranks(int n) {
            if (ranks.length < n) ranks = new int[Math.max(n, ranks.length * 2)];
            return ranks;
        }

        int[] prev(int n) {
            if (prev.length < n) prev = new int[n];
            return prev;
        }

        int[] next(int n) {
            if (next.length < n) next = new int[n];
            return next;
        }

        LongHeap heap(int n) {
            if (heap == null) heap = new LongHeap(n);
            heap.clear();
            return heap;
        }
    }

    /** A binary min-heap of longs. */
    static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int cap) {
            a = new long[Math.max(16, cap)];
        }

        void clear() {
            size = 0;
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == a.length) a = java.util.Arrays.copyOf(a, size * 2);
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) break;
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long v = a[--size];
            int i = 0, half = size >>> 1;
            while (i < half) {
                int c = 2 * i + 1;
                if (c + 1 < size && a[c + 1] < a[c]) c++;
                if (v <= a[c]) break;
                a[i] = a[c];
                i = c;
            }
            a[i] = v;
            return top;
        }
    }
}
