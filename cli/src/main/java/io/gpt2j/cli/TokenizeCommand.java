package io.gpt2j.cli;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gpt2j.core.tokenizer.Gpt2Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** JSON lines in, JSON lines out: text → ids, or ids → text with --decode. Wiring only; the tokenizer does the work. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Reads JSON lines {\"text\": ...} from stdin and writes {\"ids\": [...]} lines (or the reverse with --decode).",
                "A bad line gives {\"error\": \"line N: ...\"} and the rest still go through; exit code 1 if any line failed."})
public final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "directory with vocab.json + merges.txt (or encoder.json + vocab.bpe)")
    Path model;

    @Option(names = "--decode", description = "read {\"ids\": [...]} and write {\"text\": ...}")
    boolean decode;

    @Option(names = "--ordinary", description = "encode <|endoftext|> as plain text instead of its special id")
    boolean ordinary;

    @Option(names = "--skip-special-tokens", description = "with --decode: drop <|endoftext|> and other added tokens")
    boolean skipSpecialTokens;

    @Option(names = "--clean-up-spaces", description = "with --decode: transformers 4.38's clean_up_tokenization_spaces (\" .\" -> \".\", ...)")
    boolean cleanUp;

    @Spec
    CommandSpec spec;

    private final InputStream in;
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .build();

    public TokenizeCommand() {
        this(System.in);
    }

    /** For tests and embedding: read lines from {@code in} instead of stdin. */
    public TokenizeCommand(InputStream in) {
        this.in = in;
    }

    @Override
    public Integer call() throws Exception {
        Gpt2Tokenizer tok = Gpt2Tokenizer.fromDirectory(model);
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        int failed = 0, lineNo = 0;
        for (String line; (line = r.readLine()) != null; ) {
            lineNo++;
            if (line.isBlank()) continue;
            ObjectNode result;
            try {
                result = decode ? decodeLine(tok, line) : encodeLine(tok, line);
            } catch (Exception e) {
                failed++;
                String msg = "line " + lineNo + ": " + oneLine(e);
                err.println("gpt2j tokenize: " + msg);
                result = JSON.createObjectNode().put("error", msg);
            }
            out.println(JSON.writeValueAsString(result));
        }
        out.flush();
        err.flush();
        return failed == 0 ? 0 : 1;
    }

    private ObjectNode encodeLine(Gpt2Tokenizer tok, String line) throws Exception {
        JsonNode text = JSON.readTree(line).path("text");
        if (!text.isTextual()) throw new IllegalArgumentException("expected an object with a string field \"text\"");
        int[] ids = ordinary ? tok.encodeOrdinary(text.asText()) : tok.encode(text.asText());
        ObjectNode o = JSON.createObjectNode();
        ArrayNode a = o.putArray("ids");
        for (int id : ids) a.add(id);
        return o;
    }

    private ObjectNode decodeLine(Gpt2Tokenizer tok, String line) throws Exception {
        JsonNode ids = JSON.readTree(line).path("ids");
        if (!ids.isArray()) throw new IllegalArgumentException("expected an object with an array field \"ids\"");
        int[] a = new int[ids.size()];
        for (int i = 0; i < a.length; i++) {
            JsonNode v = ids.get(i);
            if (!v.canConvertToInt() || !v.isIntegralNumber()) throw new IllegalArgumentException("ids[" + i + "] is not an integer: " + v);
            a[i] = v.intValue();
        }
        return JSON.createObjectNode().put("text", tok.decode(a, skipSpecialTokens, cleanUp));
    }

    private static String oneLine(Exception e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
