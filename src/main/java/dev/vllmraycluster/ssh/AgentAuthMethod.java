package dev.vllmraycluster.ssh;

import java.io.IOException;
import net.schmizz.sshj.common.Buffer;
import net.schmizz.sshj.common.SSHPacket;
import net.schmizz.sshj.userauth.UserAuthException;
import net.schmizz.sshj.userauth.method.AbstractAuthMethod;

/**
 * SSH "publickey" authentication with one key held by ssh-agent: the signed request is sent
 * directly (RFC 4252 allows it), the agent signs it, and the private key never leaves the agent.
 * RSA keys sign with rsa-sha2-256, as current OpenSSH servers require.
 */
final class AgentAuthMethod extends AbstractAuthMethod {
  private final SshAgent agent;
  private final SshAgent.Identity identity;

  AgentAuthMethod(SshAgent agent, SshAgent.Identity identity) {
    super("publickey");
    this.agent = agent;
    this.identity = identity;
  }

  @Override
  protected SSHPacket buildReq() throws UserAuthException {
    String type = identity.type();
    boolean rsa = "ssh-rsa".equals(type);
    String algorithm = rsa ? "rsa-sha2-256" : type;
    SSHPacket req = super.buildReq().putBoolean(true).putString(algorithm).putString(identity.blob());
    byte[] signed = new Buffer.PlainBuffer()
        .putString(params.getTransport().getSessionID())
        .putBuffer(req)
        .getCompactData();
    try {
      byte[] signature = agent.sign(identity.blob(), signed, rsa ? SshAgent.RSA_SHA2_256 : 0);
      return req.putString(signature);
    } catch (IOException e) {
      throw new UserAuthException("ssh-agent: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "ssh-agent key " + identity.type() + " " + identity.fingerprint() + " (" + identity.comment() + ")";
  }
}
