#!/usr/bin/env bash
# make image: build the manager's OCI image with ko, without Docker and without a registry, into an
# OCI image layout (IMAGE_DIR, default bin/image) and a tarball (bin/ftcost-manager.tar, for
# `docker load` or `crane push`).
#
# The base is an empty image (no shell, no libc: the manager is a static Go binary) written here as
# an OCI layout into ko's on-disk cache (KOCACHE) and named by digest, so ko reads it from the cache
# instead of pulling one. ko adds the binary (/ko-app/manager, the entrypoint), and the image runs as
# 65532:65532 (the non-root user config/manager's securityContext expects) with the version labels.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
KO="${KO:-${ROOT}/bin/ko-v0.18.0}"
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
IMAGE_DIR="${IMAGE_DIR:-${ROOT}/bin/image}"
TARBALL="${TARBALL:-${ROOT}/bin/ftcost-manager.tar}"
PLATFORM="${PLATFORM:-linux/$(go env GOARCH)}"
REPO="${REPO:-ftcost-manager}"
export KOCACHE="${KOCACHE:-${ROOT}/bin/kocache}"

log() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
[[ -x "${KO}" ]] || { echo "no ko at ${KO}: run 'make ko'" >&2; exit 1; }

# The empty base image, as an OCI layout: a config with the platform and no layers, its manifest,
# and the index naming it.
os="${PLATFORM%%/*}"; arch="${PLATFORM#*/}"
layout="${KOCACHE}/img"
mkdir -p "${layout}/blobs/sha256"
blob() { # writes stdin as a blob and prints "sha256:HEX SIZE"
  local tmp; tmp="$(mktemp)"; cat >"${tmp}"
  local hex; hex="$(sha256sum "${tmp}" | cut -d' ' -f1)"
  mv "${tmp}" "${layout}/blobs/sha256/${hex}"
  echo "sha256:${hex} $(wc -c <"${layout}/blobs/sha256/${hex}")"
}
read -r cfg cfgsize < <(printf '{"architecture":"%s","os":"%s","config":{},"rootfs":{"type":"layers","diff_ids":[]}}' "${arch}" "${os}" | blob)
read -r man mansize < <(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[]}' "${cfg}" "${cfgsize}" | blob)
printf '{"imageLayoutVersion":"1.0.0"}' >"${layout}/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"%s"}}]}' \
  "${man}" "${mansize}" "${arch}" "${os}" >"${layout}/index.json"
base="ftcost.invalid/empty@${man}"
log "base: the empty image ${man} (from ${layout}, nothing pulled)"

rm -rf "${IMAGE_DIR}"
log "building ./cmd/manager ${VERSION} for ${PLATFORM} with $("${KO}" version)"
KO_DOCKER_REPO="${REPO}" KO_DEFAULTBASEIMAGE="${base}" GOFLAGS="${GOFLAGS:-} -ldflags=-X=github.com/ftcost/ftcost/internal/version.Version=${VERSION}" \
  "${KO}" build ./cmd/manager --push=false --bare --platform="${PLATFORM}" --tags="${VERSION}" --sbom=none \
    --image-user=65532:65532 \
    --image-label="org.opencontainers.image.version=${VERSION}" \
    --image-label="org.opencontainers.image.source=https://github.com/ftcost/ftcost" \
    --image-label="org.opencontainers.image.title=ftcost-manager" \
    --oci-layout-path="${IMAGE_DIR}" --tarball="${TARBALL}"
log "wrote ${IMAGE_DIR} (OCI layout) and ${TARBALL}"
