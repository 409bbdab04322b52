#!/usr/bin/env bash
# Runs `make tier-<name>` for each name given, in order, stopping at the first failure, and
# prints a table of each tier's wall time at the end, pass or fail, so a slow tier shows in
# every CI log. Used by `make test` and `make test-fast`.
#
#   <name>        run the tier in the foreground
#   bg:<name>     start it in the background (output to target/tiers/<name>.log) and go on:
#                 for a tier that leaves a core idle next to the ones that follow (pip's
#                 downloads; the release build next to tests that mostly wait on processes)
#   join:<name>   wait for that background tier, print its output, stop if it failed
#
# TIER_TIMES=<file> also writes the table as tab-separated values.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
logs="${CARGO_TARGET_DIR:-$root/target}/tiers"
mkdir -p "$logs"

names=() secs=() results=()
declare -A bg_pid=() bg_start=()
start_all=$(date +%s)

record() { names+=("$1"); secs+=("$2"); results+=("$3"); }

finish() {
  local rc=$? name i
  # A failure in front stops what still runs behind it (its whole process group).
  for name in "${!bg_pid[@]}"; do
    if kill -- -"${bg_pid[$name]}" 2>/dev/null; then
      record "$name" $(( $(date +%s) - bg_start[$name] )) "stopped (background)"
    elif [[ -s "$logs/$name.secs" ]]; then
      record "$name" "$(cat "$logs/$name.secs")" "finished, not joined (background; $logs/$name.log)"
    fi
  done
  printf '\n==> tier times (wall seconds; background tiers overlap the ones after them)\n'
  printf '  %-12s %8s  %s\n' tier seconds result
  for i in "${!names[@]}"; do printf '  %-12s %8s  %s\n' "${names[$i]}" "${secs[$i]}" "${results[$i]}"; done
  printf '  %-12s %8s  %s\n' total $(( $(date +%s) - start_all )) "$([[ $rc == 0 ]] && echo ok || echo "FAILED (exit $rc)")"
  if [[ -n "${TIER_TIMES:-}" ]]; then
    for i in "${!names[@]}"; do printf '%s\t%s\t%s\n' "${names[$i]}" "${secs[$i]}" "${results[$i]}"; done > "$TIER_TIMES"
  fi
  exit "$rc"
}
trap finish EXIT

for arg in "$@"; do
  case "$arg" in
    bg:*)
      name=${arg#bg:}
      printf '\n==> tier %s (in the background: %s)\n' "$name" "$logs/$name.log"
      bg_start[$name]=$(date +%s)
      rm -f "$logs/$name.secs"
      # Its own session, so that a failure elsewhere can stop it and everything it started.
      setsid bash -c 't0=$(date +%s); make --no-print-directory "tier-$1"; rc=$?; echo "$(( $(date +%s) - t0 ))" > "$2.secs"; exit $rc' \
        _ "$name" "$logs/$name" > "$logs/$name.log" 2>&1 < /dev/null &
      bg_pid[$name]=$!
      ;;
    join:*)
      name=${arg#join:}
      [[ -n "${bg_pid[$name]:-}" ]] || { echo "tests/tiers.sh: join:$name without bg:$name" >&2; exit 2; }
      wait "${bg_pid[$name]}"; rc=$?
      unset "bg_pid[$name]"
      printf '\n==> tier %s (background) output:\n' "$name"
      cat "$logs/$name.log"
      took=$(cat "$logs/$name.secs" 2>/dev/null || echo $(( $(date +%s) - bg_start[$name] )))
      if (( rc != 0 )); then record "$name" "$took" "FAILED (exit $rc, background)"; exit "$rc"; fi
      record "$name" "$took" "ok (background)"
      ;;
    *)
      t0=$(date +%s)
      printf '\n==> tier %s\n' "$arg"
      make --no-print-directory "tier-$arg"; rc=$?
      if (( rc != 0 )); then record "$arg" $(( $(date +%s) - t0 )) "FAILED (exit $rc)"; exit "$rc"; fi
      record "$arg" $(( $(date +%s) - t0 )) ok
      ;;
  esac
done
