package dev.vllmraycluster.ssh;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.connection.ConnectionException;
import net.schmizz.sshj.connection.channel.direct.Session;
import net.schmizz.sshj.connection.channel.direct.Signal;

/** Commands over one authenticated SSH connection (SSHJ), one session channel per command. */
public final class SshShell implements RemoteShell {
  static final int MAX_OUTPUT = 1 << 20;

  private final SSHClient client;
  private final SshTarget target;

  SshShell(SSHClient client, SshTarget target) {
    this.client = client;
    this.target = target;
  }

  @Override
  public CommandResult run(String command, String stdin, Duration timeout) {
    long started = System.nanoTime();
    Session session = null;
    boolean timedOut = false;
    try {
      session = client.startSession();
      Session.Command cmd = session.exec(command);
      try (OutputStream in = cmd.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
          in.flush();
        }
      }
      Reader out = new Reader(cmd.getInputStream(), "ssh-stdout-" + target.host());
      Reader err = new Reader(cmd.getErrorStream(), "ssh-stderr-" + target.host());
      try {
        cmd.join(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ConnectionException e) {
        if (!cmd.isOpen()) {
          throw e;
        }
        timedOut = true;
        try {
          cmd.signal(Signal.KILL);
        } catch (IOException ignored) {
          // best effort: the server may not support signals; the channel is closed below
        }
      }
      String o = out.text(timedOut ? 200 : 2000);
      String e = err.text(timedOut ? 200 : 2000);
      Integer status = cmd.getExitStatus();
      int code = timedOut || status == null ? CommandResult.NO_EXIT : status;
      if (timedOut) {
        e = e + (e.isEmpty() ? "" : "\n") + "timed out after " + timeout.toSeconds() + " s";
      }
      return new CommandResult(code, o, e, timedOut, Duration.ofNanos(System.nanoTime() - started));
    } catch (IOException e) {
      return new CommandResult(CommandResult.NO_EXIT, "", "ssh: " + e.getMessage(), false,
          Duration.ofNanos(System.nanoTime() - started));
    } finally {
      close(session, timedOut);
    }
  }

  /**
   * Closing a channel waits for the host to confirm, which a command that ignores its kill signal
   * (a child still holding the output open) delays: after a timeout that wait happens aside.
   */
  private static void close(Session session, boolean inBackground) {
    if (session == null) {
      return;
    }
    Runnable close = () -> {
      try {
        session.close();
      } catch (IOException ignored) {
        // the channel is gone either way
      }
    };
    if (inBackground) {
      Thread t = new Thread(close, "ssh-close");
      t.setDaemon(true);
      t.start();
    } else {
      close.run();
    }
  }

  @Override
  public String describe() {
    return target.toString();
  }

  @Override
  public void close() {
    try {
      client.disconnect();
    } catch (IOException ignored) {
      // closing: nothing left to do with this connection
    }
  }

  /** Drains one stream on its own thread, keeping at most {@link #MAX_OUTPUT} bytes. */
  private static final class Reader {
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final Thread thread;

    Reader(InputStream in, String name) {
      thread = new Thread(() -> drain(in), name);
      thread.setDaemon(true);
      thread.start();
    }

    private void drain(InputStream in) {
      byte[] chunk = new byte[8192];
      try {
        int n;
        while ((n = in.read(chunk)) > 0) {
          synchronized (buffer) {
            int room = MAX_OUTPUT - buffer.size();
            if (room > 0) {
              buffer.write(chunk, 0, Math.min(room, n));
            }
          }
        }
      } catch (IOException ignored) {
        // the channel closed: what was read so far is the output
      }
    }

    String text(long waitMillis) {
      try {
        thread.join(waitMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      synchronized (buffer) {
        return buffer.toString(StandardCharsets.UTF_8);
      }
    }
  }
}
