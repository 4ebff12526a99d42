package dev.vllmraycluster.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The {@code @default} that each builder method of the model documents (as AWS CDK documents its
 * props) is the default the record's constructor really gives: the javadoc is checked against
 * the one declaration, so the two cannot drift apart.
 */
class DefaultsDocTest {
  private static final Pattern RECORD = Pattern.compile("public record (\\w+)\\(");
  private static final Pattern SETTER =
      Pattern.compile("/\\*\\*(?:[^*]|\\*(?!/))*?@default ((?:[^*]|\\*(?!/))*?)\\*/\\s*public Builder (\\w+)\\(");

  @Test
  void everyDocumentedDefaultIsTheConstructorsDefault() throws Exception {
    String source = Files.readString(TestStacks.ROOT.resolve("src/main/java/dev/vllmraycluster/spec/ClusterSpec.java"));
    List<Integer> recordStarts = new ArrayList<>();
    List<String> recordNames = new ArrayList<>();
    Matcher r = RECORD.matcher(source);
    while (r.find()) {
      recordStarts.add(r.start());
      recordNames.add(r.group(1));
    }
    int checked = 0;
    Matcher m = SETTER.matcher(source);
    while (m.find()) {
      String record = null;
      for (int i = 0; i < recordStarts.size(); i++) {
        if (recordStarts.get(i) < m.start()) {
          record = recordNames.get(i);
        }
      }
      Class<?> type = record.equals("ClusterSpec") ? ClusterSpec.class : Class.forName(ClusterSpec.class.getName() + "$" + record);
      RecordComponent component = null;
      for (RecordComponent c : type.getRecordComponents()) {
        if (c.getName().equals(m.group(2))) {
          component = c;
        }
      }
      if (component == null) {
        continue; // a convenience setter (e.g. node(...)), not a field
      }
      String doc = m.group(1).replaceAll("\\s*\\n\\s*\\*\\s*", " ").strip();
      Object value = component.getAccessor().invoke(defaults(type));
      String where = record + "." + m.group(2) + ": @default " + doc;
      if (doc.startsWith("none") || doc.startsWith("nothing")) {
        assertTrue(value == null || value instanceof List<?> l && l.isEmpty(), where + " but the default is " + value);
      } else if (value == null || value.getClass().isRecord() || value instanceof List<?>) {
        continue; // derived from other fields, or a whole section: the doc says how
      } else {
        assertEquals(expected(doc), value instanceof YamlEnum e ? ((Enum<?>) e).name() : String.valueOf(value), where);
      }
      checked++;
    }
    assertTrue(checked > 40, "only " + checked + " @default tags checked");
  }

  /** The literal a {@code @default} text starts with: {@code {@value A#B}}, {@code {@link E#C}} or a word. */
  private static String expected(String doc) throws Exception {
    Matcher v = Pattern.compile("\\{@value (\\w+)#(\\w+)}").matcher(doc);
    if (v.lookingAt()) {
      return String.valueOf(Class.forName(ClusterSpec.class.getName() + "$" + v.group(1)).getField(v.group(2)).get(null));
    }
    Matcher l = Pattern.compile("\\{@link \\w+#(\\w+)}").matcher(doc);
    if (l.lookingAt()) {
      return l.group(1);
    }
    return doc.split("[\\s]+")[0].replaceAll("[:,]$", "");
  }

  private static Object defaults(Class<?> record) throws Exception {
    RecordComponent[] cs = record.getRecordComponents();
    Class<?>[] types = new Class<?>[cs.length];
    for (int i = 0; i < cs.length; i++) {
      types[i] = cs[i].getType();
    }
    Constructor<?> ctor = record.getDeclaredConstructor(types);
    return ctor.newInstance(new Object[cs.length]);
  }

  @Test
  void aLeftOutSectionIsItsDefaults() {
    ClusterSpec spec = ClusterSpec.builder().name("x").build();
    assertEquals(6379, spec.ray().gcsPort());
    assertNull(spec.model());
  }
}
