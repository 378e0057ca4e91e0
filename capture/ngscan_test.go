package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// FuzzNgScanner checks that the scanner never panics, keeps within its
// bounds, and finds the same blocks and the same cut however the bytes
// are split between reads. (FuzzRun reads pcapng Files, which run the
// scanner too.)
func FuzzNgScanner(f *testing.F) {
	for _, n := range []string{"tls12_openssl_gcm384_dsb.pcapng", "tls13_curl_dsb.pcapng"} {
		if b, err := os.ReadFile(keysDir + "/" + n); err == nil {
			f.Add(b, uint16(1))
			f.Add(b[:min(len(b), 300)], uint16(7))
		}
	}
	f.Add([]byte{}, uint16(0))
	f.Add(hugePacketBlock(), uint16(5))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		var whole ngScanner
		var a []DecryptionSecrets
		whole.deliver = func(ds DecryptionSecrets) { a = append(a, ds) }
		kept, cut := whole.feed(data)
		if kept < 0 || kept > len(data) || cut == nil && kept != len(data) {
			t.Fatalf("whole: kept %d of %d bytes (%v)", kept, len(data), cut)
		}
		var parts ngScanner
		var b []DecryptionSecrets
		parts.deliver = func(ds DecryptionSecrets) { b = append(b, ds) }
		step := int(split)%61 + 1
		partsKept := 0
		var partsCut error
		for i := 0; i < len(data) && partsCut == nil; i += step {
			var n int
			n, partsCut = parts.feed(data[i:min(i+step, len(data))])
			partsKept += n
		}
		if fmt.Sprint(partsCut) != fmt.Sprint(cut) || cut != nil && (kept != int(whole.cut) || partsKept > kept+len(parts.hdr)) {
			t.Fatalf("whole: kept %d (%v); in pieces of %d: kept %d (%v)", kept, cut, step, partsKept, partsCut)
		}
		if !slices.EqualFunc(a, b, func(x, y DecryptionSecrets) bool {
			return x.Type == y.Type && bytes.Equal(x.Data, y.Data) && x.Offset == y.Offset
		}) {
			t.Fatalf("whole: %+v; in pieces of %d: %+v", a, step, b)
		}
		for _, ds := range a {
			if len(ds.Data) > maxSecretsBlock || ds.Offset < 0 || ds.Offset >= int64(len(data)) {
				t.Fatalf("block out of bounds: %d bytes at %d", len(ds.Data), ds.Offset)
			}
		}
	})
}

// hugePacketBlock is a little-endian pcapng: a Section Header, an
// Interface Description and an Enhanced Packet Block that claims a
// captured length of 3.75 GB but holds 64 bytes.
func hugePacketBlock() []byte {
	le := binary.LittleEndian
	var b []byte
	b = le.AppendUint32(b, ngBlockSection)
	b = le.AppendUint32(b, 28)
	b = le.AppendUint32(b, ngByteOrder)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint64(b, ^uint64(0)) // section length unknown
	b = le.AppendUint32(b, 28)
	b = le.AppendUint32(b, ngBlockInterface)
	b = le.AppendUint32(b, 20)
	b = le.AppendUint32(b, 1) // Ethernet, reserved
	b = le.AppendUint32(b, 0) // snap length: none
	b = le.AppendUint32(b, 20)
	b = le.AppendUint32(b, ngBlockEnhancedPacket)
	b = le.AppendUint32(b, 32+64)
	b = le.AppendUint32(b, 0)          // interface
	b = le.AppendUint64(b, 0)          // time
	b = le.AppendUint32(b, 0xf0000000) // captured length
	b = le.AppendUint32(b, 0xf0000000) // original length
	b = append(b, make([]byte, 64)...)
	return le.AppendUint32(b, 32+64)
}

// TestNgScannerCut: the scanner passes on the blocks before a packet block
// over maxRecordLen, and no more of it than the bytes of its header that
// came before the scanner could read it.
func TestNgScannerCut(t *testing.T) {
	data := hugePacketBlock()
	for _, step := range []int{1, 7, 48, 49, len(data)} {
		var s ngScanner
		kept := 0
		var err error
		for i := 0; i < len(data) && err == nil; i += step {
			var n int
			n, err = s.feed(data[i:min(i+step, len(data))])
			kept += n
		}
		// The header's last byte is byte 71: the pieces before the one
		// holding it were passed on.
		want := max(48, 71/step*step)
		if kept != want || err == nil || !strings.Contains(err.Error(), "block at offset 48 claims a capture length of 4026531840") {
			t.Errorf("in pieces of %d: kept %d bytes (%v), want %d and the packet block at offset 48", step, kept, err, want)
		}
		if n, again := s.feed([]byte{0}); n != 0 || again != err {
			t.Errorf("in pieces of %d: after the cut, feed passes %d bytes (%v)", step, n, again)
		}
	}
}
