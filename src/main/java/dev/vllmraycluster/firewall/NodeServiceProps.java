package dev.vllmraycluster.firewall;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.PartProps;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a service on one node needs besides {@link PartProps}: the node's {@link Firewall}, which it
 * starts after (nothing listens before the rules are in place), and the node's bootstrap, whose
 * venv it runs in and which it restarts with. Here rather than in {@code node} because it names
 * the {@link Firewall}, which is built on {@code node}.
 */
public interface NodeServiceProps extends PartProps {
  /** The node's firewall: the service starts after it. */
  Firewall firewall();

  /** The node's bootstrap: the service runs in its venv and restarts with it. */
  HostStep bootstrap();

  /** What the service starts after: the firewall, then {@code more}, then {@link #after()}. */
  default List<ITerraformDependable> afterFirewall(ITerraformDependable... more) {
    List<ITerraformDependable> all = new ArrayList<>();
    all.add(firewall().resource());
    all.addAll(List.of(more));
    all.addAll(after());
    return all;
  }

  /** For a props record's compact constructor: the firewall and the bootstrap are required. */
  static void requireParts(Firewall firewall, HostStep bootstrap) {
    Objects.requireNonNull(firewall, "firewall");
    Objects.requireNonNull(bootstrap, "bootstrap");
  }

  /**
   * The setters every service's props builder shares on top of {@link PartProps.Builder}.
   *
   * @param <B> the concrete builder
   */
  abstract class Builder<B extends Builder<B>> extends PartProps.Builder<B> {
    private Firewall firewall;
    private HostStep bootstrap;

    protected Builder() {}

    /** The firewall of the node the service runs on. Required. */
    public B firewall(Firewall v) {
      firewall = v;
      return self();
    }

    /** The bootstrap of that node. Required. */
    public B bootstrap(HostStep v) {
      bootstrap = v;
      return self();
    }

    protected Firewall firewall() {
      return firewall;
    }

    protected HostStep bootstrap() {
      return bootstrap;
    }
  }
}
