/** The host firewall of each node ({@link dev.vllmraycluster.firewall.Firewall}) and who may reach which port ({@link dev.vllmraycluster.firewall.Exposure}). */
package dev.vllmraycluster.firewall;
