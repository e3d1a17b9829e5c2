#!/usr/bin/env bash
# make demo: start ftcost on an embedded control plane in the background, apply the samples, wait
# until every estimate is Ready, and print them. The control plane keeps running for kubectl;
# `make demo-stop` (or hack/demo.sh stop) ends it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
DIR="${ROOT}/bin/local"
PIDFILE="${DIR}/demo.pid"
LOG="${DIR}/demo.log"
export KUBECONFIG="${DIR}/kubeconfig"

log() { printf '[demo %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

stop() {
  if [[ -f "${PIDFILE}" ]] && kill -0 "$(cat "${PIDFILE}")" 2>/dev/null; then
    log "stopping the local control plane (pid $(cat "${PIDFILE}"))"
    kill -INT "$(cat "${PIDFILE}")"
    for _ in $(seq 1 30); do kill -0 "$(cat "${PIDFILE}")" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "${PIDFILE}"
}

if [[ "${1:-}" == "stop" ]]; then stop; exit 0; fi
command -v kubectl >/dev/null || { echo "make demo needs kubectl on PATH" >&2; exit 1; }

stop
mkdir -p "${DIR}"
rm -f "${KUBECONFIG}"
log "building the local runner (cmd/local)"
go build -o "${ROOT}/bin/ftcost-local" ./cmd/local
log "starting etcd, kube-apiserver and the manager in the background (log: ${LOG})"
nohup "${ROOT}/bin/ftcost-local" >"${LOG}" 2>&1 &
echo $! >"${PIDFILE}"
for i in $(seq 1 120); do
  grep -q "ftcost is running" "${LOG}" 2>/dev/null && break
  kill -0 "$(cat "${PIDFILE}")" 2>/dev/null || { cat "${LOG}" >&2; echo "the local control plane exited" >&2; exit 1; }
  (( i % 10 == 0 )) && log "still waiting for the control plane (${i}s)"
  sleep 1
done
grep -q "ftcost is running" "${LOG}" || { cat "${LOG}" >&2; echo "the local control plane did not start in 120s" >&2; exit 1; }
log "control plane up; applying config/samples"
kubectl apply -k config/samples
log "waiting for every estimate to be Ready"
kubectl wait --for=condition=Ready fte --all --timeout=120s >/dev/null
echo
kubectl get fte -o wide
echo
log "the control plane keeps running: export KUBECONFIG=${KUBECONFIG}"
log "try: kubectl get fte support-bot -o yaml; kubectl wait --for=condition=Approved fte/support-bot"
log "stop it with: make demo-stop"
