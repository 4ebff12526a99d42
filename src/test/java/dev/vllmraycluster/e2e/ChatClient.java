package dev.vllmraycluster.e2e;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded client of the cluster's API, as an application would be: one chat completion per
 * second from this machine, each bounded by {@link #TIMEOUT}, at most {@link #MAX_IN_FLIGHT} at a
 * time (a second without a free slot counts as a failed request). Every request is recorded, so
 * that a fault's outage can be read afterwards: which requests failed, and when one succeeded
 * again.
 */
final class ChatClient implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(10);
  static final int MAX_IN_FLIGHT = 12;

  /** One request: when it was sent and answered (ms since the epoch), and whether it succeeded. */
  record Request(long sentMs, long doneMs, boolean ok, String detail) {}

  private final HttpClient http;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "chat-client");
    t.setDaemon(true);
    return t;
  });
  private final List<Request> requests = new ArrayList<>();
  private final List<CompletableFuture<?>> pending = new ArrayList<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final URI uri;
  private final String key;
  private final String body;
  private int n;

  /** A client of {@code baseUrl} (https: the proxy's certificate checked with {@code caFile}). */
  ChatClient(String baseUrl, String key, String model, java.nio.file.Path caFile) {
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).sslContext(trusting(caFile)).build();
    this.uri = URI.create(baseUrl + "/v1/chat/completions");
    this.key = key;
    this.body = "{\"model\": \"" + model + "\", \"max_tokens\": 4, \"messages\": [{\"role\": \"user\", \"content\": \"%s\"}]}";
  }

  /** TLS that trusts exactly the cluster's CA (host names checked as usual). */
  static javax.net.ssl.SSLContext trusting(java.nio.file.Path caFile) {
    try (java.io.InputStream in = java.nio.file.Files.newInputStream(caFile)) {
      java.security.cert.Certificate ca = java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
      java.security.KeyStore store = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
      store.load(null, null);
      store.setCertificateEntry("cluster-ca", ca);
      javax.net.ssl.TrustManagerFactory tmf =
          javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
      throw new IllegalStateException("cannot trust the cluster's CA " + caFile, e);
    }
  }

  ChatClient start() {
    timer.scheduleAtFixedRate(this::send, 0, 1, TimeUnit.SECONDS);
    return this;
  }

  private void send() {
    long sent = System.currentTimeMillis();
    if (inFlight.get() >= MAX_IN_FLIGHT) {
      record(new Request(sent, sent, false, "client: " + MAX_IN_FLIGHT + " requests already in flight"));
      return;
    }
    inFlight.incrementAndGet();
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(TIMEOUT)
        .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.formatted("client request " + (n++)))).build();
    CompletableFuture<?> f = http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .handle((response, error) -> {
          inFlight.decrementAndGet();
          long done = System.currentTimeMillis();
          if (error != null) {
            record(new Request(sent, done, false, error.getClass().getSimpleName()));
          } else {
            boolean ok = response.statusCode() == 200 && response.body().contains("\"choices\"");
            record(new Request(sent, done, ok, "HTTP " + response.statusCode()));
          }
          return null;
        });
    synchronized (pending) {
      pending.removeIf(CompletableFuture::isDone);
      pending.add(f);
    }
  }

  private void record(Request r) {
    synchronized (requests) {
      requests.add(r);
    }
  }

  /** The requests sent from {@code fromMs} (inclusive) to {@code toMs} (exclusive), by send time. */
  List<Request> sentBetween(long fromMs, long toMs) {
    synchronized (requests) {
      return requests.stream().filter(r -> r.sentMs() >= fromMs && r.sentMs() < toMs)
          .sorted(java.util.Comparator.comparingLong(Request::sentMs)).toList();
    }
  }

  /** Blocks until a request sent after {@code afterMs} has been answered (bounded). */
  void awaitAnswerSentAfter(long afterMs, Duration timeout) {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    while (System.currentTimeMillis() < deadline) {
      synchronized (requests) {
        if (requests.stream().anyMatch(r -> r.sentMs() > afterMs)) {
          return;
        }
      }
      Sandbox.sleep(200);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    List<CompletableFuture<?>> left;
    synchronized (pending) {
      left = new ArrayList<>(pending);
    }
    try {
      CompletableFuture.allOf(left.toArray(CompletableFuture[]::new)).get(TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // bounded: what is still in flight after the timeout is not recorded
    }
  }
}
