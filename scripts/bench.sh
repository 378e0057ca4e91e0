#!/bin/sh
# Benchmarks `tlsdiag read` against tshark on generated captures (make bench).
#
# Generates, once, a bulk capture of SIZE (default 500MB) and a capture of
# only handshakes of HS_SIZE (default 100MB) into testdata/bench/ (ignored
# by git; the file names carry the seed, the size and a hash of the
# generator's sources, so a changed generator makes new ones), builds
# tlsdiag, and runs internal/tlsgen/cmd/tlsbench on each capture: best and
# median of RUNS runs (default 5; tshark TSHARK_RUNS, default 3), MB/s,
# packets/s, peak RSS and the ratio to tshark, and a check of every verdict
# against the capture's truth (exit status 1 if one differs). With VXLAN=1
# (the default) the bulk capture is also benchmarked wrapped in VXLAN, as a
# cloud traffic mirror delivers it (the same frames and truth).
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
SEED=${SEED:-1}
SIZE=${SIZE:-500MB}
HS_SIZE=${HS_SIZE:-100MB}
RUNS=${RUNS:-5}
VXLAN=${VXLAN:-1}
TSHARK_RUNS=${TSHARK_RUNS:-3}
dir=testdata/bench
mkdir -p "$dir" bin

gen_hash=$(cat internal/tlsgen/*.go | sha256sum | cut -c1-8)
$GO build -o bin/tlsgen ./internal/tlsgen/cmd/tlsgen
$GO build -o bin/tlsbench ./internal/tlsgen/cmd/tlsbench
$GO build -o bin/tlsdiag ./cmd/tlsdiag
$GO build -o bin/wrapcap ./internal/encap/wrapcap

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg), $($GO version | cut -d' ' -f3)"
status=0
for kind in bulk handshakes; do
	size=$SIZE
	extra=""
	if [ "$kind" = handshakes ]; then
		size=$HS_SIZE
		extra=-handshakes-only
	fi
	base="$dir/$kind-seed$SEED-$size-$gen_hash"
	if [ ! -s "$base.pcap" ] || [ ! -s "$base.json" ]; then
		rm -f "$dir/$kind-seed$SEED-$size-"*
		./bin/tlsgen -o "$base.pcap" -size "$size" -seed "$SEED" -truth "$base.json" -ca "$base.ca.pem" $extra
	fi
	echo
	./bin/tlsbench -pcap "$base.pcap" -truth "$base.json" -ca "$base.ca.pem" -tlsdiag bin/tlsdiag \
		-runs "$RUNS" -tshark-runs "$TSHARK_RUNS" -out "$dir" || status=$?
	if [ "$kind" = bulk ] && [ "$VXLAN" = 1 ]; then
		[ -s "$base.vxlan.pcap" ] || ./bin/wrapcap -encap vxlan "$base.pcap" "$base.vxlan.pcap"
		echo
		./bin/tlsbench -pcap "$base.vxlan.pcap" -truth "$base.json" -ca "$base.ca.pem" -tlsdiag bin/tlsdiag \
			-runs "$RUNS" -tshark-runs "$TSHARK_RUNS" -out "$dir" || status=$?
	fi
done
exit $status
