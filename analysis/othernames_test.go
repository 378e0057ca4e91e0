package analysis

import (
	"context"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
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
