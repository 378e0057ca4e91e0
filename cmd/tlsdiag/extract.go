package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/tlsdiag/tlsdiag/bundle"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// selection is what --extract names: connection numbers as the report
// numbers them, failed connections, verdict categories; a connection is
// chosen when any of them names it.
type selection struct {
	ranges     [][2]int
	failed     bool
	categories []diagnose.Category
}

// parseSelection reads "3,5-7", "failed", "cert_expired" or a comma list
// of them.
func parseSelection(s string) (selection, error) {
	var sel selection
	if strings.TrimSpace(s) == "" {
		return sel, errors.New("empty --extract selection")
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, errA := strconv.Atoi(lo)
		switch {
		case part == "failed":
			sel.failed = true
		case errA == nil && !isRange && a > 0:
			sel.ranges = append(sel.ranges, [2]int{a, a})
		case errA == nil && isRange:
			b, err := strconv.Atoi(hi)
			if err != nil || a < 1 || b < a {
				return sel, fmt.Errorf("--extract: %q is not a range of connection numbers (like 5-7)", part)
			}
			sel.ranges = append(sel.ranges, [2]int{a, b})
		default:
			c := diagnose.Category(part)
			if !slicesContains(diagnose.Categories, c) {
				return sel, &unknownSelection{part}
			}
			sel.categories = append(sel.categories, c)
		}
	}
	return sel, nil
}

// unknownSelection is a word of --extract that is no category.
type unknownSelection struct{ word string }

func (e *unknownSelection) Error() string {
	return fmt.Sprintf("--extract: %q is not a connection number, a range, failed or a verdict category", e.word)
}

func slicesContains(cs []diagnose.Category, c diagnose.Category) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// chooses reports whether the selection names connection n with verdict v.
func (s selection) chooses(n int, v diagnose.Verdict) bool {
	if s.failed && v.Failed() || slicesContains(s.categories, v.Category) {
		return true
	}
	for _, r := range s.ranges {
		if n >= r[0] && n <= r[1] {
			return true
		}
	}
	return false
}

// extraction collects, while the report is written, the connections
// --extract chooses, numbered as the report numbers them.
type extraction struct {
	sel   selection
	n     int
	conns []bundle.Connection
}

// add looks at the next reported connection.
func (e *extraction) add(r pipeline.Result) {
	e.n++
	if !e.sel.chooses(e.n, r.Verdict) {
		return
	}
	c, v := r.Conn, r.Verdict
	bc := bundle.Connection{
		Client: c.Client, Server: c.Server, UDP: c.QUIC != nil,
		First: c.First.Number, Last: c.Last.Number,
		Commented: v.Evidence,
	}
	if len(bc.Commented) == 0 {
		bc.Commented = []int64{c.First.Number}
	}
	bc.Comments = append(bc.Comments, fmt.Sprintf("tlsdiag #%d %s: %s", e.n, v.Category, v.Summary))
	if v.Fix != "" {
		bc.Comments = append(bc.Comments, "fix: "+v.Fix)
	}
	for _, w := range v.Warnings {
		bc.Comments = append(bc.Comments, "warning: "+w)
	}
	if c.ClientHello != nil {
		bc.ClientRandom = c.ClientHello.Random
	}
	e.conns = append(e.conns, bc)
}

// write copies the chosen connections' frames from the capture at path
// into a new pcapng file at out.
func (e *extraction) write(path, out string, keyLog *decrypt.KeyLog) (bundle.Stats, error) {
	if len(e.conns) == 0 {
		return bundle.Stats{}, errors.New("--extract chose no connection: nothing written")
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		return bundle.Stats{}, err
	}
	defer src.Close()
	f, err := os.Create(out)
	if err != nil {
		return bundle.Stats{}, fmt.Errorf("-w: %w", err)
	}
	st, err := bundle.Write(f, src, e.conns, bundle.Options{Application: "tlsdiag " + version, KeyLog: keyLog})
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("-w: %w", cerr)
	}
	return st, err
}
