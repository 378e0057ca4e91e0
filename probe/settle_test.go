package probe

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsdiag/tlsdiag/capture/live"
)

// stalledReader is a capture whose kernel counted received packets that
// the reader, kept from running by a busy machine, reads only after
// stall.
type stalledReader struct {
	start    time.Time
	stall    time.Duration
	received int
	exact    bool
}

func (r *stalledReader) stats() (live.Stats, error) {
	s := live.Stats{Received: r.received, Exact: r.exact}
	if time.Since(r.start) >= r.stall {
		s.Read = int64(r.received)
	}
	return s, nil
}

func TestSettleWaitsForAStalledReader(t *testing.T) {
	const stall = 10 * settleQuiet
	r := &stalledReader{start: time.Now(), stall: stall, received: 16, exact: true}
	settle(r.stats)
	if waited := time.Since(r.start); waited < stall {
		t.Errorf("settle returned after %v with the reader stalled (%v): exact counts say 16 packets are unread", waited, stall)
	}
}

func TestSettleGivesUpOnInexactCounts(t *testing.T) {
	// libpcap on loopback: Received counts each packet twice, so Read
	// never reaches it; settle ends once Read stops moving.
	start := time.Now()
	settle(func() (live.Stats, error) { return live.Stats{Received: 32, Read: 16}, nil })
	if waited := time.Since(start); waited >= settleMax {
		t.Errorf("settle waited %v, the whole settleMax, on counts that cannot meet", waited)
	}
}

func TestSettleReturnsOnceCaughtUp(t *testing.T) {
	r := &stalledReader{start: time.Now(), received: 16, exact: true}
	settle(r.stats)
	if waited := time.Since(r.start); waited >= settleQuiet {
		t.Errorf("settle waited %v with every packet read", waited)
	}
}

// captured reads a capture of testdata into a wireCapture's reading
// state, without the frames: feed passes them to noteClose.
func captured(t *testing.T, name string) (*wireCapture, [][]byte) {
	t.Helper()
	f, err := os.Open("../testdata/captures/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		frames = append(frames, data)
	}
	w := newWireCapture("", "")
	w.linkType = r.LinkType()
	return w, frames
}

func TestAwaitCloseWaitsForTheClientsFIN(t *testing.T) {
	// ok.pcap: the client 127.0.0.1:56596 sends its FIN in frame 13.
	w, frames := captured(t, "ok.pcap")
	client := netip.MustParseAddrPort("127.0.0.1:56596")
	const late = 10 * settleQuiet
	for _, f := range frames[:12] {
		w.noteClose(f, time.Time{})
	}
	start := time.Now()
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		time.Sleep(late)
		for _, f := range frames[12:] {
			w.noteClose(f, time.Time{})
		}
	}()
	w.awaitClose(client)
	if waited := time.Since(start); waited < late || waited >= settleMax {
		t.Errorf("awaitClose returned after %v; the FIN was read after %v", waited, late)
	}
	<-fed
	// The other connection closes with the server's FIN and the client's
	// RST; the server's port is closed by both.
	for _, e := range []string{"127.0.0.1:56596", "127.0.0.1:56612", "127.0.0.1:4431"} {
		if !w.closed[netip.MustParseAddrPort(e)] {
			t.Errorf("%s closes in ok.pcap; closed = %v", e, w.closed)
		}
	}
	if len(w.closed) != 3 {
		t.Errorf("closed = %v, want the 3 endpoints that send a FIN or take part in a RST", w.closed)
	}
}

func TestAwaitCloseTakesTheServersRST(t *testing.T) {
	// connection_reset.pcap: the server resets in frame 6; the client
	// then sends nothing.
	w, frames := captured(t, "connection_reset.pcap")
	for _, f := range frames[:5] {
		w.noteClose(f, time.Time{})
	}
	client := netip.MustParseAddrPort("127.0.0.1:50846")
	if w.closed[client] {
		t.Fatalf("closed before the RST: %v", w.closed)
	}
	w.noteClose(frames[5], time.Time{})
	start := time.Now()
	w.awaitClose(netip.AddrPortFrom(netip.AddrFrom16(client.Addr().As16()), client.Port()))
	if waited := time.Since(start); waited >= settleQuiet {
		t.Errorf("awaitClose waited %v after the server's RST (given as an IPv4-mapped address)", waited)
	}
}

func TestAwaitCloseSkipsAConnectionNotCaptured(t *testing.T) {
	// The capture (another interface, say) never saw this client's SYN:
	// no FIN of it will come.
	w, frames := captured(t, "ok.pcap")
	for _, f := range frames {
		w.noteClose(f, time.Time{})
	}
	start := time.Now()
	w.awaitClose(netip.MustParseAddrPort("127.0.0.1:9"))
	if waited := time.Since(start); waited >= settleQuiet {
		t.Errorf("awaitClose waited %v for a connection the capture never saw open", waited)
	}
	if !w.opened[netip.MustParseAddrPort("127.0.0.1:56612")] || w.opened[netip.MustParseAddrPort("127.0.0.1:4431")] {
		t.Errorf("opened = %v, want the two clients (their SYNs), not the server (SYN-ACKs)", w.opened)
	}
}
