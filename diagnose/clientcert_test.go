package diagnose

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// TestRefusedClientKeepsNoTrustCaveat: when the server refuses the
// client's certificate after the client went on past the server's chain
// (its Finished, and its request or a stack that judges the chain before
// its Finished), the server chain's "unless the client trusts it" caveat
// gives way to "the client accepted it", saying why. A client that may
// judge the chain only after the handshake (openssl s_client) keeps the
// caveat. Real captures from testdata/field/mtls, whose server root is
// not among the roots the test trusts.
func TestRefusedClientKeepsNoTrustCaveat(t *testing.T) {
	const caveat = "unless the client trusts it"
	cases := []struct {
		capture string
		keys    bool
		want    string // in a warning; "" when the caveat stays
	}{
		// TLS 1.2, the server's alert after curl's or Go's flight.
		{"s_server_curl_expired_12", false, "the client accepted it (it finished its handshake, frame 8, after the server's certificate, and the server refused it then: curl (OpenSSL) judges the chain before its Finished)"},
		{"go_server_go_expired_12", false, "the client accepted it (it finished its handshake, frame 8, after the server's certificate, and the server refused it then: Go crypto/tls judges the chain before its Finished)"},
		// nginx's HTTP 400 after the client's request.
		{"nginx_curl_expired_12", false, "the client accepted it (it finished its handshake, frame 8, and sent its request, frame 10, before the server refused it)"},
		{"nginx_curl_expired_13", true, "the client accepted it (it finished its handshake, frame 8, and sent its request, frame 11"},
		{"nginx_go_depth_13", true, "the client accepted it (it finished its handshake"},
		// TLS 1.3 decrypted: Go's server alert after the client's request.
		{"go_server_go_expired_13", true, "the client accepted it (it finished its handshake, frame 8, and sent its request"},
		// s_client may judge after the handshake and sent no request.
		{"s_server_sclient_expired_leafonly_12", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.capture, func(t *testing.T) {
			path := filepath.Join(testdataDir, "field", "mtls", tc.capture+".pcap")
			var opts analysis.Options
			if tc.keys {
				opts.KeyLog = readKeyLog(t, strings.TrimSuffix(path, ".pcap")+".keylog")
			}
			conns := analyseCaptureWith(t, path, opts)
			if len(conns) != 1 {
				t.Fatalf("%d connections, want 1", len(conns))
			}
			v := Diagnose(conns[0], Config{})
			if v.Category != ClientCertRequired {
				t.Fatalf("%s: %s, want %s", v.Category, v.Summary, ClientCertRequired)
			}
			ws := strings.Join(v.Warnings, "\n")
			switch {
			case tc.want == "" && !strings.Contains(ws, caveat):
				t.Errorf("warnings lost %q:\n%s", caveat, ws)
			case tc.want != "" && strings.Contains(ws, caveat):
				t.Errorf("warnings still say %q though the client went on:\n%s", caveat, ws)
			case tc.want != "" && !strings.Contains(ws, tc.want):
				t.Errorf("warnings lack %q:\n%s", tc.want, ws)
			}
		})
	}
}
