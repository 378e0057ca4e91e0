package capture

import (
	"bytes"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsdiag/tlsdiag/internal/encap"
)

// slowDecode decodes a frame with the DecodingLayerParser alone.
func slowDecode(d *decoder, data []byte) (Segment, frameKind, bool) {
	var seg Segment
	p := d.ethP
	err := p.DecodeLayers(data, &d.decoded)
	var ip4, ip6, tcp bool
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			ip4 = true
		case layers.LayerTypeIPv6:
			ip6 = true
		case layers.LayerTypeTCP:
			tcp = true
		}
	}
	if !tcp || err != nil || ip4 && (d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0) {
		return seg, kindMalformed, p.Truncated
	}
	if ip4 {
		d.fillIPv4(&seg, &d.ip4.IPv4)
	} else if ip6 {
		d.fillIPv6(&seg)
	}
	return seg, kindTCP, p.Truncated
}

// checkFast compares decodeFast with the parser on one frame: when the fast
// path takes a frame, the parser must make the very same segment of it.
func checkFast(t *testing.T, d *decoder, frame []byte) bool {
	var fast Segment
	if !decodeFast(frame, &fast) {
		return false
	}
	slow, kind, truncated := slowDecode(d, frame)
	if kind != kindTCP || truncated {
		t.Fatalf("decodeFast took a frame the parser calls %v (truncated %v): % x", kind, truncated, frame)
	}
	if fast.Src != slow.Src || fast.Dst != slow.Dst || fast.Seq != slow.Seq || fast.Ack != slow.Ack ||
		fast.SYN != slow.SYN || fast.ACK != slow.ACK || fast.FIN != slow.FIN || fast.RST != slow.RST ||
		fast.Window != slow.Window || fast.Missing != slow.Missing || !bytes.Equal(fast.Payload, slow.Payload) {
		t.Fatalf("decodeFast %+v\nparser     %+v\nframe % x", fast, slow, frame)
	}
	return true
}

// TestDecodeFastMatchesParser runs every Ethernet frame of the test
// captures and of a generated capture through both decoders.
func TestDecodeFastMatchesParser(t *testing.T) {
	d := newDecoder(&Stats{})
	fast, total := 0, 0
	paths := testCaptures(t)
	if !testing.Short() {
		paths = append(paths, publicCaptures(t)...)
	}
	for _, path := range paths {
		frames, lt := readFrames(t, path)
		if lt != layers.LinkTypeEthernet {
			continue
		}
		for _, fr := range frames {
			total++
			if checkFast(t, d, fr.data) {
				fast++
			}
		}
	}
	for _, fr := range makeBenchCapture(t, 20, 8<<10).frames {
		total++
		if checkFast(t, d, fr) {
			fast++
		}
	}
	if fast < total/2 {
		t.Errorf("the fast path took only %d of %d frames", fast, total)
	}
	t.Logf("fast path: %d of %d frames", fast, total)
}

// FuzzDecodeFast checks decodeFast against the parser on any bytes.
func FuzzDecodeFast(f *testing.F) {
	for _, fr := range makeBenchCapture(f, 2, 3000).frames[:12] {
		f.Add(fr)
	}
	d := newDecoder(&Stats{})
	f.Fuzz(func(t *testing.T, frame []byte) {
		checkFast(t, d, frame)
		// Run the whole decoder too: whichever path it takes, no panic.
		var seg Segment
		d.decode(frame, time.Unix(1, 0), layers.LinkTypeEthernet, &seg)
	})
}

// TestDecodeFastVXLANMatchesParser wraps the frames of a generated capture
// in VXLAN to either of its ports, over IPv4 and IPv6: the fast path must
// take them, and make of each the very segment and tunnel the slow path
// makes.
func TestDecodeFastVXLANMatchesParser(t *testing.T) {
	d := newDecoder(&Stats{})
	for _, k := range []encap.Kind{encap.VXLAN, encap.VXLANLinux} {
		taken := 0
		for _, outer6 := range []bool{false, true} {
			w := &encap.Wrapper{Kind: k, Outer6: outer6}
			for _, fr := range makeBenchCapture(t, 20, 8<<10).frames {
				frame, err := w.Wrap(fr)
				if err != nil {
					t.Fatal(err)
				}
				var fast, slow Segment
				var tun Tunnel
				if !decodeFastVXLAN(frame, &fast, &tun) {
					continue
				}
				taken++
				kind, err := d.decodeSlow(frame, time.Time{}, layers.LinkTypeEthernet, &slow)
				if err != nil || kind != kindTCP || d.truncated {
					t.Fatalf("decodeFastVXLAN took a frame the slow path calls %v (%v): % x", kind, err, frame)
				}
				if fast.Src != slow.Src || fast.Dst != slow.Dst || fast.Seq != slow.Seq || fast.Ack != slow.Ack ||
					fast.SYN != slow.SYN || fast.ACK != slow.ACK || fast.FIN != slow.FIN || fast.RST != slow.RST ||
					fast.Window != slow.Window || fast.Missing != slow.Missing || !bytes.Equal(fast.Payload, slow.Payload) ||
					fast.Tunnel == nil || slow.Tunnel == nil || *fast.Tunnel != *slow.Tunnel {
					t.Fatalf("decodeFastVXLAN %+v\nslow path       %+v", fast, slow)
				}
			}
		}
		if taken == 0 {
			t.Fatalf("the VXLAN fast path took no frame of %s", k)
		}
	}
}
