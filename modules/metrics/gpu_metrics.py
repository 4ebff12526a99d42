"""GPU health as Prometheus text, for node exporter's textfile collector (modules/metrics).

Reads ``nvidia-smi -q -x`` (one XML document for every GPU: what ``nvidia-smi`` can say about
utilisation, memory, temperature, power, ECC errors, retired pages and remapped rows) and, when
given, kernel log lines of the NVIDIA driver (``NVRM: Xid (PCI:<bus id>): <xid>, ...``), and
prints ``vrc_gpu_*`` series, one set per GPU, labelled with its index (the order nvidia-smi lists
the GPUs in, as ``--query-gpu=index`` numbers them), its UUID and its name. A value nvidia-smi
reports as N/A (or not at all, on another driver) is left out, never written as 0.

Usage: python3 gpu_metrics.py [--xml FILE] [--xid-log FILE]
  --xml FILE      read the XML from FILE instead of running ``nvidia-smi -q -x``
  --xid-log FILE  kernel log lines to count Xid errors in (collect.sh passes this boot's)
Exit status 0 with the metrics on stdout; 1 with ``vrc_gpu_collector_success 0`` when nvidia-smi
fails or prints what this cannot read. Standard library only (it runs in the nodes' venv).
"""
import argparse
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

MIB = 1024 * 1024
XID = re.compile(r"NVRM: Xid \(PCI:([0-9A-Fa-f]{4}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2})[^)]*\): (\d+)")


def number(text, unit=None):
    """The number in an nvidia-smi value ('143771 MiB', '33 C', '77.72 W', '0 %'), or None."""
    if text is None:
        return None
    t = text.strip()
    if unit and t.endswith(unit):
        t = t[: -len(unit)].strip()
    try:
        return float(t)
    except ValueError:
        return None


def text(gpu, path):
    e = gpu.find(path)
    return None if e is None or e.text is None else e.text.strip()


def label(value) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


class Out:
    """Prometheus text exposition: HELP and TYPE once per family, then its samples."""

    def __init__(self):
        self.families = {}

    def add(self, name, kind, helptext, labels, value):
        if value is None:
            return
        fam = self.families.setdefault(name, (kind, helptext, []))
        fam[2].append((labels, value))

    def render(self) -> str:
        lines = []
        for name, (kind, helptext, samples) in self.families.items():
            lines.append("# HELP %s %s" % (name, helptext))
            lines.append("# TYPE %s %s" % (name, kind))
            for labels, value in samples:
                ls = ",".join('%s="%s"' % (k, label(v)) for k, v in labels.items())
                v = int(value) if float(value).is_integer() else value
                lines.append("%s{%s} %s" % (name, ls, v) if ls else "%s %s" % (name, v))
        return "\n".join(lines) + "\n"


def ecc_counts(section):
    """(uncorrected, corrected) summed over an <ecc_errors>/<volatile|aggregate> element, for both
    the older layout (single_bit/double_bit totals) and the newer (sram_*/dram_* counters)."""
    if section is None:
        return None, None
    unc = cor = None
    for e in section.iter():
        if e is section or len(e) or e.text is None:
            continue
        v = number(e.text)
        if v is None or e.tag == "total":
            continue  # single_bit/double_bit totals are read below
        if "uncorrectable" in e.tag:
            unc = (unc or 0) + v
        elif "correctable" in e.tag:
            cor = (cor or 0) + v
    for kind in ("double_bit", "single_bit"):
        t = section.find(kind + "/total")
        v = number(t.text) if t is not None and t.text else None
        if v is not None:
            if kind == "double_bit":
                unc = (unc or 0) + v
            else:
                cor = (cor or 0) + v
    return unc, cor


def bus_key(bus_id: str) -> str:
    """'00000000:00:06.0' (nvidia-smi) and '0000:00:06' (the kernel log) as one key: '00:06'."""
    parts = bus_id.lower().split(":")
    return ":".join(p.split(".")[0][-2:] for p in parts[-2:])


