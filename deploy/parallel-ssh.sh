#!/bin/sh
# One tlsdiag per capture across several machines, with GNU parallel over
# ssh. A capture is a file, or a directory holding one capture rotated into
# several files (tcpdump -C/-G/-W, dumpcap -b), read as one (--continuous):
# a connection that spans two of its files stays one record. Each host reads
# from its own disk (the same path on every host, e.g. a shared mount) and
# sends the records to the store; the store merges them. Re-running a
# capture stores nothing twice (each record's _id comes from its Community
# ID and first-frame time).
#
#   deploy/parallel-ssh.sh es+http://10.0.0.5:9200/tlsdiag host1,host2,host3 /captures/*
#
# Needs GNU parallel here, ssh access to the hosts, tlsdiag on their PATH.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 STORE HOST[,HOST…] CAPTURE…" >&2; exit 2; }
store=$1 hosts=$2
shift 2
# -j 2: two captures at a time per host (tlsdiag already uses every core on
# one). --halt never: one bad capture does not stop the others. Exit status
# 1 from tlsdiag means failed connections were found, which is a result, so
# only 2 (an error) counts as a failure.
printf '%s\n' "$@" | parallel --sshlogin "$hosts" -j 2 --halt never --tag \
	"if [ -d {} ]; then set -- --continuous {}/*; else set -- {}; fi; tlsdiag read --no-progress --output '$store' \"\$@\" >/dev/null; s=\$?; [ \$s -le 1 ]"
