package io.gpt2j.eval;

import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Children's Book Test (CN / NE): 20 context sentences, a 21st with XXXXX and 10 candidates. Each candidate is put
 * in place of XXXXX and the filled sentence is scored given the context; the most probable one is the answer. The
 * sentence prefix before XXXXX is the same for every candidate, so this ranks like the paper's "probability of the
 * choice and the rest of the sentence". Parsing follows the standard cbtest_*.txt format.
 */
public final class Cbt {
    public record Question(String context, String query, String answer, List<String> candidates) {
    }

    public record Result(int questions, int correct, double seconds) {
        public double accuracy() {
            return (double) correct / questions;
        }
    }

    /** Parses the standard format: numbered lines "1 ..." to "20 ...", then "21 query\tanswer\t\tc1|c2|...". */
    public static List<Question> parse(String text) {
        List<Question> out = new ArrayList<>();
        StringBuilder ctx = new StringBuilder();
        int lineNo = 0;
        for (String raw : text.split("\n", -1)) {
            lineNo++;
            String line = raw.strip();
            if (line.isEmpty()) continue;
            int sp = line.indexOf(' ');
            if (sp < 0 || !line.substring(0, sp).chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("CBT line " + lineNo + " does not start with a sentence number: '" + line + "'");
            }
            String body = line.substring(sp + 1);
            int tab = body.indexOf('\t');
            if (tab < 0) {
                if (ctx.length() > 0) ctx.append(' ');
                ctx.append(body);
                continue;
            }
            String[] parts = body.split("\t");
            List<String> cands = new ArrayList<>();
            for (String c : parts[parts.length - 1].split("\\|")) if (!c.isBlank()) cands.add(c.strip());
            String query = parts[0].strip(), answer = parts[1].strip();
            if (!query.contains("XXXXX")) throw new IllegalArgumentException("CBT line " + lineNo + ": the question has no XXXXX");
            if (!cands.contains(answer)) throw new IllegalArgumentException("CBT line " + lineNo + ": answer '" + answer + "' is not a candidate");
            out.add(new Question(ctx.toString(), query, answer, List.copyOf(cands)));
            ctx.setLength(0);
        }
        return out;
    }

    private final Scorer scorer;
    private final Gpt2Tokenizer tokenizer;
    private final Detokenizer detok;

    public Cbt(Scorer scorer, Gpt2Tokenizer tokenizer, Detokenizer detok) {
        this.scorer = scorer;
        this.tokenizer = tokenizer;
        this.detok = detok;
    }

    /** Index of the best candidate of {@code q} by total log-probability of the filled sentence. */
    public int predict(Question q) {
        int[] ctx = tokenizer.encode(detok.detokenize(q.context()));
        int k = q.candidates().size(), ctxLen = scorer.contextLength();
        int[][] seqs = new int[k][];
        int[] from = new int[k];
        for (int c = 0; c < k; c++) {
            int[] sent = tokenizer.encode(" " + detok.detokenize(q.query().replace("XXXXX", q.candidates().get(c))));
            int keep = Math.min(ctx.length, ctxLen - sent.length);
            if (keep < 0) throw new IllegalArgumentException("CBT question longer than the context window");
            int[] seq = new int[keep + sent.length];
            System.arraycopy(ctx, ctx.length - keep, seq, 0, keep);
            System.arraycopy(sent, 0, seq, keep, sent.length);
            seqs[c] = seq;
            from[c] = keep;
        }
        double[] logp = new double[k];
        int V = scorer.vocabSize();
        scorer.score(seqs, from, (row, j, logits, off) -> logp[row] -= Scorer.nll(logits, off, V, seqs[row][j]));
        int best = 0;
        for (int c = 1; c < k; c++) if (logp[c] > logp[best]) best = c;
        return best;
    }

    public Result run(List<Question> questions, Progress progress) {
        long t0 = System.nanoTime();
        int correct = 0;
        for (int i = 0; i < questions.size(); i++) {
            Question q = questions.get(i);
            if (q.candidates().get(predict(q)).equals(q.answer())) correct++;
            progress.update(i + 1, questions.size());
        }
        return new Result(questions.size(), correct, (System.nanoTime() - t0) / 1e9);
    }
}
