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
