package dev.vllmraycluster.cli;

import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.ssh.CommandResult;
import dev.vllmraycluster.ssh.RemoteShell;
import dev.vllmraycluster.ssh.SshConnector;
import dev.vllmraycluster.ssh.SshFailure;
import dev.vllmraycluster.ssh.SshTarget;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code api-ca STACK}: the per-cluster CA certificate the head made for the API proxy, read over
 * SSH (host key checked as preflight checks it) and written to {@code --out} or printed. The CA's
 * private key never leaves the head; the certificate is public. {@code cdktf deploy} runs this
 * after the proxy step, into the file the stack's {@code api_ca_certificate} output names.
 */
@Command(
    name = "api-ca",
    description = {
      "The CA certificate clients pin for the API (the per-cluster CA the head made for the proxy's TLS),"
          + " read from the head over SSH: to --out FILE, or printed.",
      "Use it as: curl --cacert FILE https://<head>:<port>/v1/models"
    })
final class ApiCaCommand implements Callable<Integer> {
  private final Io io;

  @Mixin StackArgument stack;

  @Option(names = "--out", paramLabel = "FILE", description = "Write the certificate here (0644), replacing the file at once; without it, print it.")
  String out;

  @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "10",
      description = "How long to wait for the head's SSH server (default: ${DEFAULT-VALUE}).")
  int connectTimeoutSeconds;

  @Spec CommandSpec command;

  ApiCaCommand(Io io) {
    this.io = io;
  }

  @Override
  public Integer call() {
    Duration connectTimeout = Stacks.connectTimeout(connectTimeoutSeconds, command.commandLine());
    ClusterSpec spec = stack.load(io.err(), false);
    if (spec == null) {
      return ExitCodes.BAD_INPUT;
    }
    if (!spec.vllm().https() || spec.vllm().userCertificate()) {
      io.err().println("error: " + spec.name() + " has no CA of its own: "
          + (spec.vllm().https() ? "the proxy serves your certificate (vllm.tls_cert_path); clients check it with your CA"
              : "TLS is off (vllm.tls: false or vllm.proxy: false)"));
      return ExitCodes.FAILED;
    }
    String pem;
    try (RemoteShell shell = new SshConnector(connectTimeout).connect(SshTarget.of(spec.head()))) {
      CommandResult r = shell.run("cat " + HostContract.Tls.CA_CERT, Duration.ofSeconds(30));
      if (!r.ok()) {
        io.err().println("error: " + spec.head().name() + " has no " + HostContract.Tls.CA_CERT + " (" + r.brief()
            + "): deploy the stack first (cdktf deploy " + spec.name() + ")");
        return ExitCodes.FAILED;
      }
      pem = r.stdout();
    } catch (SshFailure e) {
      io.err().println("error: " + spec.head().name() + ": " + e.getMessage() + (e.fix() == null ? "" : "\n  fix: " + e.fix()));
      return ExitCodes.FAILED;
    } catch (Exception e) {
      io.err().println("error: " + spec.head().name() + ": " + e.getMessage());
      return ExitCodes.FAILED;
    }
    X509Certificate cert;
    try {
      cert = parse(pem);
    } catch (CertificateException e) {
      io.err().println("error: " + spec.head().name() + ":" + HostContract.Tls.CA_CERT + " is not a PEM certificate: " + e.getMessage());
      return ExitCodes.FAILED;
    }
    String fingerprint = fingerprint(cert);
    if (out == null || out.isBlank()) {
      io.out().print(pem);
      io.err().println("CA of " + spec.name() + ": " + cert.getSubjectX500Principal().getName() + ", SHA-256 " + fingerprint);
      return ExitCodes.OK;
    }
    Path target = Path.of(out.strip()).toAbsolutePath();
    try {
      Files.createDirectories(target.getParent());
      Path tmp = Files.createTempFile(target.getParent(), ".api-ca", ".crt");
      Files.writeString(tmp, pem);
      Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      io.err().println("error: cannot write " + target + ": " + e.getMessage());
      return ExitCodes.UNEXPECTED_STATE;
    }
    io.out().println("[" + spec.head().name() + "/proxy/ca] wrote " + target + ": " + cert.getSubjectX500Principal().getName()
        + ", SHA-256 " + fingerprint);
    return ExitCodes.OK;
  }

  static X509Certificate parse(String pem) throws CertificateException {
    if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
      throw new CertificateException("no BEGIN CERTIFICATE line");
    }
    return (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }

  static String fingerprint(X509Certificate cert) {
    try {
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
