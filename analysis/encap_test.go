package analysis

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/encap"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

// encapInputs are real handshakes captured on loopback, IPv4 and IPv6.
var encapInputs = []string{"../testdata/captures/ok.pcap", "../capture/testdata/lo6-tls13-go.pcap"}

// TestEncapsulationsAgreeWithTshark wraps real handshakes in every
// encapsulation, over IPv4 and IPv6 where it runs over IP, and checks
// that tlsdiag finds the connections of the unwrapped capture (inner
// addresses), with the tunnel noted, and that the frames of the handshake
// messages, the SNIs, versions and cipher suites are tshark's.
func TestEncapsulationsAgreeWithTshark(t *testing.T) {
	tsharktest.Path(t, "the encapsulated handshakes are compared with its reading")
	dir := t.TempDir()
	for _, in := range encapInputs {
		plain := analyse(t, in, Options{Trace: true})
		if len(plain) == 0 {
			t.Fatalf("%s: no connection", in)
		}
		for _, k := range append(encap.Kinds, encap.Frag6) {
			for _, outer6 := range []bool{false, true} {
				if outer6 && (!k.HasOuterIP() || k == encap.Frag6) {
					continue
				}
				name := string(k) + "-outer4-" + filepath.Base(in)
				if outer6 {
					name = string(k) + "-outer6-" + filepath.Base(in)
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel() // two tshark runs each: as many at a time as cores
					out := filepath.Join(dir, name)
					wrapFile(t, &encap.Wrapper{Kind: k, Outer6: outer6}, in, out)
					got := analyse(t, out, Options{Trace: true})
					if k == encap.Frag6 {
						checkFrag6(t, plain, got, out)
						return
					}
					if len(got) != len(plain) {
						t.Fatalf("%d connections, want the %d of the unwrapped capture", len(got), len(plain))
					}
					for i, c := range got {
						if c.Client != plain[i].Client || c.Server != plain[i].Server {
							t.Errorf("connection %d: %s → %s, want the inner %s → %s", i, c.Client, c.Server, plain[i].Client, plain[i].Server)
						}
						var tun capture.Tunnel
						if c.Tunnel != nil {
							tun = *c.Tunnel
						}
						if tun.Type.String() != tunnelTypeOf(k) {
							t.Errorf("connection %d: tunnel %v, want %s", i, tun.Type, tunnelTypeOf(k))
						}
						if k.HasOuterIP() && k != encap.IPinIP {
							want := encap.Outer4
							if outer6 {
								want = encap.Outer6
							}
							if tun.Src != want[0] || tun.Dst != want[1] {
								t.Errorf("connection %d: outer %s → %s, want %s → %s", i, tun.Src, tun.Dst, want[0], want[1])
							}
						}
					}
					if diff := compareFrames(tsharkHandshakes(t, out, k.DecodeAs()...), traceHandshakes(got)); len(diff) > 0 {
						t.Errorf("handshake messages per frame differ from tshark:\n%s", strings.Join(diff, "\n"))
					}
					want := tsharkHellos(t, out, k.DecodeAs()...)
					if g := hellos(got); !slices.Equal(g, want) {
						t.Errorf("hellos differ from tshark:\n tlsdiag %q\n tshark  %q", g, want)
					}
				})
			}
		}
	}
}

func tunnelTypeOf(k encap.Kind) string {
	switch k {
	case encap.GREIP, encap.GRETEB, encap.GRECMD, encap.WCCP:
		return capture.TunnelGRE.String()
	case encap.VXLANLinux:
		return capture.TunnelVXLAN.String()
	case encap.GTP, encap.GTP5G:
		return capture.TunnelGTP.String()
	case encap.CAPWAPStd:
		return capture.TunnelCAPWAP.String()
	case encap.ERSPAN2, encap.ERSPAN3:
		return capture.TunnelERSPAN.String()
	case encap.VLAN9100, encap.Frag6, encap.CMD, encap.MACsec, encap.Radiotap, encap.Dot11:
		return capture.TunnelNone.String()
	}
	return string(k)
}

