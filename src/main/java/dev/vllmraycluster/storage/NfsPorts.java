package dev.vllmraycluster.storage;

import java.util.List;

/**
 * The ports an NFS server of ours listens on (each over TCP and UDP): the fixed NFS and rpcbind ports, and the ports
 * {@code modules/model-store} pins mountd, statd and lockd to (in {@code /etc/nfs.conf.d/}) so
 * that the firewall can name them instead of leaving them to rpcbind's random choice. The single
 * place these numbers come from: the firewall ({@code Exposure}) and the host's env file
 * ({@code NFS_*_PORT}) both read them. Below Linux's ephemeral range (32768+) and above Ray's
 * default worker range (10002-19999).
 */
public final class NfsPorts {
  public static final int NFS = 2049;
  public static final int RPCBIND = 111;
  public static final int MOUNTD = 20048;
  public static final int STATD = 20050;
  public static final int LOCKD = 20051;

  private NfsPorts() {}

  /** Every port of an NFS server of ours, by service name. */
  public static List<Named> all() {
    return List.of(
        new Named("NFS", NFS),
        new Named("rpcbind", RPCBIND),
        new Named("NFS mountd", MOUNTD),
        new Named("NFS statd", STATD),
        new Named("NFS lockd", LOCKD));
  }

  /** A port and the service behind it. */
  public record Named(String service, int port) {}
}
