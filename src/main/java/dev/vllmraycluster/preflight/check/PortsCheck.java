package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.parse.ListeningPorts;
import dev.vllmraycluster.preflight.parse.ParseException;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.RaySpec;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ports Ray and vLLM will listen on are free, or held by this deployment's own units
 * ({@code vrc-*.service}, a re-deploy).
 */
public final class PortsCheck extends NodeCheck {
  @Override
  public String name() {
    return "ports";
  }

  @Override
  public String summary() {
    return "Ray/vLLM ports (6379, 8265, 9001, ...) free or already ours";
  }

  /** The pinned ports a node's services bind, by the stack key that sets each. */
  public static Map<Integer, String> required(ClusterSpec spec, NodeSpec node) {
    RaySpec r = spec.ray();
    Map<Integer, String> ports = new LinkedHashMap<>();
    if (node.role() == Role.HEAD) {
      ports.put(r.gcsPort(), "ray.gcs_port");
      ports.put(r.clientServerPort(), "ray.client_server_port");
      if (r.includeDashboard()) {
        ports.put(r.dashboardPort(), "ray.dashboard_port");
      }
      ports.put(spec.vllm().port(), "vllm.port");
      if (spec.vllm().proxy()) {
        ports.put(spec.vllm().backendPort(), "vllm.backend_port");
      }
    }
    ports.put(r.dashboardAgentPort(), "ray.dashboard_agent_port");
    ports.put(r.dashboardAgentGrpcPort(), "ray.dashboard_agent_grpc_port");
    ports.put(r.nodeManagerPort(), "ray.node_manager_port");
    ports.put(r.objectManagerPort(), "ray.object_manager_port");
    ports.put(r.runtimeEnvAgentPort(), "ray.runtime_env_agent_port");
    ports.put(r.metricsExportPort(), "ray.metrics_export_port");
    if (spec.monitoring().enabled()) {
      ports.put(spec.monitoring().nodeExporterPort(), "monitoring.node_exporter_port");
      if (node.name().equals(spec.monitoring().prometheusNodeOf(spec).name())) {
        ports.put(spec.monitoring().prometheusPort(), "monitoring.prometheus_port");
      }
    }
    return ports;
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    Map<Integer, String> wanted = required(ctx.spec(), f.node());
    List<ListeningPorts.Listener> listeners;
    try {
      listeners = ListeningPorts.parse(f.output(PreflightProbes.PORTS));
    } catch (ParseException e) {
      return warn(f, "cannot list listening ports: " + e.getMessage(),
          "install iproute2 (ss); ports " + wanted.keySet() + " must be free");
    }
    Map<String, List<Integer>> ours = new LinkedHashMap<>();
    List<String> taken = new ArrayList<>();
    List<String> unknown = new ArrayList<>();
    for (Map.Entry<Integer, String> w : wanted.entrySet()) {
      List<ListeningPorts.Process> holders = new ArrayList<>();
      boolean inUse = false;
      for (ListeningPorts.Listener l : listeners) {
        if (l.port() == w.getKey()) {
          inUse = true;
          holders.addAll(l.processes());
        }
      }
      if (!inUse) {
        continue;
      }
      String port = w.getKey() + " (" + w.getValue() + ")";
      if (holders.isEmpty()) {
        unknown.add(port);
      } else if (holders.stream().allMatch(p -> p.unit() != null && p.unit().startsWith(HostContract.Units.PREFIX))) {
        ours.computeIfAbsent(holders.get(0).unit(), k -> new ArrayList<>()).add(w.getKey());
      } else {
        ListeningPorts.Process p = holders.stream().filter(h -> h.unit() == null || !h.unit().startsWith(HostContract.Units.PREFIX)).findFirst().orElseThrow();
        taken.add(port + " by " + p.name() + " (pid " + p.pid() + (p.unit() == null ? "" : ", " + p.unit()) + ")");
      }
    }
    if (!taken.isEmpty()) {
      return fail(f, "in use: " + String.join("; ", taken),
          "stop what holds them, or move the port in the stack (the key in parentheses)");
    }
    if (!unknown.isEmpty()) {
      return fail(f, "in use by a process this user cannot see: " + String.join("; ", unknown),
          "check with sudo ss -tlnp on the host; free the port or move it in the stack");
    }
    if (ours.isEmpty()) {
      return ok(f, "free: " + compact(wanted.keySet()));
    }
    List<String> held = new ArrayList<>();
    ours.forEach((unit, ports) -> held.add(unit + " " + compact(ports)));
    int free = wanted.size() - ours.values().stream().mapToInt(List::size).sum();
    return ok(f, "held by this deployment: " + String.join("; ", held) + (free == 0 ? "" : "; " + free + " more free"));
  }

  private static String compact(java.util.Collection<Integer> ports) {
    return String.join(" ", ports.stream().map(String::valueOf).toList());
  }
}
