package capture

import (
	"net/netip"
	"os"
	"testing"
)

// TestNATCopies reads captures of a Docker-like host (testdata/field/shapes,
// real curl and Go connections through DNAT and MASQUERADE into a bridge):
// tcpdump -i any sees each packet on the client's link before the NAT, on
// the bridge's port after it and on the bridge itself half-way; dumpcap on
// the client's link and the bridge sees it twice. Each connection must
// come out once, under the addresses seen first, whether read on one
// goroutine or sharded, and the NAT be counted and named.
func TestNATCopies(t *testing.T) {
	for _, c := range []struct {
		file     string
		from, to string // NATFrom and NATTo: after the NAT, and as read
	}{
		{"any_nat_go.pcap", "10.85.0.1:56480 → 10.85.0.2:9610", "10.86.0.2:56480 → 10.86.0.1:9600"},
		{"any_nat_curl.pcap", "10.85.0.1:56464 → 10.85.0.2:9610", "10.86.0.2:56464 → 10.86.0.1:9600"},
		{"dumpcap_two_if.pcapng", "10.85.0.1:51160 → 10.85.0.2:9610", "10.86.0.2:51160 → 10.86.0.1:9600"},
		// The same converted to pcap by editcap: no interfaces, and
		// dumpcap's batches put each interface's packets apart.
		{"dumpcap_two_if_nsec.pcap", "10.85.0.1:51160 → 10.85.0.2:9610", "10.86.0.2:51160 → 10.86.0.1:9600"},
		// Only the bridge and its port in the filter: no pair before the
		// NAT, but the bridge's half-translated copy of each reply.
		{"any_bridge_curl.pcap", "10.86.0.2:34860 → 10.85.0.2:9610", "10.85.0.1:34860 → 10.85.0.2:9610"},
	} {
		data, err := os.ReadFile("../testdata/field/shapes/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		var first map[string]string
		for _, shards := range []int{0, 1, 3} {
			logs, st, err := runLoggedErr(t, data, Options{}, shards)
			if err != nil {
				t.Fatal(err)
			}
			if len(logs) != 3 || st.ConnsOpened != 3 {
				t.Errorf("%s, %d shards: %d connections (%d opened), want 3", c.file, shards, len(logs), st.ConnsOpened)
			}
			if st.NATConns != 3 {
				t.Errorf("%s, %d shards: %d connections across a NAT, want 3", c.file, shards, st.NATConns)
			}
			from := st.NATFrom[0].String() + " → " + st.NATFrom[1].String()
			to := st.NATTo[0].String() + " → " + st.NATTo[1].String()
			if from != c.from || to != c.to {
				t.Errorf("%s, %d shards: NAT %s as %s, want %s as %s", c.file, shards, from, to, c.from, c.to)
			}
			if first == nil {
				first = logs
				continue
			}
			for k, l := range first {
				if logs[k] != l {
					t.Errorf("%s, %d shards: %s differs from one goroutine's:\n%s", c.file, shards, k, firstDiff2(l, logs[k]))
				}
			}
		}
	}
}

// TestNATBookReuse: addresses found to be a NAT's translation stand for
// themselves again when a new connection's SYN uses them without a copy
// on another interface, and a copy too late to be one is no alias.
func TestNATBookReuse(t *testing.T) {
	ap := netip.MustParseAddrPort
	pre := natPair{ap("10.86.0.2:40000"), ap("10.86.0.1:9600")}
	post := natPair{ap("10.85.0.1:40000"), ap("10.85.0.2:9610")}
	syn := func(p natPair, seq uint32, iface uint64) *Segment {
		return &Segment{Src: p.src, Dst: p.dst, Seq: seq, SYN: true, IP: IPHeader{ID: 7}, Interface: iface}
	}
	b := newNATBook()
	b.see(syn(pre, 1000, 4), 0)
	s := syn(post, 1000, 2)
	if b.see(s, 1e6) || s.Src != pre.src || s.Dst != pre.dst {
		t.Fatalf("the SYN's copy past the NAT read as %s → %s, want %s → %s", s.Src, s.Dst, pre.src, pre.dst)
	}
	ack := &Segment{Src: post.dst, Dst: post.src, ACK: true, Interface: 3}
	if b.see(ack, 2e6) || ack.Src != pre.dst || ack.Dst != pre.src {
		t.Fatalf("a reply past the NAT read as %s → %s", ack.Src, ack.Dst)
	}
	// Seconds later, a new connection takes the translated addresses.
	s = syn(post, 5000, 2)
	if b.see(s, 9e9) || s.Src != post.src {
		t.Errorf("a new connection on translated addresses read as %s → %s", s.Src, s.Dst)
	}
	if b.Conns != 1 {
		t.Errorf("%d connections across the NAT, want 1", b.Conns)
	}
	// Without interfaces (pcap, cooked v1), a copy past the NAT is
	// dropped rather than read again.
	d := newNATBook()
	d.see(syn(pre, 3000, 0), 0)
	if !d.see(syn(post, 3000, 0), 1e6) {
		t.Errorf("a SYN's copy past the NAT, in a capture without interfaces, was kept")
	}
	if s := (&Segment{Src: post.dst, Dst: post.src, ACK: true}); !d.see(s, 2e6) {
		t.Errorf("a reply past the NAT, in a capture without interfaces, was kept")
	}
	// A repeat under other addresses 10 ms later is not a copy.
	c := newNATBook()
	c.see(syn(pre, 2000, 4), 0)
	if s := syn(post, 2000, 2); c.see(s, 10e6) || s.Src != post.src {
		t.Errorf("a SYN 10 ms after another under other addresses was read as its copy")
	}
}
