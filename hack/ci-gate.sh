#!/usr/bin/env bash
# Pull-request cost gate: fail the build when a FineTuneEstimate in the change is not Approved.
#
#   hack/ci-gate.sh [--catalog FILE] PATH...
#
# Each PATH is a YAML/JSON file or a folder of them; a folder holding a kustomization.yaml is
# rendered with `kubectl kustomize` first, so overlays are gated as they will be applied. The
# estimates are computed offline by `ftcost estimate` exactly as the operator would (same schema, CEL
# rules and cost engine), priced with --catalog (or the built-in catalog when none is given).
#
# Exit status is ftcost's: 0 every estimate is Approved, 1 the not-approved gate tripped (the reasons
# are printed), 2 bad input. Set FTCOST to a built binary to skip `go run`. In GitHub Actions the
# table is also appended to the job summary ($GITHUB_STEP_SUMMARY).
#
# Example (GitHub Actions):
#   - uses: actions/setup-go@v5
#   - run: hack/ci-gate.sh --catalog config/catalog/default.yaml deploy/ml/estimates
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

catalog_args=()
paths=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --catalog) [[ $# -ge 2 ]] || usage; catalog_args+=(--catalog "$2"); shift 2 ;;
    -h|--help) usage ;;
    *) paths+=("$1"); shift ;;
  esac
done
[[ ${#paths[@]} -gt 0 ]] || usage

if [[ -n "${FTCOST:-}" ]]; then
  ftcost=("$FTCOST")
else
  ftcost=(go run ./cmd/ftcost)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
file_args=()
for i in "${!paths[@]}"; do
  p=${paths[$i]}
  if [[ -d "$p" && ( -f "$p/kustomization.yaml" || -f "$p/kustomization.yml" || -f "$p/Kustomization" ) ]]; then
    kubectl kustomize "$p" > "$tmp/$i.yaml"
    file_args+=(-f "$tmp/$i.yaml")
  else
    file_args+=(-f "$p")
  fi
done

set +e
"${ftcost[@]}" estimate "${file_args[@]}" "${catalog_args[@]}" --fail-on not-approved | tee "$tmp/table.txt"
code=${PIPESTATUS[0]}
set -e

if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  {
    echo "### ftcost cost gate (exit ${code})"
    echo '```'
    cat "$tmp/table.txt"
    echo '```'
  } >> "$GITHUB_STEP_SUMMARY"
fi
case "$code" in
  0) echo "ftcost: every estimate is Approved" >&2 ;;
  1) echo "ftcost: the not-approved gate tripped; see the reasons above" >&2 ;;
  *) echo "ftcost: bad input (exit ${code})" >&2 ;;
esac
exit "$code"
