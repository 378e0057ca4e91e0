package capture

import (
	"context"
	"net/netip"
	"testing"
)

// TestInterfaceCopiesDropped reads the bridge captures of
// testdata/copies, where the host saw every packet twice (tcpdump -i any
// with Linux cooked v2 headers; dumpcap on both bridge ports, writing a
// batch of one port's packets before the other's, whole connections
// apart): every copy is dropped, by Run and by RunSharded, so no
// segment reads as a retransmission and each connection opens once.
func TestInterfaceCopiesDropped(t *testing.T) {
	for _, path := range []string{"testdata/copies/bridge-any.pcap", "testdata/copies/bridge-ports.pcapng"} {
		for _, shards := range []int{0, 1, 2} { // 0: Run
			src, err := OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			hs := make([]Handler, max(shards, 1))
			for i := range hs {
				hs[i] = newRecorder(t)
			}
			var st Stats
			if shards == 0 {
				st, err = Run(context.Background(), src, hs[0], Options{})
			} else {
				st, err = RunSharded(context.Background(), src, hs, Options{})
			}
			src.Close()
			if err != nil {
				t.Fatal(err)
			}
			if st.InterfaceCopies == 0 || 2*st.InterfaceCopies != st.Segments {
				t.Errorf("%s, %d shards: %d of %d segments dropped as copies, want half", path, shards, st.InterfaceCopies, st.Segments)
			}
			if st.Retransmissions != 0 || st.ConnsOpened != 3 {
				t.Errorf("%s, %d shards: %d retransmissions, %d connections; want 0 and 3", path, shards, st.Retransmissions, st.ConnsOpened)
			}
		}
	}
}

// TestCopyBook: a segment repeated from another interface within
// maxCopyDelay is a copy, once per interface; from the same interface, or
// later, it is a retransmission; another IP ID or sequence number is
// another packet.
func TestCopyBook(t *testing.T) {
	key, srcLow := makeKey(netip.MustParseAddrPort("10.0.0.2:40000"), netip.MustParseAddrPort("10.0.0.1:443"))
	seg := func(iface uint64, seq uint32, ipID uint16) *Segment {
		return &Segment{Interface: iface, Seq: seq, Ack: 7, ACK: true, Payload: []byte("hello"), IP: IPHeader{ID: ipID}}
	}
	b := newCopyBook()
	const ms = int64(1e6)
	for _, step := range []struct {
		what string
		s    *Segment
		ns   int64
		copy bool
	}{
		{"the original", seg(1, 100, 5), 0, false},
		{"its copy on interface 2", seg(2, 100, 5), ms / 100, true},
		{"a second copy on interface 2", seg(2, 100, 5), ms / 50, false},
		{"its copy on interface 3", seg(3, 100, 5), ms / 50, true},
		{"a retransmission on interface 1", seg(1, 100, 5), 20 * ms, false},
		{"the retransmission's copy, 4 ms after", seg(2, 100, 5), 24 * ms, true},
		{"a copy 6 ms after", seg(3, 100, 5), 26 * ms, false},
		{"another IP ID", seg(2, 100, 6), 26 * ms, false},
		{"another sequence number", seg(3, 105, 5), 26 * ms, false},
	} {
		if got := b.isCopy(&key, srcLow, step.s, step.ns); got != step.copy {
			t.Errorf("%s: copy %v, want %v", step.what, got, step.copy)
		}
	}
	// The book remembers the last copyBookSize segments kept: those of
	// the loop, not the last of the table (sequence number 105).
	for i := range copyBookSize {
		b.isCopy(&key, srcLow, seg(1, uint32(1000+i), 5), 27*ms)
	}
	if b.seen.len() != copyBookSize || len(b.seen.ring) != copyBookSize {
		t.Errorf("%d segments remembered, %d in order; want %d", b.seen.len(), len(b.seen.ring), copyBookSize)
	}
	for _, seq := range []uint32{1000, 1000 + copyBookSize - 1} {
		if !b.isCopy(&key, srcLow, seg(2, seq, 5), 27*ms) {
			t.Errorf("a copy of segment %d, remembered, was not found", seq)
		}
	}
	if b.isCopy(&key, srcLow, seg(1, 105, 5), 27*ms) {
		t.Errorf("a copy of a segment forgotten was found")
	}
}
