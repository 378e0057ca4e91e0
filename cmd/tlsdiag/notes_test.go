package main

import (
	"bytes"
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

// TestInterfaceCopiesNote: a bridge captured with tcpdump -i any holds
// every packet twice; the report counts the client's SYNs once each and
// says how many copies it dropped.
func TestInterfaceCopiesNote(t *testing.T) {
	var out, errOut bytes.Buffer
	run([]string{"read", "--tls-port", "8445", "../../capture/testdata/copies/bridge-any.pcap"}, &out, &errOut)
	for _, want := range []string{
		"note: 31 frames repeated a packet just captured on another interface",
		"10.77.0.1:8445 never answered: 4 SYNs over 3.1 s",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}

// TestRecordedDropsNote: a pcapng whose interface statistics record
// dropped packets says so, with what it may explain.
func TestRecordedDropsNote(t *testing.T) {
	var out, errOut bytes.Buffer
	run([]string{"read", "../../capture/testdata/drops/dumpcap-drops.pcapng"}, &out, &errOut)
	if want := "note: the capturing tool dropped 32292 packets, as the file's interface statistics record"; !strings.Contains(out.String(), want) {
		t.Errorf("no %q in:\n%s", want, out.String())
	}
}
