package capture

import (
	"bytes"
	"encoding/binary"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

const keysDir = "../testdata/keys"

// readSecrets reads a whole capture and returns its Decryption Secrets
// Blocks and the frames read.
func readSecrets(t *testing.T, name string, data []byte) ([]DecryptionSecrets, int64) {
	t.Helper()
	f, err := NewReader(name, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var got []DecryptionSecrets
	f.OnDecryptionSecrets(func(ds DecryptionSecrets) { got = append(got, ds) })
	for {
		if _, _, err := f.ReadPacketData(); err != nil {
			break
		}
	}
	return got, f.Frames()
}

// TestSecretsInjected reads the key logs editcap --inject-secrets put in
// pcapng copies of real TLS 1.2 and 1.3 captures.
func TestSecretsInjected(t *testing.T) {
	for _, n := range []string{"tls12_openssl_gcm384", "tls13_curl"} {
		data, err := os.ReadFile(keysDir + "/" + n + "_dsb.pcapng")
		if err != nil {
			t.Fatal(err)
		}
		keylog, err := os.ReadFile(keysDir + "/" + n + ".keylog")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := readSecrets(t, n, data)
		if len(got) != 1 || got[0].Type != SecretsTypeTLSKeyLog {
			t.Fatalf("%s: %d blocks (%+v), want one TLS key log", n, len(got), got)
		}
		// editcap keeps the lines it recognises; each is in the file.
		lines := strings.Split(strings.TrimSpace(string(got[0].Data)), "\n")
		for _, l := range lines {
			if !strings.Contains(string(keylog), l) {
				t.Errorf("%s: secret line %q not in the key log", n, l)
			}
		}
		if len(lines) == 0 || !strings.Contains(string(got[0].Data), "CLIENT_") && !strings.Contains(string(got[0].Data), "TRAFFIC_SECRET") {
			t.Errorf("%s: no secrets in %q", n, got[0].Data)
		}
	}
}

// TestSecretsAnywhere writes the frames of a real capture to pcapng with
// Decryption Secrets Blocks before the first packet, between packets and
// after the last, big- and little-endian, and reads every one back, in
// order, with the right offsets; another secrets type comes back as such.
func TestSecretsAnywhere(t *testing.T) {
	src, err := OpenFile(keysDir + "/tls13_curl.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	want := []DecryptionSecrets{}
	add := func(typ uint32, s string) {
		w.Flush()
		if err := w.WriteDecryptionSecretsBlock(typ, []byte(s)); err != nil {
			t.Fatal(err)
		}
		want = append(want, DecryptionSecrets{Type: typ, Data: []byte(s), Offset: int64(buf.Len())})
	}
	add(SecretsTypeTLSKeyLog, "CLIENT_RANDOM first\n")
	n := 0
	for {
		data, ci, err := src.ReadPacketData()
		if err != nil {
			break
		}
		ci.InterfaceIndex = 0
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			add(SecretsTypeTLSKeyLog, "CLIENT_RANDOM middle, odd length")
			add(0x57474b4c, "wireguard") // another type: handed over, not ours to judge
		}
	}
	add(SecretsTypeTLSKeyLog, "CLIENT_RANDOM last\n")
	w.Flush()
	got, frames := readSecrets(t, "x.pcapng", buf.Bytes())
	if frames != int64(n) {
		t.Errorf("%d frames read, want %d", frames, n)
	}
	if !slices.EqualFunc(got, want, func(a, b DecryptionSecrets) bool {
		return a.Type == b.Type && string(a.Data) == string(b.Data) && a.Offset == b.Offset
	}) {
		t.Errorf("blocks\n got %+v\nwant %+v", got, want)
	}

	// Big-endian: the same section written byte-swapped by hand.
	be := swapSection(t, buf.Bytes())
	got, _ = readSecrets(t, "be.pcapng", be)
	if len(got) != len(want) || string(got[0].Data) != string(want[0].Data) {
		t.Errorf("big-endian: %+v", got)
	}
}

// swapSection converts a little-endian pcapng made of SHB, IDB, EPB and
// DSB blocks to big-endian.
func swapSection(t *testing.T, b []byte) []byte {
	out := bytes.Clone(b)
	for off := 0; off+8 <= len(b); {
		typ, n := binary.LittleEndian.Uint32(b[off:]), int(binary.LittleEndian.Uint32(b[off+4:]))
		sw := func(at int) { binary.BigEndian.PutUint32(out[off+at:], binary.LittleEndian.Uint32(b[off+at:])) }
		sw16 := func(at int) { binary.BigEndian.PutUint16(out[off+at:], binary.LittleEndian.Uint16(b[off+at:])) }
		sw(0)
		sw(4)
		sw(n - 4)
		switch typ {
		case ngBlockSection:
			sw(8)
			sw16(12)
			sw16(14)
			binary.BigEndian.PutUint64(out[off+16:], binary.LittleEndian.Uint64(b[off+16:]))
			// options: each is type, length (16 bits), value
			for o := off + 24; o+4 <= off+n-4; {
				ot, ol := binary.LittleEndian.Uint16(b[o:]), int(binary.LittleEndian.Uint16(b[o+2:]))
				binary.BigEndian.PutUint16(out[o:], ot)
				binary.BigEndian.PutUint16(out[o+2:], uint16(ol))
				o += 4 + (ol+3)/4*4
				if ot == 0 {
					break
				}
			}
		case 1: // IDB: link type, reserved, snap length; no options swapped (none matter)
			sw16(8)
			sw(12)
			for o := off + 16; o+4 <= off+n-4; {
				ot, ol := binary.LittleEndian.Uint16(b[o:]), int(binary.LittleEndian.Uint16(b[o+2:]))
				binary.BigEndian.PutUint16(out[o:], ot)
				binary.BigEndian.PutUint16(out[o+2:], uint16(ol))
				if ol == 8 && ot != 2 && ot != 3 {
					binary.BigEndian.PutUint64(out[o+4:], binary.LittleEndian.Uint64(b[o+4:]))
				}
				o += 4 + (ol+3)/4*4
				if ot == 0 {
					break
				}
			}
		case 6: // EPB
			for _, at := range []int{8, 12, 16, 20, 24} {
				sw(at)
			}
		case ngBlockSecrets:
			sw(8)
			sw(12)
		default:
			t.Fatalf("block type %d at %d", typ, off)
		}
		off += n
	}
	return out
}
