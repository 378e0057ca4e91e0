#!/bin/sh
# One tlsdiag per capture file across several machines, with GNU parallel
# over ssh. Each host reads the files from its own disk (the same path on
# every host, e.g. a shared mount) and sends the records to the store; the
# store merges them. Re-running a file stores nothing twice (each record's
# _id comes from its Community ID and first-frame time).
#
#   deploy/parallel-ssh.sh es+http://10.0.0.5:9200/tlsdiag host1,host2,host3 /captures/*.pcap
#
# Needs GNU parallel here, ssh access to the hosts, tlsdiag on their PATH.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 STORE HOST[,HOST…] CAPTURE…" >&2; exit 2; }
store=$1 hosts=$2
shift 2
# -j 2: two files at a time per host (tlsdiag already uses every core on
# one file). --halt never: one bad file does not stop the others. Exit
# status 1 from tlsdiag means failed connections were found, which is a
# result, so only 2 (an error) counts as a failure.
printf '%s\n' "$@" | parallel --sshlogin "$hosts" -j 2 --halt never --tag \
	"tlsdiag read --no-progress --output '$store' {} >/dev/null; s=\$?; [ \$s -le 1 ]"
