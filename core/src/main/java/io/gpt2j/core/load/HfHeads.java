package io.gpt2j.core.load;

import io.gpt2j.core.io.CheckpointException;
import io.gpt2j.core.io.DType;
import io.gpt2j.core.io.SafeTensorsWriter;
import io.gpt2j.core.io.Tensor;
import io.gpt2j.core.model.ClassificationHead;
import io.gpt2j.core.model.ClassificationHead.Kind;
import io.gpt2j.core.model.ClassificationHead.Problem;
import io.gpt2j.core.model.Gpt2Config;
import io.gpt2j.core.model.Gpt2Weights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;

/**
 * Reads (and, for fixtures and conversions, writes) the classification heads of transformers' GPT-2 checkpoints:
 * {@code score.weight} of GPT2ForSequenceClassification, {@code classifier.weight/bias} of
 * GPT2ForTokenClassification, with config.json's architectures, id2label, problem_type and pad_token_id.
 */
public final class HfHeads {
    public static final String SCORE = "score.weight", CLASSIFIER = "classifier.weight", CLASSIFIER_BIAS = "classifier.bias";

    private HfHeads() {
    }

    /** Whether the checkpoint carries a sequence- or token-classification head (by architectures or tensors). */
    public static boolean hasHead(LoadedCheckpoint ck) {
        return kind(ck) != null;
    }

    private static Kind kind(LoadedCheckpoint ck) {
        List<String> arch = ck.config().architectures();
        for (Kind k : Kind.values()) if (arch.contains(k.architecture())) return k;
        if (!arch.isEmpty()) return null;
        if (ck.extraTensors().containsKey(SCORE)) return Kind.SEQUENCE_CLASSIFICATION;
        if (ck.extraTensors().containsKey(CLASSIFIER)) return Kind.TOKEN_CLASSIFICATION;
        return null;
    }

    /** The head of {@code ck}; a CheckpointException that says what the directory is and what is needed otherwise. */
    public static ClassificationHead read(LoadedCheckpoint ck) {
        Gpt2Config c = ck.config();
        Path cfg = ck.dir().resolve(HfCheckpoint.CONFIG);
        Kind kind = kind(ck);
        if (kind == null) {
            throw new CheckpointException(ck.dir() + " has no classification head: " + cfg + " architectures is "
                    + (c.architectures().isEmpty() ? "absent" : c.architectures()) + " and the weights hold neither '" + SCORE
                    + "' nor '" + CLASSIFIER + "'; give a GPT2ForSequenceClassification or GPT2ForTokenClassification "
                    + "directory (e.g. the output of ./gpt2j finetune text-classification)");
        }
        int k = c.numLabels(), e = c.nEmbd();
        if (k < 1) throw new CheckpointException(cfg + ": num_labels must be at least 1 for " + kind.architecture() + ", got " + k);
        Problem problem;
        try {
            problem = kind == Kind.TOKEN_CLASSIFICATION ? Problem.SINGLE_LABEL : Problem.of(c.problemType(), k);
        } catch (IllegalArgumentException ex) {
            throw new CheckpointException(cfg + ": " + ex.getMessage(), ex);
        }
        String wName = kind == Kind.SEQUENCE_CLASSIFICATION ? SCORE : CLASSIFIER;
        float[] w = tensor(ck, wName, k, e);
        float[] b = kind == Kind.TOKEN_CLASSIFICATION ? tensor(ck, CLASSIFIER_BIAS, k) : null;
        return new ClassificationHead(kind, problem, w, b, c.id2label(), c.padTokenId());
    }

    private static float[] tensor(LoadedCheckpoint ck, String name, long... shape) {
        Tensor t = ck.extraTensors().get(name);
        if (t == null) {
            throw new CheckpointException(ck.dir() + ": tensor '" + name + "' is missing (config.json architectures "
                    + ck.config().architectures() + " needs it)");
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new CheckpointException(ck.dir() + ": tensor '" + name + "' has shape " + t.shapeString() + " but config.json implies "
                    + Arrays.toString(shape) + " (num_labels " + ck.config().numLabels() + ", n_embd " + ck.config().nEmbd() + ")");
        }
        if (t.dtype() != DType.F32 && t.dtype() != DType.F16 && t.dtype() != DType.BF16) {
            throw new CheckpointException(ck.dir() + ": tensor '" + name + "' has dtype " + t.dtype() + "; expected F32, F16 or BF16");
        }
        return t.toFloatArray();
    }

