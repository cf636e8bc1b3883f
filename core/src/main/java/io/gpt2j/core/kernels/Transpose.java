package io.gpt2j.core.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float matrix transposes with 512-bit vectors, for packing the transposed weight layouts (F16_T, BF16_T, Q8_0_T:
 * rows of {@code in} values per output) into the (C, NB) column panels the prefill tiles read. The scalar
 * element-by-element pack cost ~10 % of a gpt2 BF16 prefill; this one is ~7x faster per panel.
 */
final class Transpose {
    private Transpose() {
    }

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** The blocks are 16 x 16: one vector of 16 lanes per row. Other vector widths take the scalar path. */
    static final boolean AVAILABLE = S.length() == 16;
    /** Permute indexes per stage (block size 8, 4, 2, 1): lanes 0-15 pick from the first vector, 16-31 the second. */
    private static final FloatVector[] LO = new FloatVector[4], HI = new FloatVector[4];

    static {
        if (AVAILABLE) {
            for (int st = 0; st < 4; st++) {
                int s = 8 >> st;
                float[] lo = new float[16], hi = new float[16];
                for (int i = 0; i < 16; i++) {
                    int blk = i / (2 * s) * 2 * s, pos = i % (2 * s);
                    lo[i] = pos < s ? blk + pos : 16 + blk + pos - s;
                    hi[i] = pos < s ? blk + s + pos : 16 + blk + pos;
                }
                LO[st] = FloatVector.fromArray(S, lo, 0);
                HI[st] = FloatVector.fromArray(S, hi, 0);
            }
        }
    }

    /**
     * dst[dOff + c*ds + k] = src[so + k*ss + c] for k < rows, c < cols (floats), rows and cols multiples of 16 when
     * AVAILABLE; any sizes otherwise (scalar).
     */
    static void transpose(MemorySegment src, long so, long ss, MemorySegment dst, long dOff, long ds, int rows, int cols) {
        if (AVAILABLE && rows % 16 == 0 && cols % 16 == 0) {
            for (int k = 0; k < rows; k += 16) {
                for (int c = 0; c < cols; c += 16) block16(src, so + k * ss + c, ss, dst, dOff + c * ds + k, ds);
            }
            return;
        }
        for (int k = 0; k < rows; k++) {
            for (int c = 0; c < cols; c++) dst.setAtIndex(MatMul.F32, dOff + c * ds + k, src.getAtIndex(MatMul.F32, so + k * ss + c));
        }
    }

