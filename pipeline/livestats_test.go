package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// TestLiveStatsAsCollect holds what live mode counts beside its
// connections, which its summary notes say, equal to read's: the DTLS,
// the DNS not kept or malformed, and the connections ignored, with one
// source and with the capture split between two.
func TestLiveStatsAsCollect(t *testing.T) {
	paths := []string{
		"../testdata/public/zeek/dtls1_2.pcap",
		"../testdata/public/zeek/dtls13-cid.pcap",
		"../testdata/public/zeek/webrtc-stun.pcap",
		"../testdata/captures/dns_failure_nxdomain.pcap",
		"../testdata/public/ja4/single-packets.pcap",
	}
	var all counted
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := capture.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, st, err := Collect(context.Background(), src, Config{})
			src.Close()
			if err != nil {
				t.Fatal(err)
			}
			want := liveCounted(st.SequenceStats)
			all.ignored += want.ignored
			all.dtls.Flows += want.dtls.Flows
			pcap, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 2} {
				st, err := Live(context.Background(), splitByFlow(t, pcap, n), Config{}, func(Result) {})
				if err != nil {
					t.Fatal(err)
				}
				if got := liveCounted(st.SequenceStats); got != want {
					t.Errorf("%d sources: live counted %+v, read %+v", n, got, want)
				}
			}
		})
	}
	if all.ignored == 0 || all.dtls.Flows == 0 {
		t.Errorf("read counted %+v: the captures must show ignored connections and DTLS", all)
	}
}

// counted is what of SequenceStats live mode counts.
type counted struct {
	ignored, dnsNotKept, dnsMalformed int
	dtls                              analysis.DTLSStats
}

func liveCounted(st analysis.SequenceStats) counted {
	return counted{st.Ignored, st.DNSNotKept, st.DNSMalformed, st.DTLS}
}
