#!/usr/bin/env bash
# Compares the sandbox's benchmarks of two builds on this machine: the test
# binaries of BASE (a git revision) and of the working tree, run in turn
# ROUNDS times so that drift in the machine's load falls on both, then the
# median of each figure per side.
#
#   simulator/sandboxapi/bench/ab.sh                        # against HEAD~1, 3 rounds
#   BASE=5fde14c ROUNDS=5 simulator/sandboxapi/bench/ab.sh
#   BENCH=Retrieval BENCHTIME=60000x simulator/sandboxapi/bench/ab.sh
#   KYCSIM_TEST_POSTGRES=postgres://... BENCH=Replicas BENCHTIME=1500x simulator/sandboxapi/bench/ab.sh
#
# The base binary is built from a temporary git worktree (removed at the
# end). Every request goes to 127.0.0.1.
set -euo pipefail

BASE=${BASE:-HEAD~1}
ROUNDS=${ROUNDS:-3}
BENCH=${BENCH:-Verifications|Retrieval}
BENCHTIME=${BENCHTIME:-4000x}

root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
tmp=$(mktemp -d)
cleanup() {
	git worktree remove --force "$tmp/base" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building the test binaries of $BASE and of the working tree" >&2
git worktree add --detach "$tmp/base" "$BASE" >/dev/null 2>&1
(cd "$tmp/base" && go test -c -o "$tmp/base.test" ./simulator/sandboxapi)
go test -c -o "$tmp/this.test" ./simulator/sandboxapi

for round in $(seq "$ROUNDS"); do
	for side in base this; do
		echo "round $round: $side" >&2
		"$tmp/$side.test" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" |
			awk -v side="$side" '/^Benchmark/ { for (i = 3; i < NF; i += 2) print side, $1, $(i+1), $i }' >>"$tmp/results"
	done
done

# One line per benchmark and unit: the median of each side and their ratio.
printf "%-50s %-22s %12s %12s %8s\n" benchmark unit base this ratio
sort -k2,2 -k3,3 -k1,1 "$tmp/results" | awk '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ key = $2 " " $3; vals[key, $1] = vals[key, $1] " " $4; keys[key] = 1 }
END {
	for (k in keys) {
		split(k, p, " ")
		b = median(vals[k, "base"]); t = median(vals[k, "this"])
		printf "%-50s %-22s %12.1f %12.1f %7.2fx\n", p[1], p[2], b, t, (b > 0 ? t / b : 0)
	}
}' | sort
