"""Which nodes the Ray cluster has alive, and their GPUs: the facts the vLLM unit's start and the
watchdog compare with the nodes the stack declares.

Usage: python ray_nodes.py HEAD_ADDRESS   (run in the venv, as the service user, with Ray's token
settings in the environment). Prints one line: ``alive=<n> gpus=<total> ips=<ip,ip,...>``, or
``error=<message>`` and exits 1 when the GCS does not answer. Ray's CLI has no dashboard-free way
to list node addresses (``ray list nodes`` needs the dashboard); GcsClient is what ``ray status``
itself uses.
"""
import sys


def main() -> int:
    try:
        from ray._raylet import GcsClient
        from ray.core.generated.gcs_pb2 import GcsNodeInfo

        nodes = GcsClient(address=sys.argv[1]).get_all_node_info(timeout=10)
    except Exception as e:  # the GCS is down or refuses us: say why on one line
        print("error=" + " ".join(str(e).split())[:300])
        return 1
    alive = [n for n in nodes.values() if n.state == GcsNodeInfo.ALIVE]
    ips = sorted({n.node_manager_address for n in alive})
    gpus = sum(float(dict(n.resources_total).get("GPU", 0.0)) for n in alive)
    print("alive=%d gpus=%g ips=%s" % (len(alive), gpus, ",".join(ips)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
