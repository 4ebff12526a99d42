/**
 * Observability: {@link dev.vllmraycluster.monitoring.NodeMetrics} (node exporter and our textfile
 * collectors on every node) and {@link dev.vllmraycluster.monitoring.Prometheus} (the scrape
 * targets, alert rules and dashboards on one node), with monitoring on.
 */
package dev.vllmraycluster.monitoring;
