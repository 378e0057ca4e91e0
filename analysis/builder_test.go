package analysis

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsdiag/tlsdiag/capture"
)

// TestMeantToBeTLS checks which connections without any TLS are reported:
// only those to a well-known TLS port, a port the capture shows TLS on, or
// a port the caller names.
func TestMeantToBeTLS(t *testing.T) {
	const refused = "../testdata/captures/connection_refused.pcap" // SYN to 4454, answered by RST
	if got := analyse(t, refused, Options{}); len(got) != 0 {
		t.Errorf("refused connection to a port not known as TLS: got %d connections, want 0", len(got))
	}
	got := analyse(t, refused, Options{TLSPorts: []uint16{4454}})
	if len(got) != 1 {
		t.Fatalf("with port 4454 named: got %d connections, want 1", len(got))
	}
	c := got[0]
	if c.Server.Port() != 4454 || c.TCP.SYN.Number == 0 || c.TCP.RST.Number == 0 || c.TCP.RSTFrom != capture.ServerToClient {
		t.Errorf("refused connection: server %v, SYN frame %d, RST frame %d from %v; want port 4454, SYN and RST from the server",
			c.Server, c.TCP.SYN.Number, c.TCP.RST.Number, c.TCP.RSTFrom)
	}
}

// TestPlainDownloadGaps: plain HTTP downloads on port 80 whose capture
// lost segments (testdata/field/netflix_http_download_gaps.pcap, from
// nDPI's netflix.pcap). Their bodies hold, after a gap, bytes that pass
// for a TLS record header; taking them for TLS made port 80 a TLS port
// and every download on it a client speaking plaintext to TLS.
func TestPlainDownloadGaps(t *testing.T) {
	b := analyseBuilder(t, "../testdata/field/netflix_http_download_gaps.pcap", Options{})
	got := b.Connections()
	if len(got) != 1 || got[0].Server.Port() != 443 {
		for _, c := range got {
			t.Logf("reported %v → %v", c.Client, c.Server)
		}
		t.Fatalf("%d connections reported, want only the TLS one to port 443", len(got))
	}
	if st := b.Stats(); st.Ignored != 3 || len(st.IgnoredBeforeTLS) != 0 {
		t.Errorf("ignored %d connections without TLS (before TLS on their port: %v), want the 3 downloads on port 80, none before TLS", st.Ignored, st.IgnoredBeforeTLS)
	}
}

// TestMidConnectionNotTLS: DCE/RPC sessions (MAPI over SMB and RPC) whose
// start the capture missed (testdata/field/zeek_dcerpc_mapi.pcap, Zeek's
// dce-rpc/mapi.pcap). Their framing passes for chains of TLS heartbeat
// records; a capture that begins mid-connection is searched for records,
// and it made ports 139 and 46348 TLS ports, their sessions TLS ones.
func TestMidConnectionNotTLS(t *testing.T) {
	b := analyseBuilder(t, "../testdata/field/zeek_dcerpc_mapi.pcap", Options{})
	for _, c := range b.Connections() {
		t.Errorf("reported %v → %v (%d application data records), want no connection", c.Client, c.Server, c.ClientSide.AppData.Records+c.ServerSide.AppData.Records)
	}
	if st := b.Stats(); !slices.Contains(st.IgnoredByPort, PortCount{139, 3}) {
		t.Errorf("connections without TLS by port %v, want the 3 to port 139 among them", st.IgnoredByPort)
	}
}

