package diagnose

import "testing"

// TestFieldStalePortCaptures checks SYNs answered by an acknowledgment of
// an older connection between the same ports (testdata/field/staleport):
// curl and a Go client on Linux, whose stack sends the SYN again at once,
// and a client that waited 3 s, each connection one, from its first SYN,
// with the warning that names the challenge ACK, the reset and the delay.
func TestFieldStalePortCaptures(t *testing.T) {
	checkExpectedWith(t, testdataDir+"/field/staleport", "expected.tsv", expectedRead{whole: true})
}
