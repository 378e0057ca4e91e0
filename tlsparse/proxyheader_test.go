package tlsparse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// proxyStreams are the client streams a backend read behind load
// balancers (testdata/make-fixtures.sh cuts them from the captures of
// testdata/field/proxyproto): a PROXY protocol header, then curl's
// ClientHello.
var proxyStreams = []struct {
	name     string
	version  int
	family   string
	src, dst string
	tlvs     []uint8
}{
	{"proxy-v1_curl.client", 1, "TCP4", "10.92.0.2:39652", "10.92.0.1:9610", nil},
	{"proxy-v2_ipv6_curl.client", 2, "TCP6", "[fd00:92::2]:46340", "[fd00:92::1]:9620", []uint8{0x05, 0x04}},
}

func TestProxyHeaderThenClientHello(t *testing.T) {
	for _, s := range proxyStreams {
		t.Run(s.name, func(t *testing.T) {
			stream := loadHex(t, s.name)
			items := checkSplits(t, s.name, stream)
			if len(items) != 2 || items[0].Kind != KindProxyHeader || items[0].Err != "" ||
				items[1].Kind != KindHandshake || items[1].HandshakeType != HandshakeTypeClientHello {
				t.Fatalf("items %+v, want a PROXY header then a ClientHello", items)
			}
			if items[1].Start != items[0].End+5 || items[0].Start != 0 { // the message after its record header
				t.Errorf("header %d..%d, ClientHello from %d", items[0].Start, items[0].End, items[1].Start)
			}
			h, err := ParseProxyHeader([]byte(items[0].Body))
			if err != nil {
				t.Fatal(err)
			}
			if h.Version != s.version || h.Family != s.family || h.Source.String() != s.src || h.Destination.String() != s.dst ||
				h.Length != int(items[0].End) || !slices.Equal(h.TLVs, s.tlvs) || h.Local || h.Cut {
				t.Errorf("got %+v", h)
			}
			if _, err := ParseClientHello([]byte(items[1].Body)); err != nil {
				t.Errorf("ClientHello: %v", err)
			}
		})
	}
}

// proxyHeaderOf returns the header the stream begins with.
func proxyHeaderOf(t *testing.T, name string) []byte {
	t.Helper()
	b := loadHex(t, name)
	h, err := ParseProxyHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	return b[:h.Length]
}

func TestProxyHeaderMalformed(t *testing.T) {
	v1 := proxyHeaderOf(t, "proxy-v1_curl.client")
	v2 := proxyHeaderOf(t, "proxy-v2_ipv6_curl.client")
	edit := func(b []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	for _, c := range []struct {
		name  string
		b     []byte
		trunc bool   // ErrProxyTruncated
		want  string // in the error otherwise
	}{
		{"v1 truncated", v1[:20], true, ""},
		{"v1 without CR", edit(v1, func(b []byte) []byte { return append(b[:len(b)-2], '\n') }), false, "LF, not CRLF"},
		{"v1 too long", append([]byte("PROXY TCP4 "), bytes.Repeat([]byte("1"), 120)...), false, "without CRLF in its first 107 bytes"},
		{"v1 bad family", edit(v1, func(b []byte) []byte { copy(b[6:], "TCP5"); return b }), false, "unknown protocol"},
		{"v1 bad port", edit(v1, func(b []byte) []byte { return bytes.Replace(b, []byte(" 9610"), []byte(" 96100"), 1) }), false, "bad address or port"},
		{"v1 family mismatch", edit(v1, func(b []byte) []byte { copy(b[6:], "TCP6"); return b }), false, "not of family TCP6"},
		{"v2 truncated fixed part", v2[:14], true, ""},
		{"v2 truncated addresses", v2[:30], true, ""},
		{"v2 bad signature", edit(v2, func(b []byte) []byte { b[8] = 'X'; return b }), false, "bad version 2 signature"},
		{"v2 bad version", edit(v2, func(b []byte) []byte { b[12] = 0x31; return b }), false, "version 3"},
		{"v2 bad command", edit(v2, func(b []byte) []byte { b[12] = 0x25; return b }), false, "unknown command"},
		{"v2 bad family", edit(v2, func(b []byte) []byte { b[13] = 0x41; return b }), false, "unknown family"},
		{"v2 length too short", edit(v2, func(b []byte) []byte { binary.BigEndian.PutUint16(b[14:], 20); return b }), false, "too short for TCP6"},
		{"v2 TLV past the end", edit(v2, func(b []byte) []byte { binary.BigEndian.PutUint16(b[14:], uint16(len(b)-16-2)); return b }), false, "past the header's end"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseProxyHeader(c.b)
			switch {
			case err == nil:
				t.Fatal("no error")
			case c.trunc != errors.Is(err, ErrProxyTruncated):
				t.Errorf("error %q, truncated %v", err, c.trunc)
			case !c.trunc && !strings.Contains(err.Error(), c.want):
				t.Errorf("error %q, want %q in it", err, c.want)
			}
		})
	}
}

