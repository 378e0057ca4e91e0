package analysis

import (
	"context"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
)

// TestSilentConnectionReported reads the SNI drop captured at the server
// (a TCP handshake on port 4492 and then nothing, 3.2 s before a
// connection that completes): the silent connection is open when the
// capture ends and knows where it ended. It is reported when its port
// carries TLS later in the capture (derived/silent_then_tls_same_port.pcap,
// the completed connection moved to port 4492), or is named as a TLS port;
// not when nothing says its port is TLS (the lab capture, port 4493 for
// the completed one). The same with one Builder or several.
func TestSilentConnectionReported(t *testing.T) {
	for _, tt := range []struct {
		file     string
		tlsPorts []uint16
		silent   bool
	}{
		{"../testdata/derived/silent_then_tls_same_port.pcap", nil, true},
		{"../testdata/path_sni_filter_server.pcap", []uint16{4492}, true},
		{"../testdata/path_sni_filter_server.pcap", nil, false},
	} {
		for _, workers := range []int{1, 2, 4} {
			src, err := capture.OpenFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			conns, _, err := Analyse(context.Background(), src, Options{TLSPorts: tt.tlsPorts}, capture.Options{}, workers)
			src.Close()
			if err != nil {
				t.Fatal(err)
			}
			want := 1
			if tt.silent {
				want = 2
			}
			if len(conns) != want {
				t.Fatalf("%s %v, workers %d: %d connections, want %d", tt.file, tt.tlsPorts, workers, len(conns), want)
			}
			done := conns[len(conns)-1]
			if !done.Established || done.SilentAtEnd() {
				t.Errorf("%s, workers %d: the completed connection: established %v, silent %v", tt.file, workers, done.Established, done.SilentAtEnd())
			}
			if !tt.silent {
				continue
			}
			s := conns[0]
			if !s.SilentAtEnd() || s.CaptureEnd.Number != 20 || s.Last.Number != 3 || s.TCP.Close != capture.ClosedEOF {
				t.Errorf("%s, workers %d: silent connection: SilentAtEnd %v, capture end frame %d (want 20), last %d (want 3), close %v",
					tt.file, workers, s.SilentAtEnd(), s.CaptureEnd.Number, s.Last.Number, s.TCP.Close)
			}
			if gap := s.CaptureEnd.Time.Sub(s.Last.Time); gap.Seconds() < 3 {
				t.Errorf("%s: the capture went on %v after the silent connection's last frame, want over 3 s", tt.file, gap)
			}
			if p := s.Path; p == nil || p.SYN.IP.TTL != 63 || p.SYNACK.IP.TTL != 64 {
				t.Errorf("%s: path facts %+v, want the SYN's TTL 63 and the SYN-ACK's 64", tt.file, p)
			}
		}
	}
}
