//go:build linux

package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"golang.org/x/sys/unix"
)

// TestSendThroughVeth sends a capture, looped, over a veth pair between
// two network namespaces, paced and unpaced: the other end must receive
// every frame, byte for byte, in order and nothing else, and the paced
// run must take at least the time its rate allows. It needs root and
// iproute2 (CI runs as root); run it under the test lock.
func TestSendThroughVeth(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("sending needs root (CAP_NET_RAW, CAP_NET_ADMIN for the namespaces); CI runs as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip: ", err)
	}
	fr := load(t, "../../capture/testdata/veth576-tls13-go.pcap")
	a, b := vethPair(t)
	t.Run("too large", func(t *testing.T) {
		big := load(t, "../../capture/testdata/lo-tls12-openssl.pcap") // loopback frames up to 2,045 bytes
		err := tlslab.InNetns(a, func() error {
			_, err := Send(context.Background(), big, Options{Interface: "rpa"})
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "larger than rpa takes (MTU 1500") {
			t.Fatalf("sending 2,045-byte frames over MTU 1500: error %v", err)
		}
	})
	for _, tt := range []struct {
		name  string
		rate  float64
		loops int
	}{
		{"unpaced", 0, 3},
		{"100Mbit", 100e6, 40},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rx := listen(t, b)
			start := time.Now()
			var res Result
			err := tlslab.InNetns(a, func() (err error) {
				res, err = Send(context.Background(), fr, Options{Interface: "rpa", Rate: tt.rate, Loops: tt.loops})
				return err
			})
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			want := int64(tt.loops * fr.Len())
			if res.Frames != want || res.Bytes != int64(tt.loops)*fr.Bytes() {
				t.Fatalf("sent %d frames, %d bytes; want %d, %d", res.Frames, res.Bytes, want, int64(tt.loops)*fr.Bytes())
			}
			got := rx.frames(t, int(want))
			if len(got) != int(want) {
				t.Fatalf("received %d frames, sent %d", len(got), want)
			}
			for i, g := range got {
				if s := fr.Frame(i % fr.Len()); !bytes.Equal(g, s) {
					t.Fatalf("frame %d: received %d bytes %x…, sent %d bytes %x…", i+1, len(g), g[:min(len(g), 32)], len(s), s[:min(len(s), 32)])
				}
			}
			if tt.rate > 0 {
				burst := newBucket(tt.rate, fr.Largest()).burst
				least := time.Duration((float64(res.Bytes) - burst) * 8 / tt.rate * float64(time.Second))
				if took < least {
					t.Errorf("%d bytes at %.0f Mbit/s took %v, at least %v", res.Bytes, tt.rate/1e6, took, least)
				}
				t.Logf("%d bytes in %v: %.1f Mbit/s, %d sends", res.Bytes, res.Elapsed, res.Mbps(), res.Sends)
			}
		})
	}
}

// vethPair makes two network namespaces joined by a veth pair, rpa in
// the first and rpb in the second, up, with IPv6 off so that the kernel
// sends nothing of its own on them.
func vethPair(t *testing.T) (a, b string) {
	t.Helper()
	a, b = fmt.Sprintf("replaytest-a-%d", os.Getpid()), fmt.Sprintf("replaytest-b-%d", os.Getpid())
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	for _, ns := range []string{a, b} {
		ip("netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		for _, k := range []string{"all", "default"} {
			if err := tlslab.InNetns(ns, func() error {
				return os.WriteFile("/proc/sys/net/ipv6/conf/"+k+"/disable_ipv6", []byte("1"), 0)
			}); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
		}
	}
	ip("link", "add", "rpa", "netns", a, "type", "veth", "peer", "name", "rpb", "netns", b)
	ip("-n", a, "link", "set", "rpa", "up")
	ip("-n", b, "link", "set", "rpb", "up")
	return a, b
}

// receiver is a plain AF_PACKET socket on rpb: an independent reader of
// what arrived, one recvfrom per frame.
type receiver struct{ fd int }

func listen(t *testing.T, ns string) *receiver {
	t.Helper()
	r := &receiver{fd: -1}
	err := tlslab.InNetns(ns, func() error {
		ifi, err := net.InterfaceByName("rpb")
		if err != nil {
			return err
		}
		proto := int(htons(unix.ETH_P_ALL))
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return err
		}
		r.fd = fd
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 16<<20); err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index})
	})
	if r.fd >= 0 {
		t.Cleanup(func() { unix.Close(r.fd) })
	}
	if err != nil {
		t.Fatal(err)
	}
	tv := unix.NsecToTimeval(int64(500 * time.Millisecond))
	if err := unix.SetsockoptTimeval(r.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return r
}

// frames returns the frames received: want of them, or fewer if none
// came for half a second, or more if more were waiting.
func (r *receiver) frames(t *testing.T, want int) [][]byte {
	t.Helper()
	var out [][]byte
	buf := make([]byte, 1<<16)
	for {
		flags := 0
		if len(out) >= want {
			flags = unix.MSG_DONTWAIT // anything beyond want is a failure
		}
		n, from, err := unix.Recvfrom(r.fd, buf, flags)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return out
		case err != nil:
			t.Fatal(err)
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		out = append(out, bytes.Clone(buf[:n]))
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
