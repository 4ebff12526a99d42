"""The watchdog's last probe as Prometheus text, for node exporter's textfile collector.

The watchdog (modules/watchdog, on the head) writes its outcome to
/var/lib/vllm-ray-cluster/watchdog.status as KEY=value lines (STATE, DETAIL, FAILURES, RESTARTS,
LAST_PROBE, LAST_OK, LAST_RESTART, INTERVAL_SECONDS, FAILURES_BEFORE_RESTART; see
docs/host-contract.md). This turns them into ``vrc_watchdog_*`` series: the API canary's outcome
(its last probe's one-token completion answered: ``vrc_watchdog_canary_ok``) and latency, the
restarts, the state. Standard library only.

Usage: python3 watchdog_metrics.py STATUS_FILE
"""
import re
import sys

STATES = ("ok", "degraded", "starting", "failing", "restarted", "waiting-for-ray", "paused", "absent")
LATENCY = re.compile(r"completion: HTTP 200 in (\d+) ms")


def read(path: str) -> dict:
    status = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            key, sep, value = line.rstrip("\n").partition("=")
            if sep and re.fullmatch(r"[A-Z_]+", key):
                status[key] = value.strip()
    return status


def number(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def render(status: dict) -> str:
    out = []

    def metric(name, helptext, samples):
        samples = [(labels, v) for labels, v in samples if v is not None]
        if not samples:
            return
        out.append("# HELP %s %s" % (name, helptext))
        out.append("# TYPE %s gauge" % name)
        for labels, v in samples:
            out.append("%s%s %s" % (name, labels, v))

    state = status.get("STATE", "")
    last_probe = number(status.get("LAST_PROBE"))
    last_ok = number(status.get("LAST_OK"))
    metric("vrc_watchdog_state", "The watchdog's state after its last probe (1 for the current one).",
           [('{state="%s"}' % s, 1 if s == state else 0) for s in STATES])
    canary = None
    if state in ("ok", "degraded", "failing", "restarted", "waiting-for-ray") and last_probe:
        canary = 1 if last_ok == last_probe else 0
    metric("vrc_watchdog_canary_ok", "1 when the last probe's one-token chat completion through the API answered.",
           [("", canary)])
    m = LATENCY.search(status.get("DETAIL", ""))
    metric("vrc_watchdog_canary_latency_seconds", "How long the last answered canary completion took.",
           [("", None if not m or canary != 1 else int(m.group(1)) / 1000.0)])
    metric("vrc_watchdog_consecutive_failures", "Failed canary completions in a row.",
           [("", number(status.get("FAILURES")))])
    metric("vrc_watchdog_restarts", "vLLM restarts by the watchdog since its configuration last changed.",
           [("", number(status.get("RESTARTS")))])
    metric("vrc_watchdog_last_probe_timestamp_seconds", "When the watchdog last probed (Unix time).",
           [("", last_probe)])
    metric("vrc_watchdog_last_ok_timestamp_seconds", "When a canary completion last answered (Unix time).",
           [("", last_ok or None)])
    metric("vrc_watchdog_last_restart_timestamp_seconds", "When the watchdog last restarted vLLM (Unix time).",
           [("", number(status.get("LAST_RESTART")))])
    metric("vrc_watchdog_interval_seconds", "Seconds between the watchdog's probes.",
           [("", number(status.get("INTERVAL_SECONDS")))])
    return "\n".join(out) + "\n"


def main() -> int:
    if len(sys.argv) != 2:
        sys.stderr.write("usage: watchdog_metrics.py STATUS_FILE\n")
        return 2
    try:
        status = read(sys.argv[1])
    except OSError as e:
        sys.stderr.write("watchdog_metrics: %s\n" % e)
        return 1
    sys.stdout.write(render(status))
    return 0


if __name__ == "__main__":
    sys.exit(main())
