package tlsparse

import "testing"

// TestRecordEnd checks that every item says where the record carrying its
// last byte ends. OpenSSL's TLS 1.0 server flight is re-framed so that
// ServerHello, Certificate and ServerHelloDone share one record (as many
// servers send them): all three must point at that record's end, where
// Wireshark shows them.
func TestRecordEnd(t *testing.T) {
	var d Decoder
	d.Feed(loadHex(t, "openssl-tls10.server"))
	var msgs []byte
	for {
		it, ok := d.Next()
		if !ok || it.Kind != KindHandshake {
			break
		}
		if it.RecordEnd != it.End {
			t.Errorf("%s in its own record: RecordEnd %d, End %d", it.HandshakeType, it.RecordEnd, it.End)
		}
		n := len(it.Body)
		msgs = append(msgs, byte(it.HandshakeType), byte(n>>16), byte(n>>8), byte(n))
		msgs = append(msgs, it.Body...)
	}
	record := append([]byte{22, 3, 1, byte(len(msgs) >> 8), byte(len(msgs))}, msgs...)
	record = append(record, 20, 3, 1, 0, 1, 1) // change_cipher_spec

	var types []HandshakeType
	d = Decoder{}
	d.Feed(record)
	for {
		it, ok := d.Next()
		if !ok {
			break
		}
		switch it.Kind {
		case KindHandshake:
			types = append(types, it.HandshakeType)
			if it.RecordEnd != int64(5+len(msgs)) {
				t.Errorf("%s: RecordEnd = %d, want %d (End %d)", it.HandshakeType, it.RecordEnd, 5+len(msgs), it.End)
			}
		case KindChangeCipherSpec:
			if it.RecordEnd != it.End || it.End != int64(len(record)) {
				t.Errorf("change_cipher_spec: RecordEnd %d, End %d, want both %d", it.RecordEnd, it.End, len(record))
			}
		}
	}
	if len(types) < 3 {
		t.Fatalf("re-framed record gave %v, want at least server_hello, certificate, server_hello_done", types)
	}
}
