#!/usr/bin/env bash
# The base image the image tests build on, made locally because no container registry is
# reachable from the machines GridBoard is tested on.
#
# Debian trixie's Python 3.13 (what the official python:3.13-slim is built on), a `python`
# link like that image's, and two additions the shipped image never gets: the host's CA bundle
# and a pip.conf naming it, because TLS to the package index goes through a proxy that only the
# host trusts. Nothing else differs between what is tested and what ships: the Dockerfile takes
# this image as its BASE build argument.
#
# Usage: tests/deployment/make-test-base.sh [IMAGE]   (default localhost/gridboard-base:trixie)
# Does nothing when IMAGE exists; `podman rmi IMAGE` to make it again.
set -euo pipefail

image="${1:-localhost/gridboard-base:trixie}"
if podman image exists "$image"; then
    echo "base image $image exists; kept"
    exit 0
fi

# The Debian mirror apt already uses on this host (deb822 sources first, then sources.list).
mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
    mirror="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
fi
if [ -z "$mirror" ]; then
    mirror="$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++)
        if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

for tool in debootstrap podman tar; do
    command -v "$tool" >/dev/null || {
        echo "error: $tool is missing: apt-get install -y podman debootstrap runc" >&2
        exit 1
    }
done

rootfs="$(mktemp -d /var/tmp/gridboard-base.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
started=$SECONDS
echo "debootstrap trixie from $mirror into $rootfs"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    trixie "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    tail -n 30 "$rootfs.log" >&2
    rm -f "$rootfs.log"
    echo "error: debootstrap failed (log above)" >&2
    exit 1
}
rm -f "$rootfs.log"
ln -sf python3 "$rootfs/usr/bin/python"
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/etc/pip.conf"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | podman import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$image" >/dev/null
echo "base image $image made in $((SECONDS - started)) s"