// A malformed header is reported, and the ClientHello after it is still
// read; a truncated one at the stream's end is the decoder's Unsaid.
func TestDecoderMalformedProxyHeader(t *testing.T) {
	stream := loadHex(t, "proxy-v1_curl.client")
	hl := len(proxyHeaderOf(t, "proxy-v1_curl.client"))
	bad := slices.Concat(stream[:hl-2], []byte("\n"), stream[hl:])
	items := checkSplits(t, "lf", bad)
	if len(items) != 2 || items[0].Kind != KindProxyHeader || !strings.Contains(items[0].Err, "LF, not CRLF") || items[1].HandshakeType != HandshakeTypeClientHello {
		t.Fatalf("items %+v", items)
	}
	var d Decoder
	d.Feed(stream[:20])
	if _, ok := d.Next(); ok {
		t.Fatal("an item from 20 bytes of a header")
	}
	if b, at := d.Unsaid(); at != 0 || !bytes.Equal(b, stream[:20]) {
		t.Errorf("Unsaid %q at %d", b, at)
	}
	if got := describeNonTLS(stream[:20]); !strings.HasPrefix(got, "PROXY protocol header (PROXY TCP4") {
		t.Errorf("described as %q", got)
	}
}

// A version 2 header longer than the decoder keeps is passed over by its
// length, and its cut is said.
func TestDecoderLongProxyV2(t *testing.T) {
	stream := loadHex(t, "proxy-v2_ipv6_curl.client")
	hl := len(proxyHeaderOf(t, "proxy-v2_ipv6_curl.client"))
	pad := make([]byte, 3+3000) // a NOOP TLV of 3000 bytes
	pad[0] = 0x04
	binary.BigEndian.PutUint16(pad[1:], 3000)
	long := slices.Concat(stream[:hl], pad, stream[hl:])
	binary.BigEndian.PutUint16(long[14:], uint16(hl-16+len(pad)))
	items := checkSplits(t, "long", long)
	if len(items) != 2 || items[0].Kind != KindProxyHeader || items[0].End != int64(hl+len(pad)) || items[1].HandshakeType != HandshakeTypeClientHello {
		t.Fatalf("items %+v", items)
	}
	h, err := ParseProxyHeader([]byte(items[0].Body))
	if err != nil || !h.Cut || h.Length != hl+len(pad) || len(items[0].Body) > proxyKeep {
		t.Errorf("%+v, %v (kept %d bytes)", h, err, len(items[0].Body))
	}
	if want := netip.MustParseAddrPort("[fd00:92::2]:46340"); h.Source != want {
		t.Errorf("source %v", h.Source)
	}
}

func FuzzParseProxyHeader(f *testing.F) {
	for _, s := range proxyStreams {
		f.Add(loadHex(f, s.name))
	}
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseProxyHeader(b)
		if err == nil && (h.Length > len(b) && !h.Cut || h.Version == 1 && h.Length > ProxyV1Max || h.Length > ProxyV2Max) {
			t.Fatalf("%+v from %d bytes", h, len(b))
		}
	})
}
