#!/bin/sh
# Runs every go test -fuzz target in the module for the given time each
# (default 20s), one after another. A crasher fails the run (go test keeps
# it under the package's testdata/fuzz/ as a regression case) and its
# output is shown. Minimizing new inputs is capped at 1 s: go test can
# otherwise run past -fuzztime while minimizing and report "context
# deadline exceeded" without any crasher. That, and a worker that stops
# answering on an overloaded machine ("fuzzing process hung"), is retried
# once before it counts as a failure; an overrun that repeats without a
# crasher is a warning.
set -e
t="${1:-20s}"
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fuzz() {
	go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "$t" -fuzzminimizetime 1s -parallel 1 >"$log" 2>&1
}
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
	pkg="./$(dirname "${f#./}")"
	for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
		echo "fuzz: $pkg $name for $t" >&2
		if fuzz "$pkg" "$name"; then
			continue
		fi
		if grep -Eq 'fuzzing process hung|context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
			echo "fuzz: $pkg $name: $(grep -Eo 'fuzzing process hung|context deadline exceeded' "$log" | head -1), trying again" >&2
			fuzz "$pkg" "$name" && continue
			if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
				# go test's own overrun again, still without a crasher:
				# nothing to reproduce or fix, so say so and go on.
				echo "fuzz: $pkg $name: warning: overran -fuzztime twice without a failing input" >&2
				continue
			fi
		fi
		cat "$log" >&2
		exit 1
	done
done
