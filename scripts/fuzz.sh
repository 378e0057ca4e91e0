#!/bin/sh
# Runs every go test -fuzz target in the module for the given time each
# (default 20s), one after another. Fails on the first crasher; go test
# keeps it under the package's testdata/fuzz/ as a regression case.
set -e
t="${1:-20s}"
cd "$(dirname "$0")/.."
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
	pkg="./$(dirname "${f#./}")"
	for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
		echo "fuzz: $pkg $name for $t" >&2
		go test "$pkg" -run '^$' -fuzz "^$name\$" -fuzztime "$t" -parallel 1 >/dev/null
	done
done
