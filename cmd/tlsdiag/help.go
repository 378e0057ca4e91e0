package main

import (
	"fmt"
	"io"
	"strings"
)

// listOr names the valid values of a flag: "a, b or c".
func listOr(values []string) string {
	switch len(values) {
	case 0:
		return ""
	case 1:
		return values[0]
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// didYouMean returns "did you mean X?" for an unknown value when a valid
// value X is near enough to be a typing mistake (at most a third of its
// letters changed), else "".
func didYouMean(got string, valid []string) string {
	best, bestDist := "", -1
	for _, v := range valid {
		d := editDistance(strings.ToLower(got), v)
		if bestDist < 0 || d < bestDist {
			best, bestDist = v, d
		}
	}
	if bestDist >= 0 && bestDist <= max(2, len(best)/3) {
		return "did you mean " + best + "?"
	}
	return ""
}

// unknownValue is the usage error for a value that is none of valid: it
// lists them and, when one is near, suggests it.
func unknownValue(stderr io.Writer, what, got string, valid []string) int {
	return usageError(stderr, fmt.Sprintf("unknown %s %q (want one of %s)", what, got, listOr(valid)), didYouMean(got, valid))
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
