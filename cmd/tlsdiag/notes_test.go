package main

import (
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// TestSequenceNotes checks that the sequencer's facts are worded with the
// flag that changes them (the names come from the table that defines the
// flags).
func TestSequenceNotes(t *testing.T) {
	notes := sequenceNotes("a.pcap: ", analysis.SequenceStats{
		IgnoredBeforeTLS: []analysis.PortCount{{Port: 4454, Count: 1}},
		Late:             2,
	})
	if len(notes) != 2 ||
		notes[0] != "a.pcap: 1 connection without TLS to port 4454 ended before TLS was first seen on that port and is not listed (--tls-port 4454 lists them)" ||
		!strings.HasSuffix(notes[1], "finished (--max-pending)") {
		t.Errorf("notes %q", notes)
	}
}
