package analysis

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// TestOtherNames reads the lab's SNI filter capture (a ClientHello for
// good.test dropped by a router, then a handshake for other.test to the
// same host that completed): the dropped connection names the other one,
// whether one Builder or several read the file; the completed one names
// nothing.
func TestOtherNames(t *testing.T) {
	const file = "../testdata/path_sni_filter.pcap"
	for _, workers := range []int{1, 2, 4} {
		src, err := capture.OpenFile(file)
		if err != nil {
			t.Fatal(err)
		}
		conns, _, err := Analyse(context.Background(), src, Options{}, capture.Options{}, workers)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(conns) != 2 {
			t.Fatalf("workers %d: %d connections, want 2", workers, len(conns))
		}
		dropped, ok := conns[0], conns[1]
		if dropped.Established || !ok.Established || dropped.ClientHello.ServerName != "good.test" {
			t.Fatalf("workers %d: unexpected connections %v %v", workers, dropped.Server, ok.Server)
		}
		want := OtherName{Name: "other.test", Server: ok.Server, First: ok.First}
		if len(dropped.OtherNames) != 1 || dropped.OtherNames[0] != want {
			t.Errorf("workers %d: OtherNames = %+v, want [%+v]", workers, dropped.OtherNames, want)
		}
		if ok.OtherNames != nil {
			t.Errorf("workers %d: the completed connection has OtherNames %+v", workers, ok.OtherNames)
		}
	}
}

// TestOtherChains reads the lab's interception capture (good.test
// completed with the server's own chain, then good.test through a
// TLS-inspecting proxy, refused): the refused connection names the
// completed one and its issuer, whether one Builder or several read the
// file; the completed one names nothing.
func TestOtherChains(t *testing.T) {
	const file = "../testdata/path_intercepted.pcap"
	for _, workers := range []int{1, 2, 4} {
		src, err := capture.OpenFile(file)
		if err != nil {
			t.Fatal(err)
		}
		conns, _, err := Analyse(context.Background(), src, Options{}, capture.Options{}, workers)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(conns) != 2 {
			t.Fatalf("workers %d: %d connections, want 2", workers, len(conns))
		}
		ok, refused := conns[0], conns[1]
		if !ok.Established || refused.Established {
			t.Fatalf("workers %d: unexpected connections %v %v", workers, ok.Server, refused.Server)
		}
		want := OtherChain{Server: ok.Server, First: ok.First, CertificateFrame: ok.CertificateFrame, Issuer: "CN=tlsdiag Test Intermediate CA,O=tlsdiag test lab"}
		if len(refused.OtherChains) != 1 || refused.OtherChains[0] != want {
			t.Errorf("workers %d: OtherChains = %+v, want [%+v]", workers, refused.OtherChains, want)
		}
		if ok.OtherChains != nil {
			t.Errorf("workers %d: the completed connection has OtherChains %+v", workers, ok.OtherChains)
		}
	}
}

// TestOtherNamesOfConnectionsWaitingBefore checks the sequencer's index of
// waiting connections, built only once a connection awaits other names:
// a completed connection that already waited behind an open one when the
// awaiting connection finished is named too, as is one that finished
// after it; once none awaits, the index is gone.
func TestOtherNamesOfConnectionsWaitingBefore(t *testing.T) {
	server := netip.MustParseAddrPort("192.0.2.1:443")
	conn := func(first int64, name string, established bool) *Connection {
		c := &Connection{
			First:       capture.Frame{Number: first},
			Client:      netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(40000+first)),
			Server:      server,
			ClientHello: &tlsparse.ClientHello{ServerName: name},
			Established: established,
		}
		if !established {
			c.Path = &PathFacts{} // something happened on the path
		}
		return c
	}
	s := newSequencer(1, Options{}, func(*Connection) {})
	dropped, before, after := s.opened(5, 6), s.opened(10, 11), s.opened(20, 21)
	s.progress(0, 30)
	s.finished(conn(10, "before.test", true), 30, before, 30) // waits behind frame 5's
	s.progress(0, 40)
	if s.waitingNames != nil {
		t.Fatal("the waiting names are indexed before any connection awaits them")
	}
	d := conn(5, "good.test", false)
	s.finished(d, 50, dropped, 50)
	s.progress(0, 60)
	s.finished(conn(20, "after.test", true), 70, after, 70)
	s.progress(0, 80)
	s.end()
	var names []string
	for _, o := range d.OtherNames {
		names = append(names, o.Name)
	}
	if !slices.Equal(names, []string{"before.test", "after.test"}) {
		t.Errorf("OtherNames %v, want [before.test after.test]", names)
	}
	if s.waitingNames != nil || s.awaitingNames != 0 {
		t.Errorf("after the end: %d awaiting, index %v; want none", s.awaitingNames, s.waitingNames)
	}
}

// TestKeptNamesAreCopies checks that what the sequencer and the DNS book
// keep of an emitted connection until the capture's end (its name for
// other connections to its host and for other chains, the leaf's issuer,
// the name it connected to) does not point into its ClientHello or its
// certificate: a capture of many connections would otherwise keep every
// hello alive, and outgrow the memory a read may take. It scribbles over
// the connection's bytes after noting it and reads what was kept.
func TestKeptNamesAreCopies(t *testing.T) {
	src, err := capture.OpenFile("../testdata/path_intercepted.pcap")
	if err != nil {
		t.Fatal(err)
	}
	conns, _, err := Analyse(context.Background(), src, Options{}, capture.Options{}, 1)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := conns[0]
	if !completedChain(c) || !namedWaiting(c) || c.ClientHello.ServerName != "good.test" {
		t.Fatalf("the first connection is not a completed handshake for good.test with a chain: %v", c.Server)
	}
	issuer := slices.Clone(c.Certificates[0].X509.RawIssuer)
	s := &sequencer{dns: newDNSBook()}
	s.dns.link(c)
	s.noteName(c)
	s.noteChain(c)
	for i := range c.ClientHello.Raw {
		c.ClientHello.Raw[i] = 'x'
	}
	for i := range c.Certificates[0].X509.Raw {
		c.Certificates[0].X509.Raw[i] = 'x'
	}
	if names := s.named[c.Server.Addr()]; len(names) != 1 || names[0].Name != "good.test" {
		t.Errorf("named = %+v, want good.test", names)
	}
	if chains, ok := s.chains["good.test"]; !ok || len(chains) != 1 || !slices.Equal(chains[0].rawIssuer, issuer) {
		t.Errorf("chains = %+v, want good.test's issuer", s.chains)
	}
	key := clientName{c.Client.Addr().Unmap(), "good.test"}
	if !s.dns.later(key, capture.Frame{Number: c.First.Number - 1}) {
		t.Error("the DNS book lost the connection to good.test")
	}
}
