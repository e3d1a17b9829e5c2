#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy into bin/controlplane, once.
# envtest finds them through KUBEBUILDER_ASSETS. Nothing is downloaded except Go modules.
set -euo pipefail

KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.7.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# CONTROLPLANE_DIR builds elsewhere (e.g. to try a change without touching a shared bin/controlplane).
OUT="${CONTROLPLANE_DIR:-${ROOT}/bin/controlplane}"
STAMP="${OUT}/.versions"
# The stamp names what is built and how: "version-stamped" marks binaries that report their real
# version (older builds reported v0.0.0-master, which kubectl version and helm's kubeVersion refuse),
# so a tree built before the stamp rebuilds once.
WANT="kubernetes=${KUBERNETES_VERSION} etcd=${ETCD_VERSION} version-stamped"

log() { printf '[controlplane %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

if [[ -x "${OUT}/kube-apiserver" && -x "${OUT}/etcd" && -f "${STAMP}" && "$(cat "${STAMP}")" == "${WANT}" ]]; then
  log "reusing ${OUT} (${WANT})"
  exit 0
fi

mkdir -p "${OUT}"
WORK="$(dirname "${OUT}")/.controlplane-src"
rm -rf "${WORK}"
mkdir -p "${WORK}"
cd "${WORK}"

# Keep the scratch module out of the project's workspace and toolchain settings.
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0

log "resolving k8s.io/kubernetes@${KUBERNETES_VERSION} from the module proxy"
gomod="$(go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
[[ -f "${gomod}" ]] || { echo "could not find go.mod of k8s.io/kubernetes@${KUBERNETES_VERSION}" >&2; exit 1; }
staging_version="v0${KUBERNETES_VERSION#v1}"

{
  echo "module ftcost.io/controlplane-build"
  echo
  echo "go $(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')"
  echo
  echo "require k8s.io/kubernetes ${KUBERNETES_VERSION}"
  echo
  # Every ./staging/... replace of kubernetes' own go.mod points at the published module instead.
  grep -E '=>[[:space:]]*\./staging/' "${gomod}" | awk -v v="${staging_version}" '{print "replace " $1 " => " $1 " " v}'
} > go.mod
log "scratch module has $(grep -c '^replace' go.mod) staging replaces at ${staging_version}"

cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
GO

log "downloading modules for kube-apiserver (first time only; cached in $(go env GOMODCACHE))"
go get "k8s.io/kubernetes/cmd/kube-apiserver@${KUBERNETES_VERSION}"
# Stamp the version as Kubernetes' own build does (hack/lib/version.sh: the same variables of
# k8s.io/component-base/version and k8s.io/client-go/pkg/version), so /version, kubectl version and
# helm's kubeVersion check see the release. The commit is not in the module proxy's metadata; the
# build date is the release's, from it, so the binary is reproducible.
minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
info="$(go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" | sed -n 's/^[[:space:]]*"Info": "\(.*\)",\{0,1\}$/\1/p')"
release_time="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "${info}")"
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X ${pkg}.gitVersion=${KUBERNETES_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
  kube_ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${release_time:-1970-01-01T00:00:00Z}"
done
log "building kube-apiserver ${KUBERNETES_VERSION} (about 4 minutes on 2 cores)"
go build -trimpath -ldflags="${kube_ldflags}" -o "${OUT}/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
log "built ${OUT}/kube-apiserver"

log "downloading etcd ${ETCD_VERSION}"
go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
log "building etcd"
go build -trimpath -ldflags='-s -w' -o "${OUT}/etcd" go.etcd.io/etcd/server/v3
log "built ${OUT}/etcd"

echo "${WANT}" > "${STAMP}"
cd "${ROOT}"
rm -rf "${WORK}"
log "done: KUBEBUILDER_ASSETS=${OUT}"