    /** {@code base}'s config turned into the config of a checkpoint with {@code head}. */
    public static Gpt2Config withHead(Gpt2Config base, ClassificationHead head) {
        String problem = head.kind() == Kind.TOKEN_CLASSIFICATION ? null : head.problem().configName();
        return new Gpt2Config(base.vocabSize(), base.nPositions(), base.nEmbd(), base.nLayer(), base.nHead(), base.nInner(),
                base.layerNormEpsilon(), base.activationFunction(), base.scaleAttnWeights(), base.scaleAttnByInverseLayerIdx(),
                base.reorderAndUpcastAttn(), base.tieWordEmbeddings(), base.bosTokenId(), base.eosTokenIds(), head.padTokenId(),
                List.of(head.kind().architecture()), head.numLabels(), head.labels(), problem, base.extra());
    }

    /**
     * Writes {@code base}'s body (F32, transformers' names) plus {@code head} to {@code out} in the layout
     * transformers' save_pretrained uses for the head's class, with the tokenizer files of {@code base}'s directory.
     */
    public static void write(LoadedCheckpoint base, ClassificationHead head, Path out) {
        Gpt2Config c = withHead(base.config(), head);
        if (head.nEmbd() != c.nEmbd()) throw new IllegalArgumentException("head n_embd " + head.nEmbd() + " != model n_embd " + c.nEmbd());
        try {
            Files.createDirectories(out);
            Files.writeString(out.resolve(HfCheckpoint.CONFIG), HfConfig.pretty(HfConfig.toJson(c, "float32")));
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
            Gpt2Weights bw = base.weights();
            add(w, "transformer.wte.weight", bw.wte());
            add(w, "transformer.wpe.weight", bw.wpe());
            for (int i = 0; i < bw.h().size(); i++) {
                Gpt2Weights.Layer l = bw.h().get(i);
                String p = "transformer.h." + i + ".";
                add(w, p + "ln_1.weight", l.ln1Weight());
                add(w, p + "ln_1.bias", l.ln1Bias());
                add(w, p + "attn.c_attn.weight", l.cAttnWeight());
                add(w, p + "attn.c_attn.bias", l.cAttnBias());
                add(w, p + "attn.c_proj.weight", l.attnCProjWeight());
                add(w, p + "attn.c_proj.bias", l.attnCProjBias());
                add(w, p + "ln_2.weight", l.ln2Weight());
                add(w, p + "ln_2.bias", l.ln2Bias());
                add(w, p + "mlp.c_fc.weight", l.cFcWeight());
                add(w, p + "mlp.c_fc.bias", l.cFcBias());
                add(w, p + "mlp.c_proj.weight", l.mlpCProjWeight());
                add(w, p + "mlp.c_proj.bias", l.mlpCProjBias());
            }
            add(w, "transformer.ln_f.weight", bw.lnFWeight());
            add(w, "transformer.ln_f.bias", bw.lnFBias());
            long k = head.numLabels(), e = c.nEmbd();
            if (head.kind() == Kind.SEQUENCE_CLASSIFICATION) {
                w.addFloats(SCORE, DType.F32, new long[]{k, e}, head.weight());
            } else {
                w.addFloats(CLASSIFIER, DType.F32, new long[]{k, e}, head.weight());
                w.addFloats(CLASSIFIER_BIAS, DType.F32, new long[]{k}, head.bias());
            }
            w.write(out.resolve(HfCheckpoint.SINGLE));
            for (String f : List.of("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json",
                    "added_tokens.json", "encoder.json", "vocab.bpe")) {
                Path src = base.dir().resolve(f);
                if (Files.isRegularFile(src)) Files.copy(src, out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write " + out + ": " + ex.getMessage(), ex);
        }
    }

    private static void add(SafeTensorsWriter w, String name, Tensor t) {
        w.addFloats(name, DType.F32, t.shape(), t.toFloatArray());
    }
}
