package dev.vllmraycluster.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.vllmraycluster.TestStacks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checked-in schema and README's key table are what the model generates now (run with
 * {@code -Dschema.update=true} to rewrite both), and every stack file and README YAML example
 * passes the schema.
 */
class StackSchemaTest {
  private static final Path SCHEMA = TestStacks.ROOT.resolve(StackSchema.SCHEMA_PATH);
  private static final Path README = TestStacks.ROOT.resolve("README.md");
  private static final String BEGIN = "<!-- stack-keys:begin: generated from the model (StackSchema.keyTable); StackSchemaTest checks it -->\n";
  private static final String END = "<!-- stack-keys:end -->";
  static final String SCHEMA_LINE = "# yaml-language-server: $schema=../schema/stack.schema.json";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final boolean UPDATE = Boolean.getBoolean("schema.update");

  @Test
  void theCheckedInSchemaIsTheOneTheModelGenerates() throws IOException {
    if (UPDATE) {
      Files.createDirectories(SCHEMA.getParent());
      Files.writeString(SCHEMA, StackSchema.jsonSchema());
    }
    assertEquals(StackSchema.jsonSchema(), Files.readString(SCHEMA),
        SCHEMA + " is stale: regenerate it with mvn -Dschema.update=true -Dtest=StackSchemaTest verify");
  }

  @Test
  void readmesKeyTableIsTheOneTheModelGenerates() throws IOException {
    String readme = Files.readString(README);
    int begin = readme.indexOf(BEGIN);
    int end = readme.indexOf(END);
    assertTrue(begin >= 0 && end > begin, "README has no generated key table between " + BEGIN.strip() + " and " + END);
    String table = readme.substring(begin + BEGIN.length(), end);
    if (UPDATE) {
      Files.writeString(README, readme.substring(0, begin + BEGIN.length()) + StackSchema.keyTable() + readme.substring(end));
      table = StackSchema.keyTable();
    }
    assertEquals(StackSchema.keyTable(), table, "README's key table is stale: run with -Dschema.update=true");
  }

  @Test
  void everyStackFileNamesTheSchemaAndPassesIt() throws IOException {
    List<Path> files = new ArrayList<>(StackLoader.stackFiles(TestStacks.ROOT.resolve("stacks")));
    files.addAll(StackLoader.stackFiles(TestStacks.ROOT.resolve("src/test/resources/golden/stacks")));
    assertFalse(files.isEmpty());
    Schema schema = schema();
    for (Path f : files) {
      String text = Files.readString(f);
      if (f.startsWith(TestStacks.ROOT.resolve("stacks"))) {
        assertTrue(text.startsWith(SCHEMA_LINE + "\n") || text.contains("\n" + SCHEMA_LINE + "\n"),
            f + " does not name the schema (" + SCHEMA_LINE + ")");
      }
      List<Error> errors = schema.validate(YAML.readTree(text));
      assertEquals(List.of(), errors.stream().map(Error::toString).toList(), f.toString());
    }
  }

  @Test
  void everyReadmeYamlExamplePassesTheSchema() throws IOException {
    List<String> examples = TestStacks.yamlBlocks(Files.readString(README));
    assertTrue(examples.size() >= 2, "README's YAML examples: " + examples.size());
    Schema schema = schema();
    ObjectNode minimal = (ObjectNode) YAML.readTree(examples.get(0));
    assertTrue(minimal.has("nodes") && minimal.has("model"), "the first YAML example is the minimal stack");
    for (String example : examples) {
      JsonNode node = YAML.readTree(example);
      // A fragment (e.g. only state:) is checked as part of the minimal stack.
      if (!node.has("nodes")) {
        ObjectNode whole = minimal.deepCopy();
        whole.setAll((ObjectNode) node);
        node = whole;
      }
      assertEquals(List.of(), schema.validate(node).stream().map(Error::toString).toList(), example);
    }
  }

  @Test
  void theSchemaRefusesWhatTheLoaderRefuses() throws IOException {
    Schema schema = schema();
    String ok = TestStacks.cluster(1, 1, "");
    assertEquals(List.of(), schema.validate(YAML.readTree(ok)));
    for (String bad : List.of(
        ok.replace("gpus: 1}", "gpu: 1}"),
        ok.replace("port: 9001", "port: '9001'"),
        ok + "network: {firewall_backend: iptables}\n".replace("network:", "ray:"),
        ok.replace("role: head", "role: boss"),
        "model: {huggingface_repo: a/b}\n")) {
      assertFalse(schema.validate(YAML.readTree(bad)).isEmpty(), "the schema accepts:\n" + bad);
    }
  }

  private static Schema schema() throws IOException {
    return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7)
        .getSchema(Files.readString(SCHEMA), InputFormat.JSON);
  }
}
