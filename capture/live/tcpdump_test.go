package live

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/tlsdiag/tlsdiag/capture"
)

type frame struct {
	lt   layers.LinkType
	data []byte
}

// network returns the frame from its network header on, and the cooked
// header's protocol, interface and packet type when it has one.
func (f frame) network() (payload []byte, cooked string) {
	switch f.lt {
	case layers.LinkTypeEthernet:
		return f.data[14:], ""
	case layers.LinkTypeLinuxSLL2:
		return f.data[20:], string(f.data[0:2]) + string(f.data[4:8]) + string(f.data[10:11])
	case layers.LinkTypeLinuxSLL:
		return f.data[16:], string(f.data[14:16]) + string(f.data[0:2])
	}
	return f.data, ""
}

// TestSameFramesAsTcpdump captures one exchange with tcpdump (libpcap, an
// independent reader) and with each capture path of this build at the
// same time: the same frames must come out, in the same order, each once
// (on lo the kernel shows every packet twice, as sent and as received).
func TestSameFramesAsTcpdump(t *testing.T) {
	needRoot(t)
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump is not installed; CI installs it: ", err)
	}
	for _, b := range backends() {
		for _, iface := range []string{"lo", "any"} {
			t.Run(string(b)+"/"+iface, func(t *testing.T) {
				probe, err := net.Listen("tcp4", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := probe.Addr().String()
				probe.Close()
				_, port, _ := net.SplitHostPort(addr)
				dump := filepath.Join(t.TempDir(), "tcpdump.pcap")
				cmd := exec.Command(tcpdump, "-i", iface, "-n", "-U", "--immediate-mode", "-B", "32768", "-w", dump, "-Z", "root", "tcp port "+port)
				stderr, err := cmd.StderrPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				defer cmd.Process.Kill()
				ready := make(chan bool, 1)
				go func() {
					sc := bufio.NewScanner(stderr)
					for sc.Scan() {
						if strings.Contains(sc.Text(), "listening on") {
							ready <- true
						}
					}
					io.Copy(io.Discard, stderr)
				}()
				select {
				case <-ready:
				case <-time.After(5 * time.Second):
					t.Fatal("tcpdump did not start")
				}
				var out bytes.Buffer
				h, err := Open(context.Background(), Config{Interface: iface, Filter: "tcp port " + port, Immediate: true, Backend: b, Output: &out})
				if err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() {
					_, err := capture.Run(context.Background(), h, &collector{}, capture.Options{})
					done <- err
				}()
				exchange(t, "tcp4", addr, bytes.Repeat([]byte("hello "), 3000), bytes.Repeat([]byte("answer "), 20000))
				time.Sleep(300 * time.Millisecond)
				h.Stop()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				if err := h.Close(); err != nil {
					t.Fatal(err)
				}
				ours := readFrames(t, "ours", &out)
				// tcpdump writes each packet as it reads it (-U): wait
				// until it has written as many, or 3 s.
				for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
					if b, err := os.ReadFile(dump); err == nil && len(b) > 24 && len(readFrames(t, "tcpdump", bytes.NewReader(b))) >= len(ours) {
						break
					}
				}
				cmd.Process.Signal(syscall.SIGINT)
				cmd.Wait()
				f, err := os.Open(dump)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				theirs := readFrames(t, "tcpdump", f)
				if len(ours) != len(theirs) || len(ours) < 10 {
					t.Fatalf("%d frames, tcpdump %d", len(ours), len(theirs))
				}
				for i := range ours {
					a, ca := ours[i].network()
					b, cb := theirs[i].network()
					if !bytes.Equal(a, b) {
						t.Fatalf("frame %d differs from tcpdump's", i+1)
					}
					if ca != "" && cb != "" && ca != cb {
						t.Errorf("frame %d: cooked header %x, tcpdump %x", i+1, ca, cb)
					}
					if ours[i].lt == layers.LinkTypeLinuxSLL2 && ours[i].data[11] != 6 {
						t.Errorf("frame %d: address length %d, want 6 (from the kernel's sockaddr_ll)", i+1, ours[i].data[11])
					}
					if ca != "" && binary.BigEndian.Uint16([]byte(ca)) != 0x0800 {
						t.Errorf("frame %d: protocol %x", i+1, ca[:2])
					}
				}
			})
		}
	}
}

func readFrames(t *testing.T, name string, r io.Reader) []frame {
	t.Helper()
	f, err := capture.NewReader(name, r)
	if err != nil {
		t.Fatal(err)
	}
	var out []frame
	for {
		data, _, err := f.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, frame{f.LinkType(), bytes.Clone(data)})
	}
}
