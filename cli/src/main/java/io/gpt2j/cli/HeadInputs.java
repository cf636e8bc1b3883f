package io.gpt2j.cli;

import io.gpt2j.core.kernels.Parallel;
import io.gpt2j.core.load.HfCheckpoint;
import io.gpt2j.core.load.HfHeads;
import io.gpt2j.core.load.LoadedCheckpoint;
import io.gpt2j.core.model.ClassificationHead;
import io.gpt2j.core.model.Classifier;
import io.gpt2j.core.model.Gpt2;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Shared wiring of classify / tag / evaluate: texts from arguments, a file or stdin; a loaded head model. */
final class HeadInputs {
    private HeadInputs() {
    }

    /** Arguments if any, else the lines of {@code file}, else stdin's lines (blank lines skipped). */
    static List<String> texts(List<String> args, Path file, InputStream stdin) throws IOException {
        if (args != null && !args.isEmpty()) {
            if (file != null) throw new IllegalArgumentException("give texts as arguments or with --input, not both");
            return args;
        }
        List<String> lines;
        if (file != null) {
            if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--input " + file + " is not a file");
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } else {
            lines = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8)).lines().toList();
        }
        List<String> out = new ArrayList<>();
        for (String l : lines) if (!l.isBlank()) out.add(l);
        if (out.isEmpty()) throw new IllegalArgumentException((file != null ? file.toString() : "stdin") + ": no texts (only blank lines)");
        return out;
    }

    /** A checkpoint with a classification head of {@code kind}, its tokenizer, and a classifier on a pool. */
    record Loaded(LoadedCheckpoint checkpoint, Parallel pool, Classifier classifier, Gpt2Tokenizer tokenizer) implements AutoCloseable {
        static Loaded open(Path dir, ClassificationHead.Kind kind, Integer threads) {
            LoadedCheckpoint ck = HfCheckpoint.load(dir);
            Parallel pool = null;
            try {
                ClassificationHead head = HfHeads.read(ck);
                if (head.kind() != kind) {
                    String use = head.kind() == ClassificationHead.Kind.TOKEN_CLASSIFICATION ? "gpt2j tag / evaluate token-classification"
                            : "gpt2j classify / evaluate text-classification";
                    throw new IllegalArgumentException(dir + " is a " + head.kind().architecture() + " checkpoint, not a "
                            + kind.architecture() + ": use " + use);
                }
                Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(dir);
                pool = new Parallel(threads != null ? threads : Parallel.defaultThreads());
                return new Loaded(ck, pool, new Classifier(new Gpt2(ck.config(), ck.weights(), pool), head), tok);
            } catch (RuntimeException e) {
                if (pool != null) pool.close();
                ck.close();
                throw e;
            }
        }

        ClassificationHead head() {
            return classifier.head();
        }

        @Override
        public void close() {
            pool.close();
            checkpoint.close();
        }
    }
}
