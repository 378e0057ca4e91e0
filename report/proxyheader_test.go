package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestTableNamesProxyHeaderClient: a backend's capture behind a load
// balancer that writes PROXY protocol headers shows the load balancer as
// the client; the details name the original connection the header holds.
func TestTableNamesProxyHeaderClient(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"unexpected_v2_go_backend.pcap", "proxy protocol: version 2 header (frame 4): it names the original connection 10.92.0.2:45166 → 10.92.0.1:9621"},
		{"unexpected_v1_curl_backend.pcap", "proxy protocol: version 1 header (frame 4): it names the original connection 10.92.0.2:46682 → 10.92.0.1:9611"},
	} {
		rs := collectFile(t, "../testdata/field/proxyproto/"+tc.file)
		var b bytes.Buffer
		if err := Write(&b, FormatTable, rs, Options{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("%s: no %q in\n%s", tc.file, tc.want, b.String())
		}
	}
}
