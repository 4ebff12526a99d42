package dev.vllmraycluster.ssh;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.pubkey.KeySetPublickeyAuthenticator;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;

/**
 * A real SSH server (Apache MINA SSHD) on 127.0.0.1 and a free port, for the login paths of the
 * unit tier: public-key login only, for the authorized keys given, and only with SHA-2 signatures
 * (no ssh-rsa/SHA-1, as current OpenSSH servers). It runs no commands.
 */
public final class LoopbackSshServer implements AutoCloseable {
  private final SshServer server;
  private final PublicKey hostKey;

  private LoopbackSshServer(SshServer server, PublicKey hostKey) {
    this.server = server;
    this.hostKey = hostKey;
  }

  /** @param authorizedKeys OpenSSH public key lines ({@code ssh-ed25519 AAAA... comment}) */
  public static LoopbackSshServer start(List<String> authorizedKeys) throws IOException, GeneralSecurityException {
    List<PublicKey> keys = new ArrayList<>();
    for (String line : authorizedKeys) {
      keys.add(AuthorizedKeyEntry.parseAuthorizedKeyEntry(line).resolvePublicKey(null, PublicKeyEntryResolver.FAILING));
    }
    SshServer server = SshServer.setUpDefaultServer();
    server.setHost("127.0.0.1");
    server.setPort(0);
    SimpleGeneratorHostKeyProvider hostKeys = new SimpleGeneratorHostKeyProvider();
    hostKeys.setAlgorithm(KeyUtils.EC_ALGORITHM);
    server.setKeyPairProvider(hostKeys);
    List<NamedFactory<Signature>> sha2 = List.of(BuiltinSignatures.ed25519, BuiltinSignatures.nistp256,
        BuiltinSignatures.rsaSHA512, BuiltinSignatures.rsaSHA256);
    server.setUserAuthFactories(List.of(new UserAuthPublicKeyFactory(sha2)));
    server.setPublickeyAuthenticator(new KeySetPublickeyAuthenticator("test", keys));
    server.start();
    PublicKey hostKey = hostKeys.loadKeys(null).iterator().next().getPublic();
    return new LoopbackSshServer(server, hostKey);
  }

  /** A login as {@code user} with the host key pinned, without a key file: ssh-agent. */
  SshTarget agentTarget(String user) {
    return new SshTarget("127.0.0.1", port(), user, null, hostKey());
  }

  public int port() {
    return server.getPort();
  }

  /** The host key as a stack pins it ({@code ecdsa-sha2-nistp256 AAAA...}). */
  public String hostKey() {
    return HostKeys.openSsh(hostKey);
  }

  @Override
  public void close() throws IOException {
    server.stop(true);
  }
}
