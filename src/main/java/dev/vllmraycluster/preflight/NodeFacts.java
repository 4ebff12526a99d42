package dev.vllmraycluster.preflight;

import dev.vllmraycluster.preflight.parse.ParseException;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What was learned on one node: whether SSH worked (else why, and the fix), each probe's result,
 * and the node's clock against this machine's.
 */
public final class NodeFacts {
  private final NodeSpec node;
  private final String login;
  private final String sshError;
  private final String sshFix;
  private final Map<String, CommandResult> results = new LinkedHashMap<>();
  private Long clockOffsetMillis;
  private String keyShownToOpenTofu;
  private long clockUncertaintyMillis;

  private NodeFacts(NodeSpec node, String login, String sshError, String sshFix) {
    this.node = node;
    this.login = login;
    this.sshError = sshError;
    this.sshFix = sshFix;
  }

  public static NodeFacts connected(NodeSpec node, String login) {
    return new NodeFacts(node, login, null, null);
  }

  public static NodeFacts unreachable(NodeSpec node, String login, String error, String fix) {
    return new NodeFacts(node, login, error, fix);
  }

  public NodeSpec node() {
    return node;
  }

  /** {@code user@host:port}. */
  public String login() {
    return login;
  }

  public boolean reachable() {
    return sshError == null;
  }

  public String sshError() {
    return sshError;
  }

  public String sshFix() {
    return sshFix;
  }

  public NodeFacts put(String probe, CommandResult result) {
    results.put(probe, result);
    return this;
  }

  /** The probe's result, or null when it was not run. */
  public CommandResult result(String probe) {
    return results.get(probe);
  }

  /**
   * The standard output of a probe that ran and succeeded, for a parser; a {@link ParseException}
   * saying why there is none ({@link #why}) otherwise, so a check reports both the same way.
   */
  public String output(String probe) {
    CommandResult r = results.get(probe);
    if (r == null || !r.ok()) {
      throw new ParseException(why(r));
    }
    return r.stdout();
  }

  /** Why a probe's result is of no use: {@code not run}, or the failed command in brief. */
  public static String why(CommandResult r) {
    return r == null ? "not run" : r.brief();
  }

  public Map<String, CommandResult> results() {
    return results;
  }

  /** The host key the node shows OpenTofu's SSH client, or null when not known. */
  public String keyShownToOpenTofu() {
    return keyShownToOpenTofu;
  }

  public NodeFacts keyShownToOpenTofu(String key) {
    this.keyShownToOpenTofu = key;
    return this;
  }

  public NodeFacts clock(long offsetMillis, long uncertaintyMillis) {
    this.clockOffsetMillis = offsetMillis;
    this.clockUncertaintyMillis = uncertaintyMillis;
    return this;
  }

  /** The node's clock minus this machine's, or null when not measured. */
  public Long clockOffsetMillis() {
    return clockOffsetMillis;
  }

  public long clockUncertaintyMillis() {
    return clockUncertaintyMillis;
  }
}
