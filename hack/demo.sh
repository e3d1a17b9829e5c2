#!/usr/bin/env bash
# make demo: start ftcost on an embedded control plane in the background, apply the samples, wait
# until every estimate is Ready, and print them. The control plane keeps running for kubectl;
# `make demo-stop` (or hack/demo.sh stop) ends it. Arguments go to the manager (cmd/local), e.g.
#   make demo ARGS=--metrics-bind-address=127.0.0.1:18080
# When the manager cannot start, or stops, the demo fails at once with the manager's own error.
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
nohup "${ROOT}/bin/ftcost-local" "$@" >"${LOG}" 2>&1 &
echo $! >"${PIDFILE}"
# fail prints why the demo stopped: the manager's own error (the last lines of its log) first.
fail() {
  echo >&2
  echo "make demo failed: $*" >&2
  echo "--- the last lines of ${LOG} ---" >&2
  tail -n 25 "${LOG}" >&2 || true
  stop
  exit 1
}
alive() { kill -0 "$(cat "${PIDFILE}")" 2>/dev/null; }
for i in $(seq 1 180); do
  grep -q "ftcost is running" "${LOG}" 2>/dev/null && break
  alive || fail "the local control plane or the manager exited before it was running"
  (( i % 10 == 0 )) && log "still waiting for the control plane (${i}s)"
  sleep 1
done
grep -q "ftcost is running" "${LOG}" || fail "the manager was not running after 180s"
log "control plane up; applying config/samples"
kubectl apply -k config/samples || fail "kubectl apply -k config/samples failed"
log "waiting for every estimate to be Ready"
alive || fail "the manager stopped"
kubectl wait --for=condition=Ready fte --all --timeout=120s >/dev/null || { alive || fail "the manager stopped"; fail "not every estimate became Ready in 120s"; }
echo
kubectl get fte -o wide
echo
log "the control plane keeps running: export KUBECONFIG=${KUBECONFIG}"
log "try: kubectl get fte support-bot -o yaml; kubectl wait --for=condition=Approved fte/support-bot"
log "stop it with: make demo-stop"
