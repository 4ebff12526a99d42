# shellcheck shell=bash disable=SC2034
# wheel-cache: the per-host download cache of uv and pip (and the pinned uv itself), shared by every
# bootstrap of this host. It is its own step so that a bootstrap replaced for a new Ray or vLLM
# version finds the wheels it already had; only a destroy of the node removes it. The one file
# wheel-cache's apply.sh, check.sh and remove.sh source: it sets COMPONENT and HERE (this
# directory) and loads common/lib.sh.

readonly COMPONENT=wheel-cache
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=../common/lib.sh
source "$HERE/../common/lib.sh"

readonly WHEEL_CACHE_ENV_VARS=(CACHE_DIR)

# check_cache_dir: CACHE_DIR is deleted on destroy, so it must be a dedicated directory.
check_cache_dir() {
  [[ "$CACHE_DIR" =~ ^/[^/]+/[^/]+ && "$CACHE_DIR" != *..* && "$CACHE_DIR" != */ ]] ||
    die "CACHE_DIR '$CACHE_DIR' must be an absolute path two levels deep or more (default /var/cache/vllm-ray-cluster)"
  case "$CACHE_DIR" in
    /etc | /etc/* | /usr | /usr/* | /boot/* | /proc/* | /sys/* | /dev/* | /var/cache | /var/lib) die "CACHE_DIR '$CACHE_DIR' is a system path" ;;
  esac
}
