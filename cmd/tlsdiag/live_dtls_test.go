package main

import (
	"context"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// TestLiveDTLSNote replays a capture of DTLS 1.3 (Zeek's, private
// addresses) over a veth pair into live, in a table and in JSON: live's
// summary says, as read's does, that DTLS was seen and not analysed,
// with the datagrams and address pairs read counts. Needs root, iproute2
// and tcpreplay (CI has them).
func TestLiveDTLSNote(t *testing.T) {
	requireRoot(t)
	requireTools(t, "ip", "tcpreplay")
	const file = "../../testdata/public/zeek/dtls13-cid.pcap"
	const want = "43 UDP datagrams on 5 address pairs carried DTLS"
	var readOut, readErr strings.Builder
	run([]string{"read", file}, &readOut, &readErr)
	if !strings.Contains(readOut.String(), want) {
		t.Fatalf("read does not say %q:\n%s%s", want, readOut.String(), readErr.String())
	}
	v, err := tlslab.NewVethPair(context.Background(), "tlddtls", 1500)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) {
			stdout, stderr := replayLive(t, v, file, 1, "-f", "udp", "--format", format)
			if !strings.Contains(stdout, want) {
				t.Errorf("live does not say %q; stdout:\n%s\nstderr:\n%s", want, stdout, stderr)
			}
		})
	}
}
