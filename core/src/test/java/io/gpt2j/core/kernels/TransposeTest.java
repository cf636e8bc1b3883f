package io.gpt2j.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class TransposeTest {
    @Test
    void transposeMovesEveryElementToItsMirroredSlot() {
        // 16-multiples take the permute path (with AVX-512), the others the scalar one; strides wider than the block
        // and nonzero offsets check the addressing. A transpose only moves values, so equality is exact.
        int[][] shapes = {{16, 16}, {64, 768}, {32, 48}, {20, 17}, {1, 5}};
        try (Arena arena = Arena.ofConfined()) {
            for (int[] sh : shapes) {
                int rows = sh[0], cols = sh[1];
                long ss = cols + 3, ds = rows + 5, so = 7, dOff = 11;
                MemorySegment src = arena.allocate(4 * (so + rows * ss), 64), dst = arena.allocate(4 * (dOff + cols * ds), 64);
                for (long i = 0; i < src.byteSize() / 4; i++) src.setAtIndex(MatMul.F32, i, i * 0.25f - 3f);
                Transpose.transpose(src, so, ss, dst, dOff, ds, rows, cols);
                for (int k = 0; k < rows; k++) {
                    for (int c = 0; c < cols; c++) {
                        assertEquals(src.getAtIndex(MatMul.F32, so + k * ss + c), dst.getAtIndex(MatMul.F32, dOff + c * ds + k),
                                rows + "x" + cols + " element (" + k + ", " + c + ")");
                    }
                }
            }
        }
    }
}