def collect(xml_text: str, xid_lines) -> Out:
    root = ET.fromstring(xml_text)
    out = Out()
    gpus = root.findall("gpu")
    driver = text(root, "driver_version") or ""
    out.add("vrc_gpu_count", "gauge", "GPUs nvidia-smi lists on this node.", {}, len(gpus))
    bus_to_gpu = {}
    for index, gpu in enumerate(gpus):
        ids = {"gpu": str(index), "uuid": text(gpu, "uuid") or "", "name": text(gpu, "product_name") or ""}
        bus = text(gpu, "pci/pci_bus_id") or gpu.get("id") or ""
        bus_to_gpu[bus_key(bus)] = ids
        out.add("vrc_gpu_info", "gauge", "One per GPU: its index, UUID, name, driver and PCI bus id.",
                dict(ids, driver=driver, pci_bus_id=bus), 1)
        out.add("vrc_gpu_utilization_ratio", "gauge", "Share of time a kernel ran on the GPU (nvidia-smi gpu_util).",
                ids, pct(text(gpu, "utilization/gpu_util")))
        out.add("vrc_gpu_memory_utilization_ratio", "gauge", "Share of time memory was read or written (mem_util).",
                ids, pct(text(gpu, "utilization/memory_util")))
        for what in ("total", "used", "reserved"):
            v = number(text(gpu, "fb_memory_usage/" + what), "MiB")
            out.add("vrc_gpu_memory_%s_bytes" % what, "gauge", "GPU framebuffer memory %s." % what, ids,
                    None if v is None else v * MIB)
        out.add("vrc_gpu_temperature_celsius", "gauge", "GPU core temperature.", ids,
                number(text(gpu, "temperature/gpu_temp"), "C"))
        out.add("vrc_gpu_memory_temperature_celsius", "gauge", "GPU memory (HBM) temperature.", ids,
                number(text(gpu, "temperature/memory_temp"), "C"))
        draw = number(text(gpu, "gpu_power_readings/instant_power_draw"), "W")
        if draw is None:
            draw = number(text(gpu, "gpu_power_readings/power_draw") or text(gpu, "power_readings/power_draw"), "W")
        out.add("vrc_gpu_power_draw_watts", "gauge", "Power drawn by the GPU now.", ids, draw)
        limit = number(text(gpu, "gpu_power_readings/current_power_limit")
                       or text(gpu, "power_readings/power_limit"), "W")
        out.add("vrc_gpu_power_limit_watts", "gauge", "The GPU's power limit.", ids, limit)
        ecc_on = (text(gpu, "ecc_mode/current_ecc") or "").lower() == "enabled"
        out.add("vrc_gpu_ecc_enabled", "gauge", "1 when ECC is on for the GPU's memory.", ids, 1 if ecc_on else 0)
        if ecc_on:
            for counter in ("volatile", "aggregate"):
                unc, cor = ecc_counts(gpu.find("ecc_errors/" + counter))
                out.add("vrc_gpu_ecc_errors", "gauge",
                        "ECC errors nvidia-smi counts: volatile since the driver loaded, aggregate over the GPU's life.",
                        dict(ids, counter=counter, type="uncorrected"), unc)
                out.add("vrc_gpu_ecc_errors", "gauge",
                        "ECC errors nvidia-smi counts: volatile since the driver loaded, aggregate over the GPU's life.",
                        dict(ids, counter=counter, type="corrected"), cor)
        for cause, path in (("single_bit", "retired_pages/multiple_single_bit_retirement/retired_count"),
                            ("double_bit", "retired_pages/double_bit_retirement/retired_count")):
            out.add("vrc_gpu_retired_pages", "gauge", "Memory pages retired (older GPUs).", dict(ids, cause=cause),
                    number(text(gpu, path)))
        rows = gpu.find("remapped_rows")
        if rows is not None:
            for kind, tag in (("correctable", "remapped_row_corr"), ("uncorrectable", "remapped_row_unc")):
                out.add("vrc_gpu_remapped_rows", "gauge", "Memory rows remapped after errors (Ampere and later).",
                        dict(ids, kind=kind), number(text(rows, tag)))
            out.add("vrc_gpu_remapped_rows_pending", "gauge", "1 when a row remap waits for a GPU reset.", ids,
                    yes(text(rows, "remapped_row_pending")))
            out.add("vrc_gpu_remapped_rows_failure", "gauge", "1 when a row remap failed: the GPU needs service.", ids,
                    yes(text(rows, "remapped_row_failure")))
    xids = {}
    for line in xid_lines:
        m = XID.search(line)
        if m:
            key = (bus_key(m.group(1)), m.group(2))
            xids[key] = xids.get(key, 0) + 1
    for (bus, xid), count in sorted(xids.items()):
        ids = bus_to_gpu.get(bus, {"gpu": "", "uuid": "", "name": ""})
        out.add("vrc_gpu_xid_errors", "gauge", "NVIDIA driver Xid errors in this boot's kernel log, by GPU and Xid.",
                dict(ids, pci_bus=bus, xid=xid), count)
    out.add("vrc_gpu_collector_success", "gauge", "1 when nvidia-smi answered and was read.", {}, 1)
    return out


def pct(value):
    v = number(value, "%")
    return None if v is None else v / 100.0


def yes(value):
    if value is None:
        return None
    return 1 if value.strip().lower() == "yes" else 0 if value.strip().lower() == "no" else None


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--xml")
    p.add_argument("--xid-log")
    a = p.parse_args()
    failed = "# HELP vrc_gpu_collector_success 1 when nvidia-smi answered and was read.\n" \
             "# TYPE vrc_gpu_collector_success gauge\nvrc_gpu_collector_success 0\n"
    try:
        if a.xml:
            with open(a.xml, encoding="utf-8") as f:
                xml_text = f.read()
        else:
            xml_text = subprocess.run(["nvidia-smi", "-q", "-x"], check=True, capture_output=True, text=True,
                                      timeout=30).stdout
        xid_lines = []
        if a.xid_log:
            with open(a.xid_log, encoding="utf-8", errors="replace") as f:
                xid_lines = f.readlines()
        out = collect(xml_text, xid_lines)
    except (OSError, subprocess.SubprocessError, ET.ParseError) as e:
        sys.stderr.write("gpu_metrics: %s\n" % e)
        sys.stdout.write(failed)
        return 1
    sys.stdout.write(out.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
