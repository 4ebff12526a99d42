# shellcheck shell=bash
# The VM image every sandbox VM boots: Debian bookworm made with debootstrap (kernel and initramfs
# from Debian's linux-image-cloud-amd64), root on an ext4 disk image, plus the local apt repository
# the VMs install the NFS packages from. Built once and cached. Sourced by sandbox/vm/vm.

# What a GPU server image would already have (as the container rootfs), plus a kernel. The NFS
# packages are deliberately absent: modules/model-store installs them from the repository below.
IMAGE_PACKAGES=(systemd systemd-sysv dbus udev kmod initramfs-tools linux-image-cloud-amd64
  openssh-server openssh-sftp-server openssh-client iproute2 python3 python3-venv python3-dev gcc g++
  sudo nftables procps curl ca-certificates iputils-ping less netbase e2fsprogs)
# What modules/model-store installs with apt: served to the VMs from the deploy machine.
REPO_PACKAGES=(nfs-kernel-server nfs-common)
# Bump when image_customize or the seed changes, so that cached images are rebuilt.
IMAGE_LAYOUT=3
IMAGE_SIZE=8G

standin_digest() {
  (cd "$STANDIN_DIR" && find . -type f ! -path './build/*' ! -path './dist/*' ! -path '*.egg-info/*' \
    ! -path '*__pycache__*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}

standin_version() {
  sed -n 's/^version *= *"\(.*\)"/\1/p' "$STANDIN_DIR/pyproject.toml" | head -n 1
}

image_spec() {
  echo "suite=$SUITE layout=$IMAGE_LAYOUT packages=${IMAGE_PACKAGES[*]} repo=${REPO_PACKAGES[*]}" \
    "ray=$RAY_VERSION standin=$(standin_version)@$(standin_digest)"
}

image_ready() {
  [[ -f $IMAGE_DIR/complete && "$(cat "$IMAGE_DIR/complete")" == "$(image_spec)" &&
    -f $IMAGE_DIR/base.raw && -f $IMAGE_DIR/vmlinuz && -f $IMAGE_DIR/initrd.img &&
    -f $IMAGE_DIR/repo/Packages ]]
}

# image_in_use: a running VM (of any index) has a disk backed by the image.
image_in_use() {
  local pidf
  for pidf in "$STATE"/i*/hosts/*/qemu.pid; do
    [[ -f $pidf ]] || continue
    pid_alive "$(read_pid "$pidf")" qemu-system && return 0
  done
  return 1
}

ensure_image() {
  exec 8>"$STATE/image.lock"
  flock -w 1800 8 || die "image: another build held $STATE/image.lock for 30 minutes"
  if image_ready; then
    log "image: cached at $IMAGE_DIR"
    exec 8>&-
    return 0
  fi
  image_in_use && die "image: $IMAGE_DIR is outdated but VMs use it: run 'sandbox/vm/vm down' (every VRC_VM_INDEX) first"
  build_image
  exec 8>&-
}

chroot_mounts() {
  local r="$1"
  mount -t proc proc "$r/proc"
  mount -t sysfs sysfs "$r/sys"
  mount --bind /dev "$r/dev"
}

chroot_unmounts() {
  local r="$1" m
  for m in dev sys proc; do
    if mountpoint -q "$r/$m"; then umount -l "$r/$m" 2>/dev/null || true; fi
  done
}

build_image() {
  local t0 r="$IMAGE_DIR/root.partial" include kver
  t0="$(now)"
  chroot_unmounts "$r"
  rm -rf --one-file-system "$IMAGE_DIR"
  mkdir -p "$IMAGE_DIR"
  include="$(IFS=,; echo "${IMAGE_PACKAGES[*]}")"
  log "image: debootstrap $SUITE (minbase + kernel) from $MIRROR (log: $IMAGE_DIR/build.log)..."
  if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$r" "$MIRROR" >"$IMAGE_DIR/build.log" 2>&1; then
    chroot_unmounts "$r"
    tail -n 15 "$IMAGE_DIR/build.log" >&2
    die "image: debootstrap failed (see $IMAGE_DIR/build.log)"
  fi
  chroot_unmounts "$r"
  cp /etc/resolv.conf "$r/etc/resolv.conf"
  chroot_mounts "$r"
  if ! { image_repo "$r" && image_venv "$r"; } >>"$IMAGE_DIR/build.log" 2>&1; then
    chroot_unmounts "$r"
    tail -n 15 "$IMAGE_DIR/build.log" >&2
    die "image: preparing the repository or the venv failed (see $IMAGE_DIR/build.log)"
  fi
  chroot_unmounts "$r"
  image_customize "$r"
  kver="$(find "$r/boot" -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n 1)"
  [[ -n $kver && -f $r/boot/initrd.img-$kver ]] || die "image: no kernel and initramfs in $r/boot"
  cp "$r/boot/vmlinuz-$kver" "$IMAGE_DIR/vmlinuz"
  cp "$r/boot/initrd.img-$kver" "$IMAGE_DIR/initrd.img"
  log "image: ext4 root image ($IMAGE_SIZE, sparse) from the tree..."
  mke2fs -q -t ext4 -L vrcroot -d "$r" "$IMAGE_DIR/base.raw" "$IMAGE_SIZE" >>"$IMAGE_DIR/build.log" 2>&1 ||
    die "image: mke2fs -d failed (see $IMAGE_DIR/build.log)"
  chmod 0444 "$IMAGE_DIR/base.raw"
  rm -rf --one-file-system "$r"
  image_spec >"$IMAGE_DIR/complete"
  log "image: built in $(($(now) - t0)) s (kernel $kver, $(du -sh "$IMAGE_DIR/base.raw" | cut -f1) used)"
}

# image_repo ROOT: the .debs REPO_PACKAGES need on top of the image, as a flat apt repository.
image_repo() {
  local r="$1" repo="$IMAGE_DIR/repo" f
  mkdir -p "$r/var/cache/vrc-repo/partial" "$repo"
  chroot "$r" apt-get -q update
  chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --download-only \
    --no-install-recommends -o Dir::Cache::archives=/var/cache/vrc-repo/ "${REPO_PACKAGES[@]}"
  mv "$r"/var/cache/vrc-repo/*.deb "$repo/"
  rm -rf "$r/var/cache/vrc-repo" "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin
  (cd "$repo" && dpkg-scanpackages -m . /dev/null >Packages 2>/dev/null && gzip -9kf Packages)
  {
    echo "Origin: vrc-sandbox-vm"
    echo "Label: vrc-sandbox-vm"
    echo "Suite: $SUITE"
    echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
    echo "SHA256:"
    for f in Packages Packages.gz; do echo " $(sha256sum "$repo/$f" | cut -d' ' -f1) $(stat -c %s "$repo/$f") $f"; done
  } >"$repo/Release"
  echo "repo: $(find "$repo" -name '*.deb' | wc -l) packages"
}

# image_venv ROOT: the venv a bootstrap would make (Ray and the vLLM stand-in, which brings
# huggingface_hub as real vLLM does), from wheels kept in the image for an offline reinstall.
image_venv() {
  local r="$1" tmp w v platforms=()
  tmp="$(mktemp -d)"
  cp -a "$STANDIN_DIR" "$tmp/src"
  rm -rf "$tmp/src/build" "$tmp/src/dist" "$tmp/src"/*.egg-info
  python3 -m pip wheel --no-deps -w "$tmp/out" "$tmp/src"
  w="$(find "$tmp/out" -maxdepth 1 -name 'vllm-*.whl' -print -quit)"
  [[ -n $w ]] || { rm -rf "$tmp"; echo "no stand-in wheel built" >&2; return 1; }
  mkdir -p "$r$VM_WHEELS"
  cp "$w" "$r$VM_WHEELS/"
  rm -rf "$tmp"
  # Downloaded here (this machine's pip settings reach PyPI), for the image's CPython 3.11.
  platforms=(--platform manylinux2014_x86_64)
  for ((v = 17; v <= 36; v++)); do platforms+=(--platform "manylinux_2_${v}_x86_64"); done
  python3 -m pip download -q --only-binary=:all: --python-version 3.11 --implementation cp \
    "${platforms[@]}" -d "$r$VM_WHEELS" "ray[default]==$RAY_VERSION" "$r$VM_WHEELS/$(basename "$w")"
  chroot "$r" python3 -m venv "$VM_VENV"
  chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$VM_VENV/bin/python" -m pip install -q --no-index --find-links "$VM_WHEELS" \
    "ray[default]==$RAY_VERSION" "vllm==$(standin_version)"
  chroot "$r" "$VM_VENV/bin/hf" version
}

image_customize() {
  local r="$1" unit
  sshd_image_setup "$r" '# Sandbox VM: one ed25519 host key (pinned by the stack file), keys only.'
  echo 'LABEL=vrcroot / ext4 rw,relatime,errors=remount-ro 0 1' >"$r/etc/fstab"
  : >"$r/etc/resolv.conf"
  : >"$r/etc/machine-id"
  echo 'LANG=C.UTF-8' >"$r/etc/default/locale"
  # No internet: no apt timers; no VGA console. The serial console keeps a getty for debugging.
  for unit in apt-daily.timer apt-daily-upgrade.timer getty@tty1.service e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer; do
    ln -sfn /dev/null "$r/etc/systemd/system/$unit"
  done
  chroot "$r" systemctl enable systemd-networkd.service >/dev/null 2>&1
  # The per-VM seed disk (hostname, address, host key, authorized key, apt source).
  cat >"$r/usr/local/sbin/vrc-seed" <<'SEED'
#!/bin/sh
# Written by sandbox/vm/vm: copy this VM's own files from its seed disk (label vrcseed) into /.
set -eu
mnt=/run/vrc-seed
mkdir -p "$mnt"
mount -o ro LABEL=vrcseed "$mnt"
cp -a "$mnt/files/." /
umount "$mnt"
hostname "$(cat /etc/hostname)"
SEED
  chmod 0755 "$r/usr/local/sbin/vrc-seed"
  cat >"$r/etc/systemd/system/vrc-seed.service" <<'UNIT'
[Unit]
Description=Sandbox VM seed: hostname, address, SSH host key, authorized key, apt source
DefaultDependencies=no
Requires=dev-disk-by\x2dlabel-vrcseed.device
After=dev-disk-by\x2dlabel-vrcseed.device local-fs.target
Before=sysinit.target network-pre.target systemd-networkd.service ssh.service
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/vrc-seed

[Install]
WantedBy=sysinit.target
UNIT
  chroot "$r" systemctl enable vrc-seed.service >/dev/null 2>&1
  rm -f "$r"/var/cache/apt/archives/*.deb
  rm -rf "$r"/var/lib/apt/lists/*
  rm -f "$r/etc/apt/sources.list"
  rm -rf "$r"/root/.cache
}
