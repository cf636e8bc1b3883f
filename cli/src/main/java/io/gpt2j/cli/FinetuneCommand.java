package io.gpt2j.cli;

import io.gpt2j.eval.metrics.SeqEval;
import io.gpt2j.train.Evaluator;
import io.gpt2j.train.LmBlocks;
import io.gpt2j.train.Task;
import io.gpt2j.train.TextClassificationData;
import io.gpt2j.train.TokenClassificationData;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gpt2j finetune <task>}: fine-tuning front end (wiring only; the math lives in the train module). */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Fine-tunes a GPT-2 checkpoint (fp32, CPU) and saves it in Hugging Face layout.",
        subcommands = {FinetuneCommand.TextClassification.class, FinetuneCommand.TokenClassification.class,
                FinetuneCommand.CausalLm.class})
public final class FinetuneCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** GPT2ForSequenceClassification on a JSONL file of {"text", "label"}. */
    @Command(name = "text-classification", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Trains GPT2ForSequenceClassification on JSONL rows {\"text\": ..., \"label\": int|string}, reports",
                    "eval_accuracy, eval_f1_macro, precision/recall macro and MCC on --validation, and saves an HF-loadable directory.",
                    "Example: gpt2j finetune text-classification --model gpt2 --train train.jsonl "
                            + "--validation validation.jsonl --output out --num_train_epochs 1 --learning_rate 5e-5"})
    public static final class TextClassification implements Callable<Integer> {
        @Mixin FinetuneArgs args;
        @Option(names = {"--text_column", "--text-column", "--text-key"}, description = "text field (default text)") String textColumn = "text";
        @Option(names = {"--label_column", "--label-column", "--label-key"}, description = "label field (default label)") String labelColumn = "label";
        @Option(names = "--labels", description = "file with one label name per line (index = label id); default: labels.txt beside --train if present") Path labels;
        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return FinetuneRun.run(args, Task.SEQUENCE_CLASSIFICATION, "single_label_classification", (tok, cfg) -> {
                var rows = TextClassificationData.readJsonl(args.train, textColumn, labelColumn);
                List<String> given = FinetuneRun.labelFile(labels, args.train);
                List<String> names = TextClassificationData.labelNames(rows, given);
                if (given.isEmpty()) names = FinetuneRun.preferCheckpointOrder(names, cfg);
                var train = encode(args.train, rows, names, tok);
                var val = args.validation == null ? null
                        : encode(args.validation, TextClassificationData.readJsonl(args.validation, textColumn, labelColumn), names, tok);
                int[] counts = new int[names.size()];
                for (int l : train.labels()) counts[l]++;
                String summary = train.size() + " examples, " + names.size() + " labels " + names + ", counts " + java.util.Arrays.toString(counts)
                        + (val == null ? "" : ", " + val.size() + " validation examples, majority-class baseline accuracy "
                        + String.format(Locale.ROOT, "%.4f", majority(val.labels(), names.size())));
                return new FinetuneRun.Data(train, val == null ? null : Evaluator.textClassification(val), names, summary);
            }, spec.commandLine().getOut(), spec.commandLine().getErr());
        }

        private TextClassificationData encode(Path file, List<TextClassificationData.Row> rows, List<String> names, io.gpt2j.core.tokenizer.Gpt2Tokenizer tok) {
            try {
                return TextClassificationData.encode(rows, names, tok, args.maxSeqLength);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
        }

        /** Accuracy of always predicting the most frequent validation label: the bar a classifier must beat. */
        static double majority(int[] labels, int k) {
            int[] c = new int[k];
            int max = 0;
            for (int l : labels) max = Math.max(max, ++c[l]);
            return labels.length == 0 ? 0 : (double) max / labels.length;
        }
    }

    /** GPT2ForTokenClassification (NER) on JSONL word/tag lists or CoNLL column files. */
    @Command(name = "token-classification", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Trains GPT2ForTokenClassification on JSONL rows {\"tokens\": [words], \"ner_tags\": [tags]} or CoNLL",
                    "column files (word ... tag, blank line between sentences). Words are BPE-encoded with a leading space; the first",
                    "sub-token carries the word's label. Reports entity-level eval_precision/recall/f1 (seqeval) and eval_accuracy.",
                    "Example: gpt2j finetune token-classification --model gpt2 --train eng.train --validation eng.testa --output out"})
    public static final class TokenClassification implements Callable<Integer> {
        @Mixin FinetuneArgs args;
        @Option(names = {"--token-key", "--token_key", "--tokens_column"}, description = "JSONL field with the word list (default tokens)") String tokenKey = "tokens";
        @Option(names = {"--tag-key", "--tag_key", "--tags_column"}, description = "JSONL field with the tag list (ints or names; default ner_tags)") String tagKey = "ner_tags";
        @Option(names = "--labels", description = "file with one label name per line (index = label id); default: labels.txt beside --train, else the sorted tags of the data") Path labels;
        @Option(names = {"--seqeval_mode", "--seqeval-mode"}, description = "default (conlleval: reads IOB1 and IOB2) or strict (IOB2 only; orphan I- tags are no entity)") String mode = "default";
        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            SeqEval.Mode m = switch (mode.toLowerCase(Locale.ROOT)) {
                case "default", "conlleval" -> SeqEval.Mode.CONLLEVAL;
                case "strict", "iob2" -> SeqEval.Mode.STRICT_IOB2;
                default -> throw new IllegalArgumentException("--seqeval_mode '" + mode + "' is not supported; expected default or strict");
            };
            return FinetuneRun.run(args, Task.TOKEN_CLASSIFICATION, null, (tok, cfg) -> {
                var sentences = TokenClassificationData.read(args.train, tokenKey, tagKey);
                List<String> given = FinetuneRun.labelFile(labels, args.train);
                List<String> names = TokenClassificationData.labelNames(sentences, given);
                if (given.isEmpty()) names = FinetuneRun.preferCheckpointOrder(names, cfg);
                var train = TokenClassificationData.encode(sentences, names, tok, args.maxSeqLength);
                var val = args.validation == null ? null
                        : TokenClassificationData.encode(TokenClassificationData.read(args.validation, tokenKey, tagKey), names, tok, args.maxSeqLength);
                String summary = train.size() + " sentences (" + train.tokens() + " tokens), " + names.size() + " labels " + names
                        + (val == null ? "" : ", " + val.size() + " validation sentences");
                return new FinetuneRun.Data(train, val == null ? null : Evaluator.tokenClassification(val, m), names, summary);
            }, spec.commandLine().getOut(), spec.commandLine().getErr());
        }
    }

    /** GPT2LMHeadModel continued pre-training on a text corpus, packed into blocks as run_clm does. */
    @Command(name = "causal-lm", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Continues pre-training GPT2LMHeadModel on a UTF-8 text file: lines are tokenised, concatenated and cut",
                    "into blocks of --max_seq_length (alias --block_size) tokens, as transformers' run_clm. Reports eval_loss and",
                    "eval_perplexity on --validation.",
                    "Example: gpt2j finetune causal-lm --model gpt2 --train corpus.txt --validation valid.txt --output out"})
    public static final class CausalLm implements Callable<Integer> {
        @Mixin FinetuneArgs args;
        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return FinetuneRun.run(args, Task.CAUSAL_LM, null, (tok, cfg) -> {
                LmBlocks train = LmBlocks.fromFile(args.train, tok, args.maxSeqLength);
                LmBlocks val = args.validation == null ? null : LmBlocks.fromFile(args.validation, tok, args.maxSeqLength);
                String summary = train.size() + " blocks of " + train.blockSize() + " tokens (" + train.tokens().length + " tokens in the corpus)"
                        + (val == null ? "" : ", " + val.size() + " validation blocks");
                return new FinetuneRun.Data(train, val == null ? null : Evaluator.causalLm(val), null, summary);
            }, spec.commandLine().getOut(), spec.commandLine().getErr());
        }
    }
}
