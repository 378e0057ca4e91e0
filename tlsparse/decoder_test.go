package tlsparse

import (
	"bytes"
	"crypto/tls"
	"errors"
	"slices"
	"strings"
	"testing"
)

// record builds one record (test input for malformed and edge cases).
func record(typ ContentType, body []byte) []byte {
	return append([]byte{byte(typ), 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

// helloRecord builds a record of one hello of the given type: a version
// of TLS 1.2, the rest zeros.
func helloRecord(typ HandshakeType) []byte {
	body := make([]byte, 4+38)
	body[0], body[3], body[4], body[5] = byte(typ), 38, 3, 3
	return record(ContentTypeHandshake, body)
}

func appData(n int) []byte { return record(ContentTypeApplicationData, bytes.Repeat([]byte{0xa5}, n)) }

func TestNonTLSStreams(t *testing.T) {
	tests := []struct {
		name, stream, want string
	}{
		{"http request", "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n", "HTTP request (GET / HTTP/1.1)"},
		{"http response", "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n", "HTTP response (HTTP/1.1 400 Bad Request)"},
		{"ssh", "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "SSH banner (SSH-2.0-OpenSSH_9.2p1 Debian-2)"},
		{"ftp", "220 (vsFTPd 3.0.3)\r\n", "SMTP/FTP banner (220 (vsFTPd 3.0.3))"},
		{"long line", "GET /" + strings.Repeat("a", 200) + " HTTP/1.1\r\n", "HTTP request (GET /" + strings.Repeat("a", 40) + "…)"},
		{"binary", "\x00\x01\x02\x03\xff\xfe\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0", "unrecognised bytes 00 01 02 03 ff fe 10 20 30 40 50 60 …"},
		{"postgres", "\x00\x00\x00\x08\x04\xd2\x16\x2f", "PostgreSQL SSLRequest"},
		// gRPC-Go's server without TLS: its SETTINGS frame, then nothing
		// until the client's preface (testdata/field/grpc/tls_to_h2c.pcap).
		{"h2c settings", "\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x05\x00\x00\x40\x00", "HTTP/2 SETTINGS frame (HTTP/2 without TLS, h2c)"},
		// A setting whose value holds 0x0a, which is no line end here.
		{"h2c settings newline", "\x00\x00\x0c\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x0a\x00\x00\x04\x00\x01\x00\x00", "HTTP/2 SETTINGS frame (HTTP/2 without TLS, h2c)"},
		{"h2c preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00", "HTTP/2 connection preface (PRI * HTTP/2.0)"},
		// A plain-HTTP server's page without its status line (the start
		// was elsewhere, or an HTTP/0.9 answer): text, not hex.
		{"html", "<!DOCTYPE html>\n<html><head><title>400 The plain HTTP request was sent to HTTPS port</title>", "text (<!DOCTYPE html>)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := []byte(tt.stream)
			if tt.name == "binary" || tt.name == "postgres" {
				// Binary preludes are described once TLS starts after them.
				stream = append(stream, helloRecord(HandshakeTypeClientHello)...)
			}
			items := sameUnderSplits(t, tt.name, stream)
			if len(items) == 0 || items[0].Kind != KindNonTLS || items[0].NonTLS != tt.want || items[0].Start != 0 {
				t.Fatalf("items %+v, want NonTLS %q", items, tt.want)
			}
			if n := len([]rune(items[0].NonTLS)); n > 62 {
				t.Errorf("description of %d characters", n)
			}
			for _, it := range items[1:] {
				if it.Kind == KindNonTLS {
					t.Error("second NonTLS item")
				}
			}
		})
	}
}

func TestRecordCaps(t *testing.T) {
	t.Run("record too long", func(t *testing.T) {
		stream := append([]byte{23, 3, 3, 0xff, 0xff, 0, 0}, appData(10)...)
		items := sameUnderSplits(t, "stream", stream)
		if len(items) != 2 || items[0].Kind != KindMalformed || !strings.Contains(items[0].Err, "length 65535 exceeds 18432") ||
			items[1].Kind != KindApplicationData || items[1].Start != 7 {
			t.Errorf("items %+v", items)
		}
	})
	t.Run("handshake message over the cap", func(t *testing.T) {
		const n = 196608 // 0x030000
		msg := append([]byte{11, 3, 0, 0}, make([]byte, n)...)
		var stream []byte
		for len(msg) > 0 {
			k := min(len(msg), 16384)
			stream = append(stream, record(ContentTypeHandshake, msg[:k])...)
			msg = msg[k:]
		}
		stream = append(stream, record(ContentTypeChangeCipherSpec, []byte{1})...)
		var d Decoder
		var got []Item
		for i := 0; i < len(stream); i += 1000 {
			d.Feed(stream[i:min(i+1000, len(stream))])
			for it, ok := d.Next(); ok; it, ok = d.Next() {
				got = append(got, it)
			}
		}
		if len(got) != 2 || got[0].Kind != KindMalformed || got[1].Kind != KindChangeCipherSpec {
			t.Fatalf("items %+v", got)
		}
		want := "oversized handshake message: 196608 bytes exceed the 131072-byte cap"
		// Reported at its header: the rest may never arrive.
		if !strings.Contains(got[0].Err.Error(), want) || !errors.Is(got[0].Err, ErrOversized) || got[0].Start != 5 || got[0].End != 5+4 {
			t.Errorf("malformed item %+v (%v)", got[0], got[0].Err)
		}
		if cap(d.hsBody) != 0 {
			t.Errorf("decoder buffered %d bytes of an oversized message", cap(d.hsBody))
		}
	})
}

// TestOversizedThenInterrupted: an oversized message cut short by a record
// of another type was reported at its header; the cut is not a second
// problem.
func TestOversizedThenInterrupted(t *testing.T) {
	msg := append([]byte{1, 0xff, 0xff, 0xff}, make([]byte, 100)...)
	stream := slicesConcat(record(ContentTypeHandshake, msg), record(ContentTypeAlert, []byte{2, 40}))
	items := sameUnderSplits(t, "stream", stream)
	if len(items) != 2 || items[0].Kind != KindMalformed || !strings.Contains(items[0].Err, "oversized handshake message") ||
		items[1].Kind != KindAlert {
		t.Errorf("items %+v, want the oversized message, then the alert", items)
	}
}

func TestInterruptedHandshake(t *testing.T) {
	stream := slicesConcat(record(ContentTypeHandshake, []byte{2, 0, 0, 10, 1, 2}), record(ContentTypeAlert, []byte{2, 40}))
	items := sameUnderSplits(t, "stream", stream)
	if len(items) != 2 || items[0].Kind != KindMalformed || !strings.Contains(items[0].Err, "interrupted by a alert record") ||
		items[1].Alert != (Alert{AlertLevelFatal, AlertHandshakeFailure}) {
		t.Errorf("items %+v", items)
	}
}

func slicesConcat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

func TestSetEncrypted(t *testing.T) {
	stream := slicesConcat(record(ContentTypeHandshake, []byte{20, 0, 0, 1, 9}), record(ContentTypeHandshake, []byte{20, 0, 0, 1, 9}))
	items := decode(stream, whole, nil)
	if len(items) != 2 || items[0].Kind != KindHandshake || items[1].Kind != KindHandshake {
		t.Errorf("plaintext: %+v", items)
	}
	items = decode(stream, whole, (*Decoder).SetEncrypted)
	if len(items) != 2 || items[0].Kind != KindEncryptedHandshake || items[0].End != 10 {
		t.Errorf("encrypted: %+v", items)
	}
}

func TestGapAndResync(t *testing.T) {
	stream := slicesConcat(appData(100), appData(200), appData(300))
	t.Run("gap inside application data stays in step", func(t *testing.T) {
		var d Decoder
		d.Feed(stream[:150])
		var got []Item
		for it, ok := d.Next(); ok; it, ok = d.Next() {
			got = append(got, it)
		}
		d.Gap(50) // bytes 150..199 lost, inside the second record
		d.Feed(stream[200:])
		for it, ok := d.Next(); ok; it, ok = d.Next() {
			got = append(got, it)
		}
		if len(got) != 3 || got[1].Start != 105 || got[1].End != 310 || got[2].End != int64(len(stream)) || d.Skipped() != 0 {
			t.Errorf("items %+v skipped %d", got, d.Skipped())
		}
	})
	t.Run("gap across a header resynchronises", func(t *testing.T) {
		var d Decoder
		d.Feed(stream[:100])
		d.Gap(10) // bytes 100..109 lost: the second header
		d.Feed(stream[110:])
		var got []Item
		for it, ok := d.Next(); ok; it, ok = d.Next() {
			got = append(got, it)
		}
		if len(got) != 1 || got[0].Start != 310 || d.Offset() != int64(len(stream)) {
			t.Errorf("items %+v offset %d", got, d.Offset())
		}
	})
	// A plain HTTP download whose capture lost a segment: its body holds,
	// by chance, bytes that pass for a record header. They stay the
	// body; a STARTTLS-style hello after them is still found.
	t.Run("gap in a stream that is not TLS", func(t *testing.T) {
		var d Decoder
		d.Feed([]byte("HTTP/1.1 200 OK\r\nContent-Length: 4000000\r\n\r\n"))
		var got []Item
		for it, ok := d.Next(); ok; it, ok = d.Next() {
			got = append(got, it)
		}
		d.Gap(1448)
		d.Feed(slicesConcat([]byte{0x9c, 0x41}, appData(16), []byte{0x07, 0xe2}, helloRecord(HandshakeTypeServerHello)))
		for it, ok := d.Next(); ok; it, ok = d.Next() {
			got = append(got, it)
		}
		if len(got) != 2 || got[0].Kind != KindNonTLS || got[1].Kind != KindHandshake || got[1].HandshakeType != HandshakeTypeServerHello {
			t.Errorf("items %+v, want the HTTP response, then only the ServerHello", got)
		}
	})
	t.Run("capture started mid record", func(t *testing.T) {
		items := decode(stream[50:], whole, (*Decoder).Resync)
		if len(items) != 2 || items[0].Start != 105-50 || items[0].Kind != KindApplicationData {
			t.Errorf("items %+v", items)
		}
		one := decode(stream[50:], oneByte, (*Decoder).Resync)
		if len(one) != len(items) || one[0] != items[0] {
			t.Errorf("1-byte feeds: %+v", one)
		}
	})
}

// TestResyncConfirmation: a record found by a resynchronisation counts
// once a record header follows it, or at once when it begins as a hello,
// an alert or a change_cipher_spec does. Bytes of another protocol whose
// start the capture missed pass for one header by chance, and RPC framing
// (18 03 01 LL LL, the bytes of the session in zeek's dce-rpc/mapi.pcap)
// for a chain of heartbeat records.
func TestResyncConfirmation(t *testing.T) {
	heartbeats := slicesConcat([]byte{0x00, 0x2c, 0x0e},
		[]byte{0x18, 0x03, 0x01, 0x00, 0x04, 0x0c, 0x00, 0x00, 0x10},
		[]byte{0x18, 0x03, 0x01, 0x00, 0x03, 0x0e, 0x30, 0x00},
		[]byte{0x18, 0x03, 0x01, 0x00, 0x02, 0x0e, 0x0e})
	tests := []struct {
		name   string
		stream []byte
		want   []ItemKind // the items, each confirmed unless in unconfirmed
		// unconfirmed lists the indexes of items flagged Unconfirmed.
		unconfirmed []int
	}{
		{"one header by chance, then no header", slicesConcat([]byte{0x9c, 0x41}, appData(16), []byte{0x07, 0xe2, 0x61, 0x00, 0x00, 0x00}), []ItemKind{KindApplicationData}, []int{0}},
		{"records in a row", slicesConcat([]byte{0x9c, 0x41}, appData(16), appData(20), appData(30)), []ItemKind{KindApplicationData, KindApplicationData, KindApplicationData}, []int{0}},
		{"RPC framing before any TLS", heartbeats, nil, nil},
		{"a hello confirms itself", slicesConcat([]byte{0x17, 0x03}, helloRecord(HandshakeTypeServerHello)), []ItemKind{KindHandshake}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decode(tt.stream, whole, (*Decoder).Resync)
			if one := decode(tt.stream, oneByte, (*Decoder).Resync); !slices.Equal(one, got) {
				t.Errorf("1-byte feeds: %+v\nwhole: %+v", one, got)
			}
			var kinds []ItemKind
			var unconfirmed []int
			for i, it := range got {
				kinds = append(kinds, it.Kind)
				if it.Unconfirmed {
					unconfirmed = append(unconfirmed, i)
				}
			}
			if !slices.Equal(kinds, tt.want) || !slices.Equal(unconfirmed, tt.unconfirmed) {
				t.Errorf("items %v, unconfirmed %v; want %v, unconfirmed %v\n%+v", kinds, unconfirmed, tt.want, tt.unconfirmed, got)
			}
		})
	}
	// Once a stream showed TLS, a record after a gap is taken as before,
	// heartbeats too (a Heartbleed probe's).
	var d Decoder
	d.Feed(appData(10))
	for _, ok := d.Next(); ok; _, ok = d.Next() {
	}
	d.Gap(7)
	d.Feed(slicesConcat([]byte{0x41}, record(ContentTypeHeartbeat, []byte{1, 0x40, 0x00}), appData(3)))
	var kinds []ItemKind
	for it, ok := d.Next(); ok; it, ok = d.Next() {
		kinds = append(kinds, it.Kind)
	}
	if !slices.Equal(kinds, []ItemKind{KindHeartbeat, KindApplicationData}) {
		t.Errorf("after a gap in TLS: items %v, want a heartbeat and application data", kinds)
	}
}

func TestApplicationDataDoesNotAllocate(t *testing.T) {
	rec := appData(16384)
	var d Decoder
	allocs := testing.AllocsPerRun(200, func() {
		// Split the record over three feeds, as TCP segments would.
		for _, part := range [][]byte{rec[:3], rec[3:9000], rec[9000:]} {
			d.Feed(part)
			for _, ok := d.Next(); ok; _, ok = d.Next() {
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per application data record", allocs)
	}
}

// TestAlertAfterPrelude: a server that refuses a ClientHello which came
// through a proxy's tunnel answers with an alert right after the proxy's
// 200: the alert is read, not skipped with the prelude.
func TestAlertAfterPrelude(t *testing.T) {
	stream := append([]byte("HTTP/1.1 200 Connection established\r\n\r\n"), record(ContentTypeAlert, []byte{2, byte(AlertProtocolVersion)})...)
	items := sameUnderSplits(t, "proxy then alert", stream)
	if len(items) != 2 || items[0].Kind != KindNonTLS || items[1].Kind != KindAlert || items[1].Alert.Description != AlertProtocolVersion {
		t.Fatalf("items %+v, want the proxy's answer then alert protocol_version", items)
	}
	// Bytes that look like an alert header but hold no alert stay
	// prelude: length 3, level 7.
	for _, bad := range [][]byte{{21, 3, 3, 0, 3, 2, 70, 0}, {21, 3, 3, 0, 2, 7, 70}} {
		stream := append([]byte("HTTP/1.1 200 OK\r\n\r\n"), bad...)
		stream = append(stream, helloRecord(HandshakeTypeServerHello)...)
		items := sameUnderSplits(t, "not an alert", stream)
		for _, it := range items {
			if it.Kind == KindAlert {
				t.Errorf("% x read as an alert: %+v", bad, it)
			}
		}
	}
}

// TestHelloHuntInBody: a plain HTTP download's body is hunted for a hello,
// as after a proxy's answer; it may hold, by chance, the six bytes of a
// hello record's start. These come from the body of a 2.5 MB download in
// suricata-verify's decode-sll2-02 capture; the first was read as a
// ServerHello, and the bytes after it as malformed records.
func TestHelloHuntInBody(t *testing.T) {
	stream := slicesConcat([]byte("HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n"),
		[]byte("\x25\x03\x24\x01\x16\x03\x03\x01\x85\x02\x03\x07\x03\x8a\x02\x02\x0b\x02\x0d\x03\x03\x04\x01\x0d"),
		[]byte("\x3f\x02\x00\xc6\x16\x03\x02\x01\x02\x01\x06\x06\x03\x05\x00\x00\x03\x01\x0d\x00\x00\x03\x02\x0d"),
		[]byte("\x12\x27\x01\x28\x16\x03\x03\xac\x01\x02\xa7\x01\x01\xa8\x01\x01\xab\x01\x03\x04\x02\xa8\x01\x01"),
		helloRecord(HandshakeTypeServerHello))
	items := sameUnderSplits(t, "body", stream)
	if len(items) != 2 || items[0].Kind != KindNonTLS || items[1].Kind != KindHandshake || items[1].Start != int64(len(stream)-42) {
		t.Fatalf("items %+v, want the HTTP response, then only the ServerHello at the end", items)
	}
}

// A Reset decoder decodes a stream as a new one does, whatever state the
// last stream left it in (cut in the middle of a message, its buffer
// holding another message's bytes).
func TestReset(t *testing.T) {
	p := getPKI(t)
	rec := runTLS(t, &tls.Config{ServerName: "example.test", RootCAs: p.pool, MaxVersion: tls.VersionTLS12},
		&tls.Config{Certificates: []tls.Certificate{p.rsaLeaf}})
	want := decode(rec.server, oneByte, nil)
	got := decode(rec.server, oneByte, func(d *Decoder) {
		d.SetEncrypted()
		other := rec.client
		for len(other) > 1 {
			d.Feed(other[:1])
			other = other[1:]
			for _, ok := d.Next(); ok; _, ok = d.Next() {
			}
		}
		d.Reset()
	})
	if !slices.Equal(got, want) {
		t.Errorf("after Reset: %d items, want %d\n got %+v\nwant %+v", len(got), len(want), got, want)
	}
}