// TestEarlyForgetsClosedConnections checks that live mode's memory of
// reported connections holds only those the capture expired while open:
// connections that closed are forgotten, so the table does not grow with
// traffic.
func TestEarlyForgetsClosedConnections(t *testing.T) {
	var reported int
	opt := Options{Early: true, Done: func(*Connection) { reported++ }}
	src, err := capture.OpenFile("../testdata/captures/ok.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b := NewBuilder(opt)
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	if reported != 2 {
		t.Fatalf("reported %d connections, want 2", reported)
	}
	if n := len(b.recent); n != 0 || b.recentOrder.Len() != 0 {
		t.Errorf("%d connections still remembered after they closed, want 0", n)
	}
}

// TestUnansweredSYNsDoNotHoldBack puts a client whose SYNs get no answer
// (open until the capture ends) before two whole TLS connections: they
// must be handed on as soon as they end, not held back behind the SYNs,
// and the unanswered connection comes last.
func TestUnansweredSYNsDoNotHoldBack(t *testing.T) {
	src := mergeCaptures(t, nil, "../testdata/captures/no_tcp_answer.pcap", "../testdata/captures/ok.pcap")
	var order []uint16
	b := NewBuilder(Options{TLSPorts: []uint16{4456}, Emit: func(c *Connection) { order = append(order, c.Server.Port()) }})
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []uint16{4431, 4431}) {
		t.Fatalf("before the end of the capture, connections to ports %v were handed on; want the two TLS ones (4431)", order)
	}
	b.Connections()
	if !slices.Equal(order, []uint16{4431, 4431, 4456}) || b.Stats().Unanswered != 1 {
		t.Errorf("connections to ports %v, %d listed last as unanswered; want [4431 4431 4456], 1", order, b.Stats().Unanswered)
	}
}

// TestTLSPortSeenLater checks the rule for connections without TLS to an
// unlisted port: a refused connection to port 4454 is not reported when
// TLS shows up on that port only later, and the summary says so, naming
// the --tls-port that would list it; a second refused connection, after
// the TLS one, is reported.
func TestTLSPortSeenLater(t *testing.T) {
	toPort := func(data []byte) {
		// ok.pcap's server port 4431 becomes 4454 (Ethernet, IPv4
		// without options; the checksum is not checked).
		for _, off := range []int{14 + 20, 14 + 20 + 2} {
			if data[off] == 4431>>8 && data[off+1] == 4431&0xff {
				data[off], data[off+1] = 4454>>8, 4454&0xff
			}
		}
	}
	refused := "../testdata/captures/connection_refused.pcap"
	src := mergeCaptures(t, map[int]func([]byte){1: toPort}, refused, "../testdata/captures/ok.pcap", refused)
	b := NewBuilder(Options{})
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range b.Connections() {
		got = append(got, fmt.Sprintf("%d:%v", c.Server.Port(), c.CarriesTLS()))
	}
	if want := []string{"4454:true", "4454:true", "4454:false"}; !slices.Equal(got, want) {
		t.Errorf("connections (port:TLS) %v, want %v", got, want)
	}
	if got, want := b.Stats().IgnoredBeforeTLS, []PortCount{{Port: 4454, Count: 1}}; !slices.Equal(got, want) {
		t.Errorf("ignored before TLS %v; want %v, the refused connection before TLS on port 4454", got, want)
	}
}

// mergeCaptures writes the frames of Ethernet pcap files one after the
// other, each file shifted in time to start 10 ms after the last frame of
// the one before, through rewrite[i] for the i-th file when there is one.
func mergeCaptures(t *testing.T, rewrite map[int]func([]byte), paths ...string) capture.Source {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for i, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		if r.LinkType() != layers.LinkTypeEthernet {
			t.Fatalf("%s: link type %v, want Ethernet", path, r.LinkType())
		}
		var shift time.Duration
		for n := 0; ; n++ {
			data, ci, err := r.ReadPacketData()
			if err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			if n == 0 && !last.IsZero() {
				shift = last.Add(10 * time.Millisecond).Sub(ci.Timestamp)
			}
			ci.Timestamp = ci.Timestamp.Add(shift)
			last = ci.Timestamp
			if rw := rewrite[i]; rw != nil {
				data = slices.Clone(data)
				rw(data)
			}
			if err := w.WritePacket(ci, data); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
	}
	src, err := capture.NewReader("merged", &buf)
	if err != nil {
		t.Fatal(err)
	}
	return src
}
