package dev.vllmraycluster.ssh;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal ssh-agent client (the protocol of draft-miller-ssh-agent): list the identities and
 * ask for a signature. The private keys never leave the agent. Talks over the Unix socket named by
 * {@code SSH_AUTH_SOCK} with Java's own Unix domain sockets (no native library).
 */
public final class SshAgent implements Closeable {
  static final byte FAILURE = 5;
  static final byte REQUEST_IDENTITIES = 11;
  static final byte IDENTITIES_ANSWER = 12;
  static final byte SIGN_REQUEST = 13;
  static final byte SIGN_RESPONSE = 14;
  /** Flag of a sign request: an RSA key signs with rsa-sha2-256. */
  static final int RSA_SHA2_256 = 2;
  private static final int MAX_MESSAGE = 256 * 1024;

  private final SocketChannel channel;

  private SshAgent(SocketChannel channel) {
    this.channel = channel;
  }

  /** The agent of {@code SSH_AUTH_SOCK}, or null when that variable is not set. */
  public static SshAgent fromEnvironment() throws IOException {
    String socket = System.getenv("SSH_AUTH_SOCK");
    return socket == null || socket.isBlank() ? null : connect(Path.of(socket));
  }

  public static SshAgent connect(Path socket) throws IOException {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      channel.connect(UnixDomainSocketAddress.of(socket));
    } catch (IOException e) {
      channel.close();
      throw new IOException("cannot reach ssh-agent at " + socket + ": " + e.getMessage(), e);
    }
    return new SshAgent(channel);
  }

  /** One key the agent holds: the public key blob and its comment. */
  public record Identity(byte[] blob, String comment) {
    /** The key type, the first string of the blob (e.g. {@code ssh-ed25519}). */
    public String type() {
      ByteBuffer b = ByteBuffer.wrap(blob);
      return new String(string(b), StandardCharsets.US_ASCII);
    }

    public String fingerprint() {
      return HostKeys.fingerprint(blob);
    }
  }

  public synchronized List<Identity> identities() throws IOException {
    ByteBuffer reply = call(new byte[] {REQUEST_IDENTITIES});
    byte type = reply.get();
    if (type != IDENTITIES_ANSWER) {
      throw new IOException("ssh-agent answered " + type + " to a list request");
    }
    int count = reply.getInt();
    List<Identity> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] blob = string(reply);
      String comment = new String(string(reply), StandardCharsets.UTF_8);
      out.add(new Identity(blob, comment));
    }
    return out;
  }

  /**
   * A signature of {@code data} by the key {@code blob}, encoded as the SSH wire format of a
   * signature (string algorithm, string signature).
   */
  public synchronized byte[] sign(byte[] blob, byte[] data, int flags) throws IOException {
    ByteArrayOutputStream req = new ByteArrayOutputStream();
    req.write(SIGN_REQUEST);
    putString(req, blob);
    putString(req, data);
    putInt(req, flags);
    ByteBuffer reply = call(req.toByteArray());
    byte type = reply.get();
    if (type == FAILURE) {
      throw new IOException("ssh-agent refused to sign (key locked, or a confirmation was declined)");
    }
    if (type != SIGN_RESPONSE) {
      throw new IOException("ssh-agent answered " + type + " to a sign request");
    }
    return string(reply);
  }

  private ByteBuffer call(byte[] message) throws IOException {
    ByteBuffer out = ByteBuffer.allocate(4 + message.length);
    out.putInt(message.length).put(message).flip();
    while (out.hasRemaining()) {
      channel.write(out);
    }
    ByteBuffer len = read(4);
    int n = len.getInt();
    if (n <= 0 || n > MAX_MESSAGE) {
      throw new IOException("ssh-agent sent a message of " + n + " bytes");
    }
    return read(n);
  }

  private ByteBuffer read(int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (channel.read(b) < 0) {
        throw new IOException("ssh-agent closed the connection");
      }
    }
    return b.flip();
  }

  static byte[] string(ByteBuffer b) {
    int n = b.getInt();
    if (n < 0 || n > b.remaining()) {
      throw new IllegalArgumentException("malformed ssh-agent message");
    }
    byte[] out = new byte[n];
    b.get(out);
    return out;
  }

  private static void putString(ByteArrayOutputStream out, byte[] s) {
    putInt(out, s.length);
    out.writeBytes(s);
  }

  private static void putInt(ByteArrayOutputStream out, int v) {
    out.write(v >>> 24);
    out.write(v >>> 16);
    out.write(v >>> 8);
    out.write(v);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
