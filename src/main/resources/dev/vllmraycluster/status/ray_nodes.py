# Ray's nodes as the GCS knows them, one JSON object per line: {"ip", "state", "gpu_total",
# "gpu_used"}; run by `status` on the head in the venv, as the service user (Ray's token). The
# GPUs in use per node come from the autoscaler's cluster status (what `ray status` prints); when
# that is unavailable, from the node table without them ("gpu_used": null).
import json
import sys


def main() -> int:
    address = sys.argv[1]
    try:
        from ray.autoscaler.v2.sdk import get_cluster_status

        status = get_cluster_status(address)
        for n in list(status.active_nodes) + list(status.idle_nodes) + list(getattr(status, "failed_nodes", [])):
            total = used = 0.0
            for u in n.resource_usage.usage if n.resource_usage else []:
                if u.resource_name == "GPU":
                    total, used = u.total, u.used
            state = "ALIVE" if n in status.active_nodes or n in status.idle_nodes else "DEAD"
            print(json.dumps({"ip": n.ip_address, "state": state, "gpu_total": total, "gpu_used": used}))
        return 0
    except Exception as first:  # noqa: BLE001 - fall back to the node table
        try:
            from ray._raylet import GcsClient
            from ray.core.generated.gcs_pb2 import GcsNodeInfo

            nodes = GcsClient(address=address).get_all_node_info(timeout=10)
            for n in nodes.values():
                print(json.dumps({"ip": n.node_manager_address,
                                  "state": "ALIVE" if n.state == GcsNodeInfo.ALIVE else "DEAD",
                                  "gpu_total": float(dict(n.resources_total).get("GPU", 0.0)), "gpu_used": None}))
            return 0
        except Exception as second:  # noqa: BLE001 - say why on one line
            print(json.dumps({"error": " ".join(("%s; %s" % (first, second)).split())[:400]}))
            return 1


if __name__ == "__main__":
    sys.exit(main())
