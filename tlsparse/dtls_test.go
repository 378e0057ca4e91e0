package tlsparse

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestLooksDTLS checks the DTLS recognizer on a real datagram, the
// HelloVerifyRequest of frame 3 of Zeek's dtls1_2.pcap (OpenSSL), and on
// changes to it that each break one of the rules.
func TestLooksDTLS(t *testing.T) {
	hvr, err := hex.DecodeString("16feff00000000000000000023030000170000000000000017feff144c281da5216e0bcdc6d35770176ee12f676baa9b")
	if err != nil {
		t.Fatal(err)
	}
	changed := func(at int, b ...byte) []byte {
		c := bytes.Clone(hvr)
		copy(c[at:], b)
		return c
	}
	tests := []struct {
		name          string
		b             []byte
		record, hello bool
	}{
		{"HelloVerifyRequest", hvr, true, true},
		{"ClientHello", changed(13, 1), true, true},
		{"ServerHello, DTLS 1.2", changed(1, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x23, 2), true, true},
		{"Certificate", changed(13, 11), true, false},
		{"epoch 1", changed(4, 1), true, false},
		{"application data", changed(0, 23), true, false},
		{"fragment past the message", changed(19, 0, 0, 1), true, false},
		{"fragment past the record", changed(14, 0, 0, 0x30, 0, 0, 0, 0, 0, 0, 0, 0x30), true, false},
		{"TLS version", changed(1, 3, 3), false, false},
		{"DTLS 1.3 version in the record", changed(1, 0xfe, 0xfc), false, false},
		{"content type 25 (connection ID)", changed(0, 25), false, false},
		{"content type 19", changed(0, 19), false, false},
		{"record past the datagram", hvr[:len(hvr)-1], false, false},
		{"empty record", changed(11, 0, 0), false, false},
		{"header cut", hvr[:12], false, false},
		{"QUIC Initial", changed(0, 0xc0, 0, 0, 0, 1), false, false},
	}
	for _, tt := range tests {
		record, hello := LooksDTLS(tt.b)
		if record != tt.record || hello != tt.hello {
			t.Errorf("%s: record %v, hello %v; want %v, %v", tt.name, record, hello, tt.record, tt.hello)
		}
	}
}
