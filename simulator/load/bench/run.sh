#!/usr/bin/env bash
# Measures kycsim load against vegeta and against a bare net/http loop,
# side by side on this machine, and prints the medians.
#
#  1. Maximum rate at 16 connections: kycsim load (a unique, signed Sumsub
#     webhook per request) and vegeta (one fixed, pre-signed body: its best
#     case) in turn against the same loopback receiver (./sink), ROUNDS
#     rounds, the order swapped each round so that drift falls on both.
#  2. One request at a time: go test's BenchmarkDelivery, whose sides
#     already take turns in blocks of 64 requests, ROUNDS runs.
#
# vegeta is installed from the Go module proxy into a temporary GOBIN;
# nothing is installed for good. Every request goes to 127.0.0.1.
#
#   simulator/load/bench/run.sh                 # 5 rounds of 10 s
#   ROUNDS=7 DURATION=20s simulator/load/bench/run.sh
set -euo pipefail

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
PORT=${PORT:-9099}
VEGETA=github.com/tsenart/vegeta/v12@v12.13.0

root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
tmp=$(mktemp -d)
sink_pid=
cleanup() {
	if [ -n "$sink_pid" ]; then kill "$sink_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building kycsim and the sink; installing $VEGETA into $tmp/bin" >&2
GOBIN="$tmp/bin" go install "$VEGETA"
go build -o "$tmp/bin/kycsim" ./cmd/kycsim
go build -o "$tmp/bin/sink" ./simulator/load/bench/sink

"$tmp/bin/sink" --addr "127.0.0.1:$PORT" &
sink_pid=$!
for _ in $(seq 50); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
	sleep 0.1
done
url="http://127.0.0.1:$PORT/sumsub"

# vegeta's target: one applicantReviewed and its signature, made by
# kycsim send --dry-run (headers, an empty line, the body).
"$tmp/bin/kycsim" send sumsub applicantReviewed --dry-run --secret s3cr3t --to "$url" | tr -d '\r' >"$tmp/request"
awk 'body { print } /^$/ { body = 1 }' "$tmp/request" | head -c -1 >"$tmp/body.json"
digest=$(awk -F': ' '$1 == "X-Payload-Digest" { print $2 }' "$tmp/request")
cat >"$tmp/targets" <<EOF
POST $url
Content-Type: application/json
User-Agent: kycsim
X-Payload-Digest: $digest
X-Payload-Digest-Alg: HMAC_SHA256_HEX
@$tmp/body.json
EOF

json_number() { # json_number FILE KEY: the first number after "KEY":
	grep -o "\"$2\": *[0-9.e+-]*" "$1" | head -1 | sed 's/.*: *//'
}

# cpu_of FILE: the user+system seconds bash's time wrote to FILE.
cpu_of() { awk '{ print $1 + $2 }' "$1"; }

# run_kycsim and run_vegeta print the rate achieved and the client CPU a request (µs).
run_kycsim() {
	local TIMEFORMAT='%U %S'
	{ time "$tmp/bin/kycsim" load sumsub applicantReviewed --to "$url" --secret s3cr3t \
		--rate max --connections "$CONNS" --duration "$DURATION" --format json >"$tmp/kycsim.json"; } 2>"$tmp/kycsim.time" || {
		cat "$tmp/kycsim.json" >&2
		echo "kycsim load failed" >&2
		exit 1
	}
	echo "$(json_number "$tmp/kycsim.json" achievedRate)" \
		"$(awk -v c="$(cpu_of "$tmp/kycsim.time")" -v n="$(json_number "$tmp/kycsim.json" sent)" 'BEGIN { print 1e6 * c / n }')"
}

run_vegeta() {
	local TIMEFORMAT='%U %S'
	{ time "$tmp/bin/vegeta" attack -targets="$tmp/targets" -rate=0 -workers="$CONNS" -max-workers="$CONNS" \
		-max-connections="$CONNS" -duration="$DURATION" -timeout=10s -output="$tmp/vegeta.bin"; } 2>"$tmp/vegeta.time"
	"$tmp/bin/vegeta" report -type=json "$tmp/vegeta.bin" >"$tmp/vegeta.json"
	if [ "$(json_number "$tmp/vegeta.json" success)" != 1 ]; then
		cat "$tmp/vegeta.json" >&2
		echo "vegeta had failures" >&2
		exit 1
	fi
	echo "$(json_number "$tmp/vegeta.json" rate)" \
		"$(awk -v c="$(cpu_of "$tmp/vegeta.time")" -v n="$(json_number "$tmp/vegeta.json" requests)" 'BEGIN { print 1e6 * c / n }')"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "max rate, $CONNS connections, $DURATION per run, $ROUNDS rounds" >&2
: >"$tmp/k" && : >"$tmp/v" && : >"$tmp/r" && : >"$tmp/kc" && : >"$tmp/vc"
for round in $(seq "$ROUNDS"); do
	if [ $((round % 2)) -eq 1 ]; then
		kout=$(run_kycsim)
		vout=$(run_vegeta)
	else
		vout=$(run_vegeta)
		kout=$(run_kycsim)
	fi
	read -r k kc <<<"$kout"
	read -r v vc <<<"$vout"
	ratio=$(awk -v k="$k" -v v="$v" 'BEGIN { printf "%.3f", k / v }')
	printf "  round %d: kycsim load %.0f/s (%.1f µs CPU a request), vegeta %.0f/s (%.1f µs CPU a request), ratio %s\n" \
		"$round" "$k" "$kc" "$v" "$vc" "$ratio"
	echo "$k" >>"$tmp/k"
	echo "$v" >>"$tmp/v"
	echo "$ratio" >>"$tmp/r"
	echo "$kc" >>"$tmp/kc"
	echo "$vc" >>"$tmp/vc"
done
printf "max rate: kycsim load median %.0f/s, vegeta median %.0f/s, median of the round ratios %s\n" \
	"$(median <"$tmp/k")" "$(median <"$tmp/v")" "$(median <"$tmp/r")"
printf "client CPU a request (user + system; each client shares the machine with the sink): kycsim load median %.1f µs, vegeta median %.1f µs\n" \
	"$(median <"$tmp/kc")" "$(median <"$tmp/vc")"

echo "one at a time: BenchmarkDelivery, $ROUNDS runs" >&2
go test -run XXX -bench Delivery -count "$ROUNDS" ./simulator/ | tee "$tmp/bench.txt" | grep '^Benchmark' | sed 's/^/  /'
for metric in load/net-http load/net-http+headers ns/req-net-http ns/req-net-http+headers ns/req-load; do
	awk -v m="$metric" '/^Benchmark/ { for (i = 2; i < NF; i++) if ($(i + 1) == m) print $i }' "$tmp/bench.txt" | median >"$tmp/m"
	printf "one at a time: median %s %s\n" "$metric" "$(cat "$tmp/m")"
done
