package dev.vllmraycluster.ssh;

import com.hierynomus.sshj.userauth.agent.AgentIdentity;
import com.hierynomus.sshj.userauth.agent.AgentProxy;
import com.hierynomus.sshj.userauth.agent.AuthAgent;
import com.hierynomus.sshj.userauth.agent.UnixSocketAgentConnection;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.schmizz.sshj.DefaultConfig;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.common.KeyType;
import net.schmizz.sshj.common.Message;
import net.schmizz.sshj.common.SSHPacket;
import net.schmizz.sshj.transport.TransportException;
import net.schmizz.sshj.userauth.UserAuthException;
import net.schmizz.sshj.userauth.keyprovider.KeyProvider;
import net.schmizz.sshj.userauth.method.AuthPublickey;

/**
 * Opens an authenticated SSH connection the way the OpenTofu provisioners do: the stack's key
 * file, else the keys in ssh-agent; the host key checked against the stack's pin, else
 * known_hosts. Every failure says what went wrong and what to do.
 */
public final class SshConnector {
  private final Duration connectTimeout;
  private final String agentSocket;

  /** Keys from the stack, else from the ssh-agent named by {@code SSH_AUTH_SOCK}. */
  public SshConnector(Duration connectTimeout) {
    this(connectTimeout, System.getenv("SSH_AUTH_SOCK"));
  }

  /**
   * @param agentSocket the ssh-agent's Unix socket for targets without a key file; null or blank:
   *     no agent
   */
  public SshConnector(Duration connectTimeout, String agentSocket) {
    this.connectTimeout = connectTimeout;
    this.agentSocket = agentSocket;
  }

  public SshShell connect(SshTarget target) throws SshFailure {
    HostKeys.Recording verifier = verifier(target);
    SSHClient client = new SSHClient(new DefaultConfig());
    client.addHostKeyVerifier(verifier);
    client.setConnectTimeout((int) connectTimeout.toMillis());
    client.setTimeout((int) Math.max(connectTimeout.toMillis(), 30_000));
    boolean done = false;
    try {
      connect(client, target, verifier);
      authenticate(client, target);
      done = true;
      return new SshShell(client, target);
    } finally {
      if (!done) {
        try {
          client.disconnect();
        } catch (IOException ignored) {
          // already failing; the failure below says why
        }
      }
    }
  }

  /**
   * The host key the server shows a client that asks for host key algorithms in the order
   * OpenTofu's SSH client (Go's x/crypto/ssh) does: ECDSA, then RSA, then Ed25519. OpenTofu checks
   * that key against the one key it is given, so a key of another type pinned here fails every
   * provisioner with "key mismatch". A handshake only: nothing is authenticated or run. Returns
   * {@code <type> <base64>}, or null when the handshake did not get that far.
   */
  public String keyShownToOpenTofu(SshTarget target) {
    DefaultConfig config = new DefaultConfig();
    List<net.schmizz.sshj.common.Factory.Named<com.hierynomus.sshj.key.KeyAlgorithm>> ordered = new ArrayList<>();
    for (String name : OPENTOFU_HOST_KEY_ORDER) {
      for (var f : config.getKeyAlgorithms()) {
        if (f.getName().equals(name)) {
          ordered.add(f);
        }
      }
    }
    config.setKeyAlgorithms(ordered);
    SSHClient client = new SSHClient(config);
    String[] shown = new String[1];
    client.addHostKeyVerifier(new net.schmizz.sshj.transport.verification.HostKeyVerifier() {
      @Override
      public boolean verify(String hostname, int port, java.security.PublicKey key) {
        shown[0] = HostKeys.openSsh(key);
        return false; // only looking: never go on with this connection
      }

      @Override
      public List<String> findExistingAlgorithms(String hostname, int port) {
        return List.of();
      }
    });
    client.setConnectTimeout((int) connectTimeout.toMillis());
    client.setTimeout((int) Math.max(connectTimeout.toMillis(), 30_000));
    try {
      client.connect(target.host(), target.port());
    } catch (IOException expected) {
      // the verifier refused on purpose
    } finally {
      try {
        client.disconnect();
      } catch (IOException ignored) {
        // nothing was opened
      }
    }
    return shown[0];
  }

  /** Host key algorithms in the order Go's x/crypto/ssh client (OpenTofu's) asks for them. */
  static final List<String> OPENTOFU_HOST_KEY_ORDER = List.of(
      "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
      "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa", "ssh-ed25519");

  private static HostKeys.Recording verifier(SshTarget target) throws SshFailure {
    if (target.hostKey() != null) {
      return new HostKeys.Pinned(target.hostKey());
    }
    try {
      return HostKeys.KnownHosts.load();
    } catch (IOException e) {
      throw new SshFailure("cannot read known_hosts: " + e.getMessage(),
          "fix ~/.ssh/known_hosts, or pin the host key in the stack (nodes[].ssh_host_key)", e);
    }
  }

  private void connect(SSHClient client, SshTarget target, HostKeys.Recording verifier)
      throws SshFailure {
    try {
      client.connect(target.host(), target.port());
    } catch (TransportException e) {
      if (verifier.refusal() != null) {
        throw new SshFailure(verifier.refusal(), verifier.fix(target), e);
      }
      throw new SshFailure("SSH handshake with " + target.host() + ":" + target.port() + " failed: "
          + e.getMessage(), "check that an SSH server answers there (ssh -p " + target.port() + " "
          + target.user() + "@" + target.host() + ")", e);
    } catch (UnknownHostException e) {
      throw new SshFailure("cannot resolve " + target.host(),
          "fix nodes[].ssh_host (or address), or add the name to DNS / /etc/hosts", e);
    } catch (SocketTimeoutException e) {
      throw new SshFailure("no answer from " + target.host() + ":" + target.port() + " within "
          + connectTimeout.toSeconds() + " s", unreachableFix(target), e);
    } catch (ConnectException | NoRouteToHostException e) {
      throw new SshFailure("cannot connect to " + target.host() + ":" + target.port() + ": "
          + e.getMessage(), unreachableFix(target), e);
    } catch (IOException e) {
      throw new SshFailure("cannot connect to " + target.host() + ":" + target.port() + ": " + e,
          unreachableFix(target), e);
    }
  }

