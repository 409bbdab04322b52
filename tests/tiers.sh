#!/usr/bin/env bash
# Runs `make tier-<name>` for each name given, in order, stopping at the first failure, and
# prints a table of each tier's wall time at the end, pass or fail, so a slow tier shows in
# every CI log. Used by `make test` (and `make test-fast`); TIER_TIMES=<file> also writes the
# table as tab-separated values.
set -uo pipefail

names=() secs=() results=()
start_all=$(date +%s)

table() {
  local total=$(( $(date +%s) - start_all ))
  printf '\n==> tier times\n'
  printf '  %-12s %8s  %s\n' tier seconds result
  local i
  for i in "${!names[@]}"; do
    printf '  %-12s %8s  %s\n' "${names[$i]}" "${secs[$i]}" "${results[$i]}"
  done
  printf '  %-12s %8s\n' total "$total"
  if [[ -n "${TIER_TIMES:-}" ]]; then
    for i in "${!names[@]}"; do printf '%s\t%s\t%s\n' "${names[$i]}" "${secs[$i]}" "${results[$i]}"; done > "$TIER_TIMES"
  fi
}
trap table EXIT

for tier in "$@"; do
  t0=$(date +%s)
  printf '\n==> tier %s\n' "$tier"
  make --no-print-directory "tier-$tier"
  rc=$?
  names+=("$tier"); secs+=($(( $(date +%s) - t0 )))
  if (( rc != 0 )); then
    results+=("FAILED (exit $rc)")
    exit "$rc"
  fi
  results+=(ok)
done
