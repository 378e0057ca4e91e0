package diagnose

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// TestFieldPubclientCaptures reads the captures of a public CA's TLS
// server certificate used as a client certificate
// (testdata/field/pubclient, see its README): refused for want of
// clientAuth, the verdict names the certificate as public by its
// CA/Browser Forum policy and says renewing will not help; accepted while
// it still allows clientAuth, the ok verdict warns that its renewal will
// not; a private CA's certificate without clientAuth keeps the plain
// finding (expected.tsv: without key logs; expected-keylog.tsv: with the
// client's key log beside each capture).
func TestFieldPubclientCaptures(t *testing.T) {
	dir := testdataDir + "/field/pubclient"
	t.Run("plain", func(t *testing.T) {
		checkExpected(t, dir, "expected.tsv", dir+"/server-root.pem", false)
	})
	t.Run("keylog", func(t *testing.T) {
		checkExpected(t, dir, "expected-keylog.tsv", dir+"/server-root.pem", true)
	})
	// The controls: a certificate without a CA/Browser Forum policy, of
	// this capture set's private leaf and of the mtls set, is never
	// called public.
	for _, f := range []string{"pubclient/s_server_curl_private_12.pcap", "pubclient/go_server_go_private_12.pcap", "mtls/s_server_curl_serverauth_12.pcap", "mtls/go_server_go_serverauth_12.pcap"} {
		t.Run("control/"+f, func(t *testing.T) {
			conns := analyseCaptureWith(t, filepath.Join(testdataDir, "field", f), analysis.Options{TLSPorts: []uint16{9721, 9723, 8601, 8603}})
			if len(conns) == 0 {
				t.Fatal("no connection")
			}
			for _, c := range conns {
				v := Diagnose(c, Config{})
				said := v.Summary + "\n" + v.Fix + "\n" + strings.Join(v.Warnings, "\n")
				if strings.Contains(said, "public CA") || strings.Contains(said, "2.23.140") {
					t.Errorf("%s: a private CA's certificate called public: %s", c.Server, said)
				}
			}
		})
	}
}
