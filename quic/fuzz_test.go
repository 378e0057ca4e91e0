package quic

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
)

var (
	fuzzClient = netip.MustParseAddrPort("192.0.2.1:50000")
	fuzzServer = netip.MustParseAddrPort("192.0.2.2:443")
)

// runDatagrams feeds data to a Tracker as datagrams: each is a direction
// byte (odd: from the server), a 2-byte length and the payload. It
// returns what the connections say, for determinism checks.
func runDatagrams(data []byte) string {
	var out bytes.Buffer
	tr := NewTracker(Options{Trace: true, MaxCrypto: 1 << 16}, func(c *Conn) {
		fmt.Fprintf(&out, "%v %v %d %d %d %v %v %d|", c.Client, c.Version, len(c.Messages), len(c.Closes), c.CryptoCut, c.Retry != nil, c.VersionNegotiation != nil, len(c.Trace))
		for _, m := range c.Messages {
			fmt.Fprintf(&out, "%d:%d:%x,", m.Type, m.Frame.Number, m.Body[:min(len(m.Body), 8)])
		}
	})
	start := time.Unix(1700000000, 0)
	for n := int64(1); len(data) >= 3; n++ {
		dir := data[0] & 1
		size := int(binary.BigEndian.Uint16(data[1:3]))
		data = data[3:]
		size = min(size, len(data))
		src, dst := fuzzClient, fuzzServer
		if dir == 1 {
			src, dst = dst, src
		}
		payload := bytes.Clone(data[:size])
		tr.Datagram(src, dst, payload, capture.Frame{Number: n, Time: start.Add(time.Duration(n) * time.Millisecond)})
		data = data[size:]
	}
	tr.End()
	if tr.held != 0 {
		panic(fmt.Sprintf("tracker still counts %d crypto bytes after End", tr.held))
	}
	return out.String()
}

func datagram(dir byte, b []byte) []byte {
	out := []byte{dir, byte(len(b) >> 8), byte(len(b))}
	return append(out, b...)
}

// FuzzDatagrams feeds arbitrary datagrams to the Tracker, seeded with the
// RFC's protected Initials and Retry. Properties: no panic, the crypto
// accounting returns to zero, the outcome is deterministic.
func FuzzDatagrams(f *testing.F) {
	vs := map[string][]byte{}
	for _, name := range []string{"client-initial-v1-packet", "server-initial-v1-packet", "client-initial-v2-packet", "server-initial-v2-packet", "retry-v1", "retry-v2"} {
		vs[name] = hexVector(name)
	}
	f.Add(datagram(0, vs["client-initial-v1-packet"]))
	f.Add(append(datagram(0, vs["client-initial-v1-packet"]), datagram(1, vs["server-initial-v1-packet"])...))
	f.Add(append(datagram(0, vs["client-initial-v2-packet"]), datagram(1, vs["server-initial-v2-packet"])...))
	f.Add(append(datagram(0, vs["client-initial-v1-packet"]), datagram(1, vs["retry-v1"])...))
	f.Add(append(datagram(0, vs["client-initial-v1-packet"]), datagram(1, []byte{0x80, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 1})...))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := runDatagrams(data), runDatagrams(data)
		if a != b {
			t.Fatalf("not deterministic:\n%s\n%s", a, b)
		}
	})
}

// FuzzFrames parses arbitrary plaintext as frames: no panic, and the same
// frames each time.
func FuzzFrames(f *testing.F) {
	f.Add(hexVector("client-initial-v1-plaintext"))
	f.Add(hexVector("server-initial-v1-plaintext"))
	f.Add([]byte{0x1c, 0x41, 0x78, 0x06, 0x03, 'a', 'b', 'c'})
	f.Fuzz(func(t *testing.T, data []byte) {
		var a, b []Frame
		errA := ParseFrames(data, func(fr *Frame) { a = append(a, *fr) })
		errB := ParseFrames(data, func(fr *Frame) { b = append(b, *fr) })
		if !reflect.DeepEqual(a, b) || (errA == nil) != (errB == nil) {
			t.Fatal("not deterministic")
		}
	})
}

// FuzzCryptoStream adds arbitrary CRYPTO frames (offset, length, bytes)
// to one stream: no panic, the bounds hold, and the bytes delivered in
// order equal those of the frames wherever they overlap nothing.
func FuzzCryptoStream(f *testing.F) {
	f.Add([]byte{0, 0, 4, 1, 0, 0, 0, 0, 4, 0, 4, 2, 0, 0, 1})
	f.Add([]byte{0, 4, 4, 2, 0, 0, 1, 0, 0, 4, 1, 0, 0, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s cryptoStream
		var msgs []Message
		for len(data) >= 3 {
			off := uint64(data[0])<<8 | uint64(data[1])
			n := min(int(data[2]), len(data)-3)
			msgs = s.add(off*16, data[3:3+n], capture.Frame{Number: 1}, msgs)
			data = data[3+n:]
			if s.held > MaxCryptoPending || len(s.buf) > MaxCryptoStream {
				t.Fatalf("bounds: %d pending, %d buffered", s.held, len(s.buf))
			}
		}
		for _, m := range msgs {
			if len(m.Body) > MaxCryptoStream {
				t.Fatalf("message of %d bytes", len(m.Body))
			}
		}
	})
}
