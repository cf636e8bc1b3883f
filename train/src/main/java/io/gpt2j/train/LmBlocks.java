package io.gpt2j.train;

import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A text corpus packed for causal-LM training as transformers' run_clm does: every line (with its line break, the
 * "text" loader's keep_linebreaks) is tokenised, all ids are concatenated, and the stream is cut into blocks of
 * blockSize tokens; the remainder that does not fill a block is dropped. Labels are the input ids (the model shifts).
 */
public record LmBlocks(int[] tokens, int blockSize, int blocks, String source) implements TrainingData {

    public LmBlocks {
        if (blockSize < 1) throw new IllegalArgumentException("block_size must be >= 1, got " + blockSize);
        if (blocks < 1 || (long) blocks * blockSize > tokens.length) {
            throw new IllegalArgumentException(source + ": " + tokens.length + " tokens do not fill one block of block_size " + blockSize
                    + "; use a longer text or a smaller --max_seq_length/--block_size");
        }
    }

    /** Reads and packs a UTF-8 text file. */
    public static LmBlocks fromFile(Path file, Gpt2Tokenizer tok, int blockSize) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (text.isBlank()) throw new IllegalArgumentException(file + ": no text (the file is empty)");
        return fromText(text, tok, blockSize, file.toString());
    }

    public static LmBlocks fromText(String text, Gpt2Tokenizer tok, int blockSize, String source) {
        int[] all = new int[Math.max(16, text.length() / 3)];
        int n = 0;
        for (int from = 0; from < text.length(); ) {
            int nl = text.indexOf('\n', from);
            int to = nl < 0 ? text.length() : nl + 1;
            int[] ids = tok.encode(text.substring(from, to));
            if (n + ids.length > all.length) all = Arrays.copyOf(all, Math.max(2 * all.length, n + ids.length));
            System.arraycopy(ids, 0, all, n, ids.length);
            n += ids.length;
            from = to;
        }
        return new LmBlocks(Arrays.copyOf(all, n), blockSize, n / blockSize, source);
    }

    @Override
    public int size() {
        return blocks;
    }

    /** Tokens used for training (whole blocks). */
    public long trainedTokens() {
        return (long) blocks * blockSize;
    }

    /** Blocks {@code order[from..to)}; every block is full, so no padding and no attention mask. */
    @Override
    public Batch batch(int[] order, int from, int to, int padId) {
        int B = to - from, T = blockSize;
        int[] in = new int[B * T];
        for (int b = 0; b < B; b++) System.arraycopy(tokens, order[from + b] * T, in, b * T, T);
        return new Batch(in, null, in.clone(), null, B, T);
    }
}
