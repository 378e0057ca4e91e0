package analysis

import (
	"testing"

	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// TestLargeCertificateMessage reads nginx sending its chain with a CA
// bundle appended (testdata/field/bigchain) and Zeek's capture of a
// 339,629-byte Certificate message: the record keeps the server's
// message over LargeHandshake, its size as its header announces it and
// the frame of that header, and whether it was read. A message over
// tlsparse.MaxHandshakeSize is not read, and no certificate comes of it.
func TestLargeCertificateMessage(t *testing.T) {
	for _, tt := range []struct {
		path  string
		size  int
		frame int64
		read  bool
		certs int
	}{
		{"../testdata/field/bigchain/mid_openssl.pcap.gz", 114537, 6, true, 106},
		{"../testdata/field/bigchain/bundle_curl.pcap.gz", 157593, 6, false, 0},
		// The client refused the message on reading its header, and the
		// server, sending slowly, stopped: only its first record is in
		// the capture.
		{"../testdata/field/bigchain/rtt_curl.pcap.gz", 114537, 6, false, 0},
		{"../testdata/field/bigchain/huge_go.pcap.gz", 314282, 6, false, 0},
		{publicFile("zeek", "tls-fragmented-handshake.pcap.gz"), 339629, 6, false, 0},
		{"../testdata/field/bigchain/fits_curl.pcap.gz", 0, 0, false, 2},
	} {
		conns := analyse(t, tt.path, Options{TLSPorts: []uint16{8721, 8722, 8723, 8724, 8725}})
		if len(conns) != 1 {
			t.Fatalf("%s: %d connections, want 1", tt.path, len(conns))
		}
		c := conns[0]
		if len(c.Certificates) != tt.certs {
			t.Errorf("%s: %d certificates, want %d", tt.path, len(c.Certificates), tt.certs)
		}
		m := c.Large
		if tt.size == 0 {
			if m != nil {
				t.Errorf("%s: Large %+v, want nil", tt.path, *m)
			}
			continue
		}
		if m == nil {
			t.Errorf("%s: Large is nil, want the %d-byte Certificate", tt.path, tt.size)
			continue
		}
		if m.Type != tlsparse.HandshakeTypeCertificate || m.Size != tt.size || m.Frame.Number != tt.frame || m.Read != tt.read {
			t.Errorf("%s: Large %v, %d bytes, frame %d, read %v; want Certificate, %d bytes, frame %d, read %v",
				tt.path, m.Type, m.Size, m.Frame.Number, m.Read, tt.size, tt.frame, tt.read)
		}
	}
}
