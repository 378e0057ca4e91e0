package diagnose

import (
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

func init() {
	caseTables = append(caseTables, heartbleedCases)
	publicCategories = append(publicCategories, Heartbleed) // TestHeartbleedCaptures
}

func TestDiagnoseHeartbleed(t *testing.T) { runDiagnoseCases(t, heartbleedCases(t)) }

// heartbeats gives c the client's first heartbeat record q and, when
// a.Frame is set, the server's answer of n records, bytes in all.
func heartbeats(c *analysis.Connection, q, a analysis.Heartbeat, n int, bytes int64) *analysis.Connection {
	c.Heartbeats = &[2]analysis.Heartbeats{{First: q, Records: 1, Bytes: int64(q.Length)}}
	if a.Frame.Number != 0 {
		c.Heartbeats[server] = analysis.Heartbeats{First: a, Records: n, Bytes: bytes}
	}
	return c
}

func heartbleedCases(t *testing.T) []diagnoseCase {
	leaf := mkCert(t, certSpec{cn: "www.example.com", dns: []string{"www.example.com"}})
	done := func() *analysis.Connection {
		return finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, leaf))
	}
	request := func(n int64, length, claim int) analysis.Heartbeat {
		return analysis.Heartbeat{Frame: fr(n), Length: length, Message: tlsparse.HeartbeatHeader{Type: tlsparse.HeartbeatRequest, PayloadLength: claim}}
	}
	encrypted := func(n int64, length int) analysis.Heartbeat {
		return analysis.Heartbeat{Frame: fr(n), Length: length, Encrypted: true}
	}
	return []diagnoseCase{
		{name: "plaintext request claiming 16 KB in 3 bytes, answered", cat: Heartbleed,
			conn: func(*pki) *analysis.Connection {
				return heartbeats(hello(tcpConn(), tls12Hello(v12)), request(7, 3, 16384), analysis.Heartbeat{Frame: fr(9), Length: 16384, Message: tlsparse.HeartbeatHeader{Type: tlsparse.HeartbeatResponse, PayloadLength: 16384}}, 2, 16384+19)
			},
			summary:  []string{"Heartbleed (CVE-2014-0160)", "frame 7, 3 bytes, in the middle of the handshake", "claiming a payload of 16384 bytes", "certain", "leaked up to 16384 bytes of its memory", "the server is vulnerable"},
			evidence: []int64{7, 9}, fix: []string{"1.0.1g", "new key and certificate", "revoked", "session ticket keys"}, nWarn: -1},
		{name: "plaintext request unanswered", cat: Heartbleed,
			conn: func(*pki) *analysis.Connection {
				return heartbeats(hello(tcpConn(), tls12Hello(v12)), request(7, 3, 16384), analysis.Heartbeat{}, 0, 0)
			},
			summary: []string{"not shown vulnerable by this capture"}, evidence: []int64{7}, fix: []string{"nothing this capture proves"}, nWarn: -1},
		{name: "encrypted request answered with more: the sizes show", cat: Heartbleed,
			conn: func(*pki) *analysis.Connection {
				c := done()
				c.ClientSide.AppData, c.ServerSide.AppData = analysis.Traffic{}, analysis.Traffic{}
				return heartbeats(c, encrypted(10, 32), encrypted(11, 16416), 4, 4*16416)
			},
			summary: []string{"the sizes show it", "frame 10, 32 bytes, right after the handshake", "4 heartbeat records, 65664 bytes in all", "65632 bytes more than the request", "about 65632 bytes of the server's memory"}, evidence: []int64{10, 11}, fix: []string{"new key"}, nWarn: -1},
		{name: "an ordinary encrypted heartbeat exchange after data is no attack", cat: OK,
			conn: func(*pki) *analysis.Connection {
				c := done()
				c.ClientSide.AppData = analysis.Traffic{Records: 1, Bytes: 100, First: fr(9)}
				c.ServerSide.AppData = analysis.Traffic{Records: 1, Bytes: 100, First: fr(10)}
				return heartbeats(c, encrypted(11, 48), encrypted(12, 48), 1, 48)
			},
			evidence: []int64{4, 6, 9}, nWarn: -1},
		{name: "an ordinary plaintext heartbeat answered alike is no attack", cat: OK,
			conn: func(*pki) *analysis.Connection {
				return heartbeats(done(), request(7, 35, 16), analysis.Heartbeat{Frame: fr(8), Length: 35, Message: tlsparse.HeartbeatHeader{Type: tlsparse.HeartbeatResponse, PayloadLength: 16}}, 1, 35)
			},
			evidence: []int64{4, 6, 9}, nWarn: -1},
	}
}

// TestHeartbleedCaptures reads Zeek's test traces of Heartbleed attacks
// (2014): the client is the attack tool, whatever the certificate; the
// verdict says whether the server answered, with the frames and sizes.
func TestHeartbleedCaptures(t *testing.T) {
	tests := []struct {
		file     string
		summary  []string
		evidence []int64
	}{
		{"heartbleed.pcap", []string{"frame 19, 16368 bytes, in the middle of the handshake", "in plaintext claiming a payload of 16365 bytes", "carries 16365 bytes", "16 more bytes of padding", "certain", "the server sent no heartbeat back: not shown vulnerable by this capture"}, []int64{19}},
		{"heartbleed-success.pcap", []string{"frame 21, 16368 bytes, in the middle of the handshake", "claiming a payload of 16365 bytes", "certain", "answered it with a heartbeat record of 16384 bytes (frame 28)", "vulnerable OpenSSL (1.0.1 to 1.0.1f)", "could hold only the request's own bytes"}, []int64{21, 28}},
		{"heartbleed-encrypted.pcap", []string{"Likely", "frame 16, 86 bytes, right after the handshake, encrypted", "before any data", "not shown vulnerable by this capture"}, []int64{16}},
		{"heartbleed-encrypted-success.pcap", []string{"the sizes show it", "frame 14, 32 bytes, right after the handshake", "with 3 heartbeat records, 49248 bytes in all (the first, frame 32, of 16416 bytes)", "49216 bytes more than the request", "the server is vulnerable", "about 49216 bytes of the server's memory"}, []int64{14, 32}},
		{"heartbleed-encrypted-short.pcap", []string{"the sizes show it", "frame 13, 32 bytes", "with a heartbeat record of 48 bytes (frame 14)", "16 bytes more than the request", "the server is vulnerable", "whether memory leaked is not known from the sizes"}, []int64{13, 14}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			conns := analyseWith(t, testdataDir+"/public/zeek/"+tt.file, analysis.Options{})
			if len(conns) != 1 {
				t.Fatalf("%d connections", len(conns))
			}
			v := Diagnose(conns[0], Config{})
			if v.Category != Heartbleed {
				t.Fatalf("%s, want heartbleed: %s", v.Category, v.Summary)
			}
			for _, s := range tt.summary {
				if !strings.Contains(v.Summary, s) {
					t.Errorf("summary lacks %q: %s", s, v.Summary)
				}
			}
			if !slices.Equal(v.Evidence, tt.evidence) {
				t.Errorf("evidence %v, want %v", v.Evidence, tt.evidence)
			}
			if slices.ContainsFunc(v.Warnings, func(w string) bool { return strings.Contains(w, "parser anomalies: heartbeat") }) {
				t.Errorf("warnings repeat the heartbeat as an anomaly: %q", v.Warnings)
			}
		})
	}
}
