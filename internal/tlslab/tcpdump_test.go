package tlslab

import "testing"

func TestStatistic(t *testing.T) {
	out := "tcpdump: listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n" +
		"0 packets captured\n20 packets received by filter\n0 packets dropped by kernel"
	if n, ok := statistic(out, "packets captured"); !ok || n != 0 {
		t.Errorf("packets captured: %d, %v; want 0", n, ok)
	}
	if n, ok := statistic(out, "packets received by filter"); !ok || n != 20 {
		t.Errorf("packets received by filter: %d, %v; want 20", n, ok)
	}
	if _, ok := statistic(out, "packets lost"); ok {
		t.Error("found a statistic that is not there")
	}
}
