package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// TestJoinedPcapFiles reads pcap files joined end to end, as cat joins
// them: real captures of two link types (Ethernet, Linux cooked v2) and
// a raw-IP one in the other byte order with nanosecond times. The frames
// are those of each file in turn, as each read alone gives them (link
// type and times included), frame by frame, into blocks and through a
// pipe; Run and RunSharded agree; Stats.JoinedFiles counts the files
// joined to the first.
func TestJoinedPcapFiles(t *testing.T) {
	parts := [][]byte{
		readFile(t, "testdata/lo-tls12-openssl.pcap"),
		readFile(t, "testdata/any-sll2-tls13-go.pcap"),
		writePcap(layers.LinkTypeRaw, binary.BigEndian, true, records(testConversation(t), nil)),
		readFile(t, "testdata/veth576-tls13-go.pcap"),
	}
	var joined []byte
	var want []filledFrame
	for i, p := range parts {
		frames, err := readEachFrame(bytes.NewReader(p))
		if err != io.EOF || len(frames) == 0 {
			t.Fatalf("part %d alone: %d frames, %v", i, len(frames), err)
		}
		joined = append(joined, p...)
		want = append(want, frames...)
	}
	got, err := readEachFrame(bytes.NewReader(joined))
	if err != io.EOF {
		t.Fatalf("joined: %v after %d frames", err, len(got))
	}
	if len(got) != len(want) {
		t.Fatalf("joined: %d frames, the parts %d", len(got), len(want))
	}
	for i := range got {
		if !got[i].equal(want[i]) {
			t.Fatalf("joined: frame %d is %v, in its part %v", i+1, got[i], want[i])
		}
	}
	checkFillMatchesRead(t, "joined", joined, 64, 1500, blockSize)

	logs, st, err := runLoggedErr(t, joined, Options{}, 0)
	if err != nil || st.JoinedFiles != 3 {
		t.Errorf("Run: %d files joined, %v; want 3, nil", st.JoinedFiles, err)
	}
	slogs, sst, err := runLoggedErr(t, joined, Options{}, 3)
	if err != nil || sst.JoinedFiles != 3 || !maps.Equal(logs, slogs) {
		t.Errorf("RunSharded: %d files joined, %v; streams differ from Run's: %s", sst.JoinedFiles, err, firstLogDiff(logs, slogs))
	}
	if _, st, _ := runLoggedErr(t, parts[0], Options{}, 0); st.JoinedFiles != 0 {
		t.Errorf("one file: %d files joined, want 0", st.JoinedFiles)
	}
}

// TestJoinedHeadersOnly reads a file of a file header followed by many
// more (read in a loop, not one call deeper per header), and a capture
// followed by a header alone (cat of an empty capture): each ends
// cleanly, with every header counted.
func TestJoinedHeadersOnly(t *testing.T) {
	header := writePcap(layers.LinkTypeEthernet, binary.LittleEndian, false, nil)
	capture := readFile(t, "testdata/lo-tls12-openssl.pcap")
	for _, tt := range []struct {
		name   string
		data   []byte
		joined int64
	}{
		{"100,000 headers", bytes.Repeat(header, 100_001), 100_000},
		{"a capture and an empty one", append(bytes.Clone(capture), header...), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, shards := range []int{0, 1, 2} {
				_, st, err := runLoggedErr(t, tt.data, Options{}, shards)
				if err != nil || st.JoinedFiles != tt.joined {
					t.Errorf("%d shards: %d files joined, %v; want %d, nil", shards, st.JoinedFiles, err, tt.joined)
				}
			}
		})
	}
	// A record whose lengths are 0 but that is no file header is read
	// as the empty frame it is.
	rec := binary.LittleEndian.AppendUint32(nil, 1700000000)
	rec = append(rec, make([]byte, 12)...)
	frames, err := readEachFrame(bytes.NewReader(append(header, rec...)))
	if err != io.EOF || len(frames) != 1 || len(frames[0].data) != 0 {
		t.Errorf("an empty record: %d frames, %v; want one empty frame", len(frames), err)
	}
}

// TestJoinedFormats reads a pcap and a pcapng file joined end to end, in
// either order: the first file's frames, then an error that names the
// second file's header and says what happened.
func TestJoinedFormats(t *testing.T) {
	pcap := readFile(t, "testdata/lo-tls12-openssl.pcap")
	ng := readFile(t, "testdata/two-interfaces.pcapng")
	for _, tt := range []struct {
		name         string
		first, other []byte
		want         string
	}{
		{"pcap then pcapng", pcap, ng, "a pcapng section header where a record should be: a pcap and a pcapng file joined end to end"},
		{"pcapng then pcap", ng, pcap, "a pcap file header at offset " + itoa(len(ng)) + ", where a pcapng block should be: a pcap and a pcapng file joined end to end"},
	} {
		alone, err := readEachFrame(bytes.NewReader(tt.first))
		if err != io.EOF {
			t.Fatal(err)
		}
		joined := append(bytes.Clone(tt.first), tt.other...)
		frames, err := readEachFrame(bytes.NewReader(joined))
		var re *ReadError
		if len(frames) != len(alone) || err == nil || !errors.As(err, &re) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %d frames (the first file alone %d), error %v; want a ReadError with %q", tt.name, len(frames), len(alone), err, tt.want)
		}
	}
}
