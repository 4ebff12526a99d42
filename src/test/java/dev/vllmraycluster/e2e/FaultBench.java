package dev.vllmraycluster.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What each fault of the day-two test cost, measured while {@link ChatClient} sent one request per
 * second: when our machinery noticed it, when a chat completion succeeded again, and how many
 * requests failed. Figures only: no test asserts on them (bench/faults writes them to
 * bench/results/faults.md).
 */
final class FaultBench {
  /**
   * @param detectedBy what noticed the fault first (from the hosts' journals), or "—"
   * @param detectSeconds fault → that first reaction, or null
   * @param recoverSeconds fault → first successful completion after the failed ones; 0 when none
   *     failed; null when no request was sent
   */
  record Row(String fault, String detectedBy, Double detectSeconds, Double recoverSeconds, int failed, int sent, String note) {}

  private final List<Row> rows = new ArrayList<>();

  /**
   * Adds the row of a fault injected at {@code t0Ms} and over (the cluster answered and showed
   * every node again) at {@code endMs}, from the client's requests sent in between.
   */
  Row record(String fault, ChatClient client, long t0Ms, long endMs, String detectedBy, Long detectedMs, String note) {
    List<ChatClient.Request> sent = client == null ? List.of() : client.sentBetween(t0Ms, endMs);
    int failed = (int) sent.stream().filter(r -> !r.ok()).count();
    Double recover = null;
    if (!sent.isEmpty()) {
      recover = 0.0;
      long lastFailed = sent.stream().filter(r -> !r.ok()).mapToLong(ChatClient.Request::sentMs).max().orElse(-1);
      if (lastFailed >= 0) {
        recover = sent.stream().filter(r -> r.ok() && r.sentMs() > lastFailed).mapToLong(ChatClient.Request::doneMs)
            .min().stream().mapToDouble(ms -> (ms - t0Ms) / 1000.0).boxed().findFirst().orElse(null);
      }
    }
    Double detect = detectedMs == null ? null : Math.max(0, detectedMs - t0Ms) / 1000.0;
    Row row = new Row(fault, detectedBy, detect, recover, failed, sent.size(), note);
    synchronized (rows) {
      rows.add(row);
    }
    System.out.println("[e2e] fault figures: " + row);
    return row;
  }

  List<Row> rows() {
    synchronized (rows) {
      return List.copyOf(rows);
    }
  }

  String markdown(String header) {
    StringBuilder sb = new StringBuilder();
    sb.append("# bench/faults (").append(LocalDate.now()).append(", ").append(header).append(")\n\n");
    sb.append("| fault | detected by | detected after (s) | chat answered again after (s) | failed requests / sent |\n");
    sb.append("|---|---|---|---|---|\n");
    for (Row r : rows()) {
      sb.append("| ").append(r.fault()).append(r.note() == null ? "" : " (" + r.note() + ")")
          .append(" | ").append(r.detectedBy())
          .append(" | ").append(num(r.detectSeconds()))
          .append(" | ").append(r.recoverSeconds() == null ? "—" : r.failed() == 0 ? "no failed request" : num(r.recoverSeconds()))
          .append(" | ").append(r.sent() == 0 ? "—" : r.failed() + " / " + r.sent())
          .append(" |\n");
    }
    return sb.toString();
  }

  void write(Path file, String header, String footer) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, markdown(header) + "\n" + footer);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  private static String num(Double d) {
    return d == null ? "—" : String.format(Locale.ROOT, "%.1f", d);
  }
}
