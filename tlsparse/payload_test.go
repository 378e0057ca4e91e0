package tlsparse

import (
	"bytes"
	"testing"
)

// TestKeepPayloads checks that after KeepPayloads every application_data
// record's payload comes out whole, however the stream is split, and that
// without it no payload is handed out.
func TestKeepPayloads(t *testing.T) {
	stream := loadHex(t, "gnutls-tls13.server")
	var want [][]byte
	for b := stream; len(b) >= 5; {
		h, err := ParseRecordHeader(b)
		if err != nil || len(b) < 5+h.Length {
			break
		}
		if h.Type == ContentTypeApplicationData {
			want = append(want, b[5:5+h.Length])
		}
		b = b[5+h.Length:]
	}
	if len(want) < 2 {
		t.Fatalf("fixture has %d application_data records, want several", len(want))
	}
	for _, split := range []int{1, 7, 100, len(stream)} {
		var d Decoder
		d.KeepPayloads()
		var got [][]byte
		for i := 0; i < len(stream); i += split {
			d.Feed(stream[i:min(i+split, len(stream))])
			for {
				it, ok := d.Next()
				if !ok {
					break
				}
				if it.Kind == KindApplicationData {
					got = append(got, bytes.Clone(it.Body))
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("split %d: %d payloads, want %d", split, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("split %d: payload %d differs (%d bytes, want %d)", split, i, len(got[i]), len(want[i]))
			}
		}
	}
	var d Decoder
	d.Feed(stream)
	for {
		it, ok := d.Next()
		if !ok {
			break
		}
		if it.Kind == KindApplicationData && it.Body != nil {
			t.Fatalf("without KeepPayloads an application_data item carries %d payload bytes", len(it.Body))
		}
	}
}