func wrapFile(t *testing.T, w *encap.Wrapper, in, out string) {
	t.Helper()
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w.Capture(bytes.NewReader(data), &buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hellos lists, in frame order, "frame sni" for every ClientHello and
// "frame version cipher" for every ServerHello.
func hellos(conns []*Connection) []string {
	var out []string
	for _, c := range conns {
		if c.ClientHello != nil {
			out = append(out, strconv.FormatInt(c.ClientHelloFrame.Number, 10)+" sni="+c.ClientHello.ServerName)
		}
		if c.ServerHello != nil {
			out = append(out, strconv.FormatInt(c.ServerHelloFrame.Number, 10)+" "+strconv.Itoa(int(c.Version))+" "+strconv.Itoa(int(c.Cipher)))
		}
	}
	slices.Sort(out)
	return out
}

func tsharkHellos(t *testing.T, path string, decodeAs ...string) []string {
	t.Helper()
	var out []string
	for _, q := range []struct{ filter, fields string }{
		{"tls.handshake.type == 1", "tls.handshake.extensions_server_name"},
		{"tls.handshake.type == 2", "tls.handshake.version,tls.handshake.extensions.supported_version,tls.handshake.ciphersuite"},
	} {
		args := append([]string{"-n", "-r", path, "-o", "tcp.reassemble_out_of_order:TRUE", "-Y", q.filter, "-T", "fields", "-E", "separator=|", "-e", "frame.number"}, decodeAs...)
		for _, f := range strings.Split(q.fields, ",") {
			args = append(args, "-e", f)
		}
		b := tsharktest.Output(t, args...)
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Split(line, "|")
			if len(f) == 2 {
				out = append(out, f[0]+" sni="+f[1])
				continue
			}
			if len(f) == 4 {
				v := f[1]
				if f[2] != "" {
					v = f[2] // the supported_versions extension rules (TLS 1.3)
				}
				out = append(out, f[0]+" "+hexNum(t, v)+" "+hexNum(t, f[3]))
			}
		}
	}
	slices.Sort(out)
	return out
}

func hexNum(t *testing.T, s string) string {
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 32)
	if err != nil {
		t.Fatalf("tshark value %q: %v", s, err)
	}
	return strconv.Itoa(int(n))
}

// checkFrag6 checks a capture whose IPv6 packets were fragmented: the
// same connections and hellos as unfragmented, in the frames tshark
// reassembles them in.
func checkFrag6(t *testing.T, plain, got []*Connection, path string) {
	t.Helper()
	if len(got) != len(plain) {
		t.Fatalf("%d connections, want %d", len(got), len(plain))
	}
	for i, c := range got {
		if c.Client != plain[i].Client || c.Server != plain[i].Server || (c.ServerHello == nil) != (plain[i].ServerHello == nil) || c.Established != plain[i].Established {
			t.Errorf("connection %d: %s → %s established %v, want %s → %s established %v", i, c.Client, c.Server, c.Established, plain[i].Client, plain[i].Server, plain[i].Established)
		}
		if len(c.TCP.Gaps) > 0 {
			t.Errorf("connection %d: gaps %v", i, c.TCP.Gaps)
		}
	}
	if diff := compareFrames(tsharkHandshakes(t, path), traceHandshakes(got)); len(diff) > 0 {
		t.Errorf("handshake messages per frame differ from tshark:\n%s", strings.Join(diff, "\n"))
	}
	if g, w := hellos(got), tsharkHellos(t, path); !slices.Equal(g, w) {
		t.Errorf("hellos differ from tshark:\n tlsdiag %q\n tshark  %q", g, w)
	}
}

// TestCAPWAPController reads nDPI's capwap_data.pcapng (testdata/public/
// ndpi): a Cisco access point's CAPWAP data channel with its controller,
// the 802.11 frames' frame control bytes swapped, the access point's
// packets to port 5247 and the controller's from it. The client's
// connection is found inside, with the server's FIN that the controller
// sent back (from port 5247 to the access point's own port).
func TestCAPWAPController(t *testing.T) {
	conns := analyse(t, publicFile("ndpi", "capwap_data.pcapng"), Options{})
	if len(conns) != 1 {
		t.Fatalf("%d connections, want 1", len(conns))
	}
	c := conns[0]
	if c.Client.String() != "10.1.3.68:47025" || c.Server.String() != "74.125.130.188:443" {
		t.Errorf("connection %s → %s, want 10.1.3.68:47025 → 74.125.130.188:443", c.Client, c.Server)
	}
	if c.Tunnel == nil || c.Tunnel.Type != capture.TunnelCAPWAP || c.Tunnel.Src.String() != "172.50.100.155" || c.Tunnel.Dst.String() != "172.16.100.87" {
		t.Errorf("tunnel %+v, want capwap 172.50.100.155 → 172.16.100.87", c.Tunnel)
	}
	if c.ClientHello == nil || c.ClientHello.ServerName != "alt2-mtalk.google.com" || c.ClientHelloFrame.Number != 9 {
		t.Errorf("ClientHello %v in frame %d, want SNI alt2-mtalk.google.com in frame 9", c.ClientHello != nil, c.ClientHelloFrame.Number)
	}
	if c.TCP.SYNACK.Number != 4 || c.TCP.FIN[capture.ServerToClient].Number != 14 {
		t.Errorf("SYN-ACK in frame %d, server's FIN in frame %d, want 4 and 14", c.TCP.SYNACK.Number, c.TCP.FIN[capture.ServerToClient].Number)
	}
}
