package io.gpt2j.bench;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Encode throughput of gpt2j's tokenizer versus JTokkit's r50k_base (the same BPE) on one thread, after checking
 * that both produce identical ids. Measures and reports; prints nothing itself except from {@link #main}.
 */
public final class TokenizerBench {

    /**
     * @param minMb  repeat the text (joined by "\n") until it has at least this many MB of UTF-8; 0 = as is
     * @param rounds timed rounds per tokenizer and mode, after {@code warmup} untimed ones
     */
    public record Options(Path model, Path text, double minMb, int warmup, int rounds) {
        public Options {
            if (warmup < 0 || rounds < 1) throw new IllegalArgumentException("warmup must be >= 0 and rounds >= 1, got " + warmup + ", " + rounds);
            if (minMb < 0) throw new IllegalArgumentException("minMb must be >= 0, got " + minMb);
        }
    }

    /** Throughput in MB/s (10^6 bytes of UTF-8 input per second): median and best of the timed rounds. */
    public record Speed(String tokenizer, String mode, double medianMbPerS, double bestMbPerS, double firstRoundMbPerS) {
    }

    public record Result(String text, long utf8Bytes, int tokens, boolean identicalIds, String mismatch,
                         double gpt2jLoadMs, double jtokkitLoadMs, List<Speed> speeds, String jvm) {
    }

    private TokenizerBench() {
    }

    public static Result run(Options o) {
        String text = loadText(o.text(), o.minMb());
        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
        long t0 = System.nanoTime();
        Gpt2Tokenizer ours = Gpt2Tokenizer.fromDirectory(o.model());
        long t1 = System.nanoTime();
        Encoding jt = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
        long t2 = System.nanoTime();

        // correctness first, on cold instances: whole text and line by line
        int[] a = ours.encodeOrdinary(text);
        int[] b = jt.encodeOrdinary(text).toArray();
        String mismatch = firstMismatch(a, b, "whole text");
        List<String> lines = splitLines(text);
        if (mismatch == null) {
            for (int i = 0; i < lines.size() && mismatch == null; i++) {
                mismatch = firstMismatch(ours.encodeOrdinary(lines.get(i)), jt.encodeOrdinary(lines.get(i)).toArray(), "line " + (i + 1));
            }
        }
        List<Speed> speeds = new ArrayList<>();
        speeds.add(time("gpt2j", "whole text", o, bytes, () -> ours.encodeOrdinary(text).length));
        speeds.add(time("jtokkit r50k_base", "whole text", o, bytes, () -> jt.encodeOrdinary(text).size()));
        speeds.add(time("gpt2j", "line by line", o, bytes, () -> sum(lines, s -> ours.encodeOrdinary(s).length)));
        speeds.add(time("jtokkit r50k_base", "line by line", o, bytes, () -> sum(lines, s -> jt.encodeOrdinary(s).size())));
        String name = String.valueOf(o.text());
        return new Result(name, bytes, a.length, mismatch == null, mismatch, (t1 - t0) / 1e6, (t2 - t1) / 1e6, speeds,
                Runtime.version() + " " + System.getProperty("java.vm.name"));
    }

    private interface Job {
        long run();
    }

    private static Speed time(String who, String mode, Options o, long bytes, Job job) {
        long sink = 0;
        double first = 0;
        for (int i = 0; i < o.warmup(); i++) {
            long t = System.nanoTime();
            sink += job.run();
            if (i == 0) first = bytes / 1e6 / ((System.nanoTime() - t) / 1e9);
        }
        double[] mbs = new double[o.rounds()];
        for (int i = 0; i < mbs.length; i++) {
            long t = System.nanoTime();
            sink += job.run();
            mbs[i] = bytes / 1e6 / ((System.nanoTime() - t) / 1e9);
            if (i == 0 && o.warmup() == 0) first = mbs[i];
        }
        if (sink == 42) System.out.print(""); // keeps the work observable
        Arrays.sort(mbs);
        return new Speed(who, mode, mbs[mbs.length / 2], mbs[mbs.length - 1], first);
    }

    private static long sum(List<String> lines, ToLongFunction<String> f) {
        long n = 0;
        for (String s : lines) n += f.applyAsLong(s);
        return n;
    }

    private static String firstMismatch(int[] a, int[] b, String where) {
        if (Arrays.equals(a, b)) return null;
        int i = Arrays.mismatch(a, b);
        return where + ": first difference at token " + i + " (gpt2j " + (i < a.length ? a[i] : "end")
                + ", jtokkit " + (i < b.length ? b[i] : "end") + ")";
    }

    /** Lines including their "\n", as a line-by-line caller would send them. */
    static List<String> splitLines(String text) {
        List<String> out = new ArrayList<>();
        int p = 0;
        while (p < text.length()) {
            int e = text.indexOf('\n', p);
            e = e < 0 ? text.length() : e + 1;
            out.add(text.substring(p, e));
            p = e;
        }
        return out;
    }

    static String loadText(Path file, double minMb) {
        if (file == null) throw new IllegalArgumentException("no benchmark text given (--text FILE), e.g. tinyshakespeare's input.txt");
        Path f = file;
        String t;
        try {
            t = Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read benchmark text " + f + ": " + e.getMessage(), e);
        }
        if (t.isEmpty()) throw new IllegalArgumentException("benchmark text " + f + " is empty");
        long bytes = t.getBytes(StandardCharsets.UTF_8).length;
        if (minMb <= 0 || bytes >= minMb * 1e6) return t;
        StringBuilder sb = new StringBuilder(t);
        long have = bytes;
        while (have < minMb * 1e6) {
            sb.append('\n').append(t);
            have += bytes + 1;
        }
        return sb.toString();
    }

    /** Human-readable report. */
    public static String format(Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("text: %s (%.2f MB UTF-8, %d tokens)%n", r.text(), r.utf8Bytes() / 1e6, r.tokens()));
        sb.append(String.format("ids identical: %s%s%n", r.identicalIds() ? "yes" : "NO", r.mismatch() == null ? "" : " (" + r.mismatch() + ")"));
        sb.append(String.format("load: gpt2j %.0f ms, jtokkit %.0f ms%n", r.gpt2jLoadMs(), r.jtokkitLoadMs()));
        sb.append(String.format("%-18s %-13s %10s %10s %12s%n", "tokenizer", "mode", "median", "best", "first round"));
        for (Speed s : r.speeds()) {
            sb.append(String.format("%-18s %-13s %7.1f MB/s %5.1f MB/s %7.1f MB/s%n", s.tokenizer(), s.mode(),
                    s.medianMbPerS(), s.bestMbPerS(), s.firstRoundMbPerS()));
        }
        sb.append("jvm: ").append(r.jvm());
        return sb.toString();
    }

    /** Usage: TokenizerBench MODEL_DIR [TEXT_FILE [MIN_MB]] */
    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: TokenizerBench MODEL_DIR [TEXT_FILE [MIN_MB]]");
            System.exit(2);
        }
        Options o = new Options(Path.of(args[0]), args.length > 1 ? Path.of(args[1]) : null,
                args.length > 2 ? Double.parseDouble(args[2]) : 0, 5, 10);
        System.out.println(format(run(o)));
    }
}