  private static String unreachableFix(SshTarget target) {
    return "check that the host is up and sshd listens on port " + target.port()
        + ", that nodes[].ssh_host/ssh_port are right, and that no firewall blocks this machine";
  }

  private void authenticate(SSHClient client, SshTarget target) throws SshFailure {
    String user = target.user();
    if (target.privateKeyPath() != null) {
      Path key = Path.of(target.privateKeyPath());
      if (!Files.isReadable(key)) {
        throw new SshFailure("private key " + key + " is not readable here",
            "fix ssh.private_key_path (or nodes[].ssh_private_key_path), or drop it to use ssh-agent", null);
      }
      try {
        KeyProvider keys = client.loadKeys(key.toString());
        keys.getPrivate(); // an encrypted key fails here, before the host is asked
        client.auth(user, new AuthPublickey(keys));
        return;
      } catch (TransportException e) {
        throw new SshFailure("SSH connection lost while logging in: " + e.getMessage(),
            "try again; check the host's sshd log", e);
      } catch (UserAuthException e) {
        throw new SshFailure("the host refused key " + key + " for user " + user,
            "authorize the key on the host: ssh-copy-id -i " + key + ".pub -p " + target.port() + " "
                + user + "@" + target.host() + " (or fix ssh.user)", e);
      } catch (IOException e) {
        throw new SshFailure("cannot use private key " + key + ": " + e.getMessage(),
            "a passphrase-protected key must be loaded into ssh-agent (ssh-add " + key
                + ") with ssh.private_key_path removed from the stack", e);
      }
    }
    authenticateWithAgent(client, target);
  }

  /**
   * Logs in with the keys of the ssh-agent at {@link #agentSocket}, through SSHJ's own agent
   * client: the private keys never leave the agent, and RSA keys sign with rsa-sha2-256/512.
   */
  private void authenticateWithAgent(SSHClient client, SshTarget target) throws SshFailure {
    String user = target.user();
    if (agentSocket == null || agentSocket.isBlank()) {
      throw new SshFailure("no private key in the stack and no ssh-agent (SSH_AUTH_SOCK is not set)",
          "set ssh.private_key_path, or start ssh-agent and ssh-add your key", null);
    }
    AgentProxy agent;
    try {
      agent = new AgentProxy(new UnixSocketAgentConnection(agentSocket));
    } catch (IOException e) {
      throw new SshFailure("no private key in the stack and cannot reach ssh-agent at " + agentSocket + ": "
          + e.getMessage(), "start ssh-agent and ssh-add your key, or set ssh.private_key_path", e);
    }
    try {
      List<AgentKey> keys = new ArrayList<>();
      for (AgentIdentity identity : agent.getIdentities()) {
        keys.add(new AgentKey(agent, identity));
      }
      if (keys.isEmpty()) {
        throw new SshFailure("ssh-agent holds no keys",
            "ssh-add the key this host authorizes (a locked agent lists none: ssh-add -X unlocks it),"
                + " or set ssh.private_key_path", null);
      }
      try {
        client.auth(user, List.copyOf(keys));
      } catch (UserAuthException e) {
        for (AgentKey key : keys) {
          if (key.signFailure != null) {
            throw new SshFailure("ssh-agent refused to sign with " + key.describe()
                + ": a confirmation or touch it asked for did not come, or the key is restricted",
                "confirm the key's use when the agent asks (a key added with ssh-add -c), touch the"
                    + " security key, or add the key again without restrictions", e);
          }
        }
        throw new SshFailure("the host refused every ssh-agent key (" + keys.size() + ") for user " + user,
            "authorize one of them on the host (ssh-copy-id -p " + target.port() + " " + user + "@"
                + target.host() + "), or fix ssh.user", e);
      }
    } catch (TransportException e) {
      throw new SshFailure("SSH connection lost while logging in: " + e.getMessage(),
          "try again; check the host's sshd log", e);
    } catch (IOException e) {
      throw new SshFailure("ssh-agent at " + agentSocket + " failed: " + e.getMessage(),
          "restart ssh-agent and ssh-add your key, or set ssh.private_key_path", e);
    } finally {
      try {
        agent.close();
      } catch (IOException ignored) {
        // the agent was only needed to log in
      }
    }
  }

  /** SSHJ's agent-backed "publickey" method for one key, remembering when the agent would not sign. */
  private static final class AgentKey extends AuthAgent {
    private final AgentIdentity identity;
    private volatile UserAuthException signFailure;

    AgentKey(AgentProxy agent, AgentIdentity identity) {
      super(agent, identity);
      this.identity = identity;
    }

    @Override
    public void handle(Message cmd, SSHPacket buf) throws UserAuthException, TransportException {
      try {
        super.handle(cmd, buf);
      } catch (UserAuthException e) {
        if (cmd == Message.USERAUTH_60) { // the host accepted the key and asked for its signature
          signFailure = e;
        }
        throw e;
      }
    }

    String describe() {
      return "key " + KeyType.fromKey(identity.getPublicKey()) + " " + HostKeys.fingerprint(identity.getPublicKey())
          + " (" + identity.getComment() + ")";
    }
  }
}