    /**
     * One 16 x 16 block: dst[dOff + j*ds + i] = src[so + i*ss + j] for i, j < 16 (offsets and strides in floats).
     * Four stages of two-source permutes (vpermt2ps), each swapping the off-diagonal halves of the blocks of the
     * previous size: 64 permutes per 256 floats instead of 256 scalar loads and stores.
     */
    static void block16(MemorySegment src, long so, long ss, MemorySegment dst, long dOff, long ds) {
        FloatVector r0 = FloatVector.fromMemorySegment(S, src, 4 * so, LE), r1 = FloatVector.fromMemorySegment(S, src, 4 * (so + ss), LE);
        FloatVector r2 = FloatVector.fromMemorySegment(S, src, 4 * (so + 2*ss), LE), r3 = FloatVector.fromMemorySegment(S, src, 4 * (so + 3*ss), LE);
        FloatVector r4 = FloatVector.fromMemorySegment(S, src, 4 * (so + 4*ss), LE), r5 = FloatVector.fromMemorySegment(S, src, 4 * (so + 5*ss), LE);
        FloatVector r6 = FloatVector.fromMemorySegment(S, src, 4 * (so + 6*ss), LE), r7 = FloatVector.fromMemorySegment(S, src, 4 * (so + 7*ss), LE);
        FloatVector r8 = FloatVector.fromMemorySegment(S, src, 4 * (so + 8*ss), LE), r9 = FloatVector.fromMemorySegment(S, src, 4 * (so + 9*ss), LE);
        FloatVector r10 = FloatVector.fromMemorySegment(S, src, 4 * (so + 10*ss), LE), r11 = FloatVector.fromMemorySegment(S, src, 4 * (so + 11*ss), LE);
        FloatVector r12 = FloatVector.fromMemorySegment(S, src, 4 * (so + 12*ss), LE), r13 = FloatVector.fromMemorySegment(S, src, 4 * (so + 13*ss), LE);
        FloatVector r14 = FloatVector.fromMemorySegment(S, src, 4 * (so + 14*ss), LE), r15 = FloatVector.fromMemorySegment(S, src, 4 * (so + 15*ss), LE);
        FloatVector lo = LO[0], hi = HI[0], t;
        t = lo.selectFrom(r0, r8); r8 = hi.selectFrom(r0, r8); r0 = t;
        t = lo.selectFrom(r1, r9); r9 = hi.selectFrom(r1, r9); r1 = t;
        t = lo.selectFrom(r2, r10); r10 = hi.selectFrom(r2, r10); r2 = t;
        t = lo.selectFrom(r3, r11); r11 = hi.selectFrom(r3, r11); r3 = t;
        t = lo.selectFrom(r4, r12); r12 = hi.selectFrom(r4, r12); r4 = t;
        t = lo.selectFrom(r5, r13); r13 = hi.selectFrom(r5, r13); r5 = t;
        t = lo.selectFrom(r6, r14); r14 = hi.selectFrom(r6, r14); r6 = t;
        t = lo.selectFrom(r7, r15); r15 = hi.selectFrom(r7, r15); r7 = t;
        lo = LO[1]; hi = HI[1];
        t = lo.selectFrom(r0, r4); r4 = hi.selectFrom(r0, r4); r0 = t;
        t = lo.selectFrom(r1, r5); r5 = hi.selectFrom(r1, r5); r1 = t;
        t = lo.selectFrom(r2, r6); r6 = hi.selectFrom(r2, r6); r2 = t;
        t = lo.selectFrom(r3, r7); r7 = hi.selectFrom(r3, r7); r3 = t;
        t = lo.selectFrom(r8, r12); r12 = hi.selectFrom(r8, r12); r8 = t;
        t = lo.selectFrom(r9, r13); r13 = hi.selectFrom(r9, r13); r9 = t;
        t = lo.selectFrom(r10, r14); r14 = hi.selectFrom(r10, r14); r10 = t;
        t = lo.selectFrom(r11, r15); r15 = hi.selectFrom(r11, r15); r11 = t;
        lo = LO[2]; hi = HI[2];
        t = lo.selectFrom(r0, r2); r2 = hi.selectFrom(r0, r2); r0 = t;
        t = lo.selectFrom(r1, r3); r3 = hi.selectFrom(r1, r3); r1 = t;
        t = lo.selectFrom(r4, r6); r6 = hi.selectFrom(r4, r6); r4 = t;
        t = lo.selectFrom(r5, r7); r7 = hi.selectFrom(r5, r7); r5 = t;
        t = lo.selectFrom(r8, r10); r10 = hi.selectFrom(r8, r10); r8 = t;
        t = lo.selectFrom(r9, r11); r11 = hi.selectFrom(r9, r11); r9 = t;
        t = lo.selectFrom(r12, r14); r14 = hi.selectFrom(r12, r14); r12 = t;
        t = lo.selectFrom(r13, r15); r15 = hi.selectFrom(r13, r15); r13 = t;
        lo = LO[3]; hi = HI[3];
        t = lo.selectFrom(r0, r1); r1 = hi.selectFrom(r0, r1); r0 = t;
        t = lo.selectFrom(r2, r3); r3 = hi.selectFrom(r2, r3); r2 = t;
        t = lo.selectFrom(r4, r5); r5 = hi.selectFrom(r4, r5); r4 = t;
        t = lo.selectFrom(r6, r7); r7 = hi.selectFrom(r6, r7); r6 = t;
        t = lo.selectFrom(r8, r9); r9 = hi.selectFrom(r8, r9); r8 = t;
        t = lo.selectFrom(r10, r11); r11 = hi.selectFrom(r10, r11); r10 = t;
        t = lo.selectFrom(r12, r13); r13 = hi.selectFrom(r12, r13); r12 = t;
        t = lo.selectFrom(r14, r15); r15 = hi.selectFrom(r14, r15); r14 = t;
        r0.intoMemorySegment(dst, 4 * dOff, LE); r1.intoMemorySegment(dst, 4 * (dOff + ds), LE);
        r2.intoMemorySegment(dst, 4 * (dOff + 2*ds), LE); r3.intoMemorySegment(dst, 4 * (dOff + 3*ds), LE);
        r4.intoMemorySegment(dst, 4 * (dOff + 4*ds), LE); r5.intoMemorySegment(dst, 4 * (dOff + 5*ds), LE);
        r6.intoMemorySegment(dst, 4 * (dOff + 6*ds), LE); r7.intoMemorySegment(dst, 4 * (dOff + 7*ds), LE);
        r8.intoMemorySegment(dst, 4 * (dOff + 8*ds), LE); r9.intoMemorySegment(dst, 4 * (dOff + 9*ds), LE);
        r10.intoMemorySegment(dst, 4 * (dOff + 10*ds), LE); r11.intoMemorySegment(dst, 4 * (dOff + 11*ds), LE);
        r12.intoMemorySegment(dst, 4 * (dOff + 12*ds), LE); r13.intoMemorySegment(dst, 4 * (dOff + 13*ds), LE);
        r14.intoMemorySegment(dst, 4 * (dOff + 14*ds), LE); r15.intoMemorySegment(dst, 4 * (dOff + 15*ds), LE);
    }
}
