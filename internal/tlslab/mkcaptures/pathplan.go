package main

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// routed runs a capture across a router namespace (tlslab.RoutedPath)
// whose iptables rules play the device on the path.
type routed struct {
	mtu tlslab.PathMTU
	// rules are iptables arguments for the router; "{port}" is the
	// capture's server port.
	rules [][]string
	// atServer captures on the server's link instead of the client's.
	atServer bool
	// delay holds the packets the router forwards to the server (after
	// rules), so that the server is that far away and the router is not.
	delay time.Duration
	// serverTTL is the server's initial TTL, when not 64.
	serverTTL int
	// intercept redirects the connections to the first server's port to
	// a TLS-inspecting proxy in the router (tlslab.Interceptor).
	intercept bool
	// resolver, when set, runs dnsmasq in the router with these options
	// ("{server}" is the server's address) as the client's name server
	// (tlslab.RoutedPath.StartResolver); the capture then has port 53 too.
	resolver []string
	// resolverTCP makes the client's resolver ask over TCP.
	resolverTCP bool
	// twin, when set, is a second capture of the same run on the other
	// link (the server's when the capture is at the client's), and
	// twinConns the expected verdicts of its connections: the same
	// connections seen from the other end of the path (read --vantage).
	twin      string
	twinConns []conn
	// upstream, when set, runs a second dnsmasq in the router with these
	// options, on the router's 127.0.0.1, for the resolver to forward to.
	upstream []string
}

// interceptPort is where the router's interceptor listens.
const interceptPort = 8443

// routedName names the namespaces: one path at a time.
const routedName = "tlspath"

func (r *routed) setup(ctx context.Context, c capture, lab *tlslab.Lab) (*tlslab.RoutedPath, error) {
	p, err := tlslab.NewRoutedPath(ctx, routedName, r.mtu)
	if err != nil {
		return nil, err
	}
	// The resolver first: rules may drop what reaches it.
	if r.upstream != nil {
		opts := make([]string, len(r.upstream))
		for i, o := range r.upstream {
			opts[i] = strings.ReplaceAll(o, "{server}", p.ServerAddr)
		}
		if err := p.StartUpstream(ctx, opts...); err != nil {
			p.Close()
			return nil, err
		}
	}
	if r.resolver != nil {
		opts := make([]string, len(r.resolver))
		for i, o := range r.resolver {
			opts[i] = strings.ReplaceAll(o, "{server}", p.ServerAddr)
		}
		if err := p.StartResolver(ctx, r.resolverTCP, opts...); err != nil {
			p.Close()
			return nil, err
		}
	}
	port := strconv.Itoa(int(c.servers[0].port))
	for _, rule := range r.rules {
		argv := make([]string, len(rule))
		for i, a := range rule {
			argv[i] = strings.ReplaceAll(a, "{port}", port)
		}
		if err := p.Router(ctx, argv...); err != nil {
			p.Close()
			return nil, err
		}
	}
	if r.serverTTL != 0 {
		if err := p.ServerTTL(ctx, r.serverTTL); err != nil {
			p.Close()
			return nil, err
		}
	}
	if r.intercept {
		if _, err := p.Intercept(ctx, int(c.servers[0].port), interceptPort, lab.RootPool(), lab.Now); err != nil {
			p.Close()
			return nil, err
		}
	}
	if r.delay != 0 {
		if err := p.DelayToServer(ctx, r.delay); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// notRecordStart matches a TCP segment whose payload does not begin with a
// TLS record header's content type (20-23): the continuation of a record
// that began in an earlier segment. u32 reads the first payload byte past
// the IP and TCP headers; a segment without payload has no such byte and
// does not match.
const notRecordStart = "0>>22&0x3C@12>>26&0x3C@0>>24=0:0x13,0x18:0xFF"

// goHelloClient dials with crypto/tls's default preferences (its hello
// carries an X25519MLKEM768 key share, 1,216 bytes) and gives up after
// timeout.
func goHelloClient(desc string, timeout time.Duration) client {
	return client{desc: desc, goRun: func(ctx context.Context, e *env, addr string) error {
		cfg := e.lab.ClientConfig()
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: cfg}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}}
}

// pause is a client that waits: the capture goes on without traffic.
func pause(d time.Duration) client {
	return client{desc: "waits " + d.String(), goRun: func(ctx context.Context, _ *env, _ string) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
}

// pathCaptures are the failures made on the way, not at either end.
// Ports 4481-4493 and 4500-4505.
func pathCaptures() []capture {
	ttl := func(n int) pred { return func(f frame) bool { return f.TTL == n } }
	return []capture{
		{
			file: "captures/middlebox_reset.pcap", category: "middlebox_reset",
			servers: []server{{tlslab.OK, 4481}},
			clients: []client{curl(4481, "{server}", tlslab.GoodName)},
			routed: &routed{rules: [][]string{{"-A", "FORWARD", "-p", "tcp", "--dport", "{port}",
				"-m", "string", "--algo", "bm", "--string", tlslab.GoodName, "-j", "REJECT", "--reject-with", "tcp-reset"}}},
			how: "curl to a crypto/tls server one router away (client, router and server in three network namespaces), captured on the client's link. " +
				"The router's firewall rejects, with a TCP reset, any packet to port 4481 that contains \"good.test\": the ClientHello. " +
				"The server's SYN-ACK arrives with TTL 63 (64 less one hop); the reset, forged by the router with the server's address, with TTL 64. The server never sees the hello.",
			checks: []check{
				exactly("SYN", 1, syn), exactly("SYN-ACK with TTL 63 (the server, one hop away)", 1, and(synAck, ttl(63))),
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("RST from the server's address with TTL 64 (the router)", 1, and(fromServer(rst), ttl(64))),
			},
		},
		{
			file: "captures/middlebox_reset_timing.pcap", category: "middlebox_reset",
			servers: []server{{tlslab.OK, 4487}},
			clients: []client{curl(4487, "{server}", tlslab.GoodName)},
			routed: &routed{delay: 40 * time.Millisecond, serverTTL: 65, rules: [][]string{{"-A", "FORWARD", "-p", "tcp", "--dport", "{port}",
				"-m", "string", "--algo", "bm", "--string", tlslab.GoodName, "-j", "REJECT", "--reject-with", "tcp-reset"}}},
			how: "The reset of middlebox_reset.pcap from a device that gives itself away by its timing only: the router holds every packet it forwards to the server for 40 ms " +
				"(an NFQUEUE rule and a delaying queue reader: the kernel has no netem), so the server's SYN-ACK comes a 40 ms round trip after the SYN, " +
				"and the server's initial TTL is 65, so its packets arrive with TTL 64 like the router's own. The router rejects the ClientHello for \"good.test\" with a reset that arrives within a millisecond: " +
				"sooner than the server could have answered.",
			checks: []check{
				exactly("SYN", 1, syn), exactly("SYN-ACK with TTL 64 (the server, initial TTL 65, one hop away)", 1, and(synAck, ttl(64))),
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("RST from the server's address with TTL 64 (the router)", 1, and(fromServer(rst), ttl(64))),
			},
		},
		{
			file: "captures/clienthello_split_dropped.pcap", category: "clienthello_split_dropped",
			servers: []server{{tlslab.OK, 4482}},
			clients: []client{goHelloClient("Go's default ClientHello (X25519MLKEM768 key share), 3 s time limit", 3*time.Second)},
			routed: &routed{rules: [][]string{{"-A", "FORWARD", "-p", "tcp", "--dport", "{port}",
				"-m", "u32", "--u32", notRecordStart, "-j", "DROP"}}},
			how: "A crypto/tls client with Go's defaults, whose ClientHello (post-quantum key share X25519MLKEM768) is larger than one segment (MSS 1448), " +
				"to a crypto/tls server one router away, captured on the client's link. The router drops every segment to port 4482 that does not start with a TLS record header, " +
				"as middleboxes that inspect only the first segment of a hello do: the hello's first segment passes and is acknowledged, its continuation is retransmitted and never acknowledged, until the client's 3 s limit.",
			checks: []check{
				exactly("SYN", 1, syn), exactly("SYN-ACK", 1, synAck),
				exactly("ClientHello (reassembled)", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				atLeast("retransmissions from the client", 2, fromClient(func(f frame) bool { return f.Retransmit })),
				exactly("data from the server", 0, fromServer(data)),
			},
		},
		{
			file: "captures/middlebox_drop.pcap", category: "middlebox_drop",
			servers: []server{{tlslab.OK, 4483}},
			clients: []client{curl(4483, "{server}", tlslab.GoodName, "--max-time", "3")},
			routed: &routed{rules: [][]string{{"-A", "FORWARD", "-p", "tcp", "--dport", "{port}",
				"-m", "string", "--algo", "bm", "--string", tlslab.GoodName, "-j", "DROP"}}},
			how: "curl (3 s time limit) to a crypto/tls server one router away, captured on the client's link. The router silently drops any packet to port 4483 that contains \"good.test\": " +
				"the TCP handshake succeeds, the ClientHello is retransmitted and never acknowledged.",
			checks: []check{
				exactly("SYN", 1, syn), exactly("SYN-ACK", 1, synAck),
				atLeast("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				atLeast("retransmissions from the client", 2, fromClient(func(f frame) bool { return f.Retransmit })),
				exactly("data from the server", 0, fromServer(data)),
			},
		},
		{
			file:    "path_sni_filter_server.pcap",
			conns:   []conn{{4492, "middlebox_drop"}, {4493, "ok"}},
			servers: []server{{tlslab.OK, 4492}, {tlslab.OKOther, 4493}},
			clients: []client{
				curl(4492, "{server}", tlslab.GoodName, "--max-time", "3"),
				// This run's root: -only keeps testdata/certs from an earlier run.
				withServer(1, client{argv: []string{"curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", "{labca}",
					"--resolve", tlslab.OtherName + ":4493:{server}", "https://" + tlslab.OtherName + ":4493/"}}),
			},
			routed: &routed{atServer: true, rules: [][]string{{"-A", "FORWARD", "-p", "tcp", "-m", "string", "--algo", "bm", "--string", tlslab.GoodName, "-j", "DROP"}}},
			how: "The SNI filter of path_sni_filter.pcap captured on the server's link: curl (3 s time limit) asks for good.test on port 4492, then curl asks for other.test on port 4493. " +
				"The router silently drops any packet that contains \"good.test\": the server sees the first TCP handshake complete and then nothing at all from that client — " +
				"no ClientHello, and no FIN either (Linux sends it with the unacknowledged hello, which the router drops too) — while the second connection, 3 s later, completes.",
			checks: []check{
				exactly("SYN", 2, syn), exactly("SYN-ACK", 2, synAck),
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 1, fromServer(hs(hsServerHello))),
			},
		},
		{
			file:    "path_sni_filter.pcap",
			conns:   []conn{{4488, "middlebox_drop"}, {4489, "ok"}},
			servers: []server{{tlslab.OK, 4488}, {tlslab.OKOther, 4489}},
			clients: []client{
				curl(4488, "{server}", tlslab.GoodName, "--max-time", "3"),
				// This run's root: -only keeps testdata/certs from an earlier run.
				withServer(1, client{argv: []string{"curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", "{labca}",
					"--resolve", tlslab.OtherName + ":4489:{server}", "https://" + tlslab.OtherName + ":4489/"}}),
			},
			routed: &routed{rules: [][]string{{"-A", "FORWARD", "-p", "tcp", "-m", "string", "--algo", "bm", "--string", tlslab.GoodName, "-j", "DROP"}}},
			how: "Two sites on one server host one router away, captured on the client's link: curl (3 s time limit) asks for good.test on port 4488, then curl asks for other.test on port 4489. " +
				"The router silently drops any packet that contains \"good.test\": the first ClientHello is retransmitted and never acknowledged, the second handshake completes — " +
				"the path lets the host through and singles out the name. (Two ports, so that each connection's expected verdict goes by its port.)",
			checks: []check{
				exactly("SYN", 2, syn), exactly("SYN-ACK", 2, synAck),
				atLeast("ClientHello", 2, fromClient(hs(hsClientHello))), exactly("ServerHello", 1, fromServer(hs(hsServerHello))),
				atLeast("retransmissions from the client", 2, fromClient(func(f frame) bool { return f.Retransmit })),
			},
		},
		intercepted(),
		clockSkew(),
		vantageIntercepted(),
		vantageSNIFilter(),
		vantageReset(),
		{
			file: "captures/path_mtu_blackhole.pcap", category: "path_mtu_blackhole",
			servers: []server{{tlslab.OKRSA, 4484}},
			clients: []client{curl(4484, "{server}", tlslab.GoodName, "--tls-max", "1.2", "--max-time", "4")},
			routed:  blackhole(true),
			how: "curl (TLS 1.2, 4 s time limit) to a crypto/tls server with an RSA 2048 chain one router away, captured on the server's link. " +
				"Every link announces MTU 1500 (MSS 1460), but the router's end of the client's link has MTU 1280, and the router's \"fragmentation needed\" ICMP is dropped: " +
				"the server's full-size segments (1448 bytes, DF set) never arrive and are retransmitted at the same sequence number, never acknowledged, while the client's small packets pass.",
			checks: []check{
				exactly("SYN", 1, syn), exactly("ClientHello", 1, fromClient(hs(hsClientHello))),
				atLeast("server retransmissions of 1448 bytes", 2, fromServer(func(f frame) bool { return f.Retransmit && f.PayloadLen == 1448 })),
				exactly("client application data", 0, fromClient(record(recordApplicationData))),
			},
		},
		{
			file: "captures/path_mtu_blackhole_client.pcap", category: "path_mtu_blackhole",
			servers: []server{{tlslab.OKRSA, 4485}},
			clients: []client{curl(4485, "{server}", tlslab.GoodName, "--tls-max", "1.2", "--max-time", "4")},
			routed:  blackhole(false),
			how: "The same MTU black hole as path_mtu_blackhole.pcap, captured on the client's link: the server's SYN-ACK and the last, smaller segment of its flight arrive, " +
				"the full-size segments before it never do, and the client never acknowledges past the hole until curl gives up.",
			checks: []check{
				exactly("SYN", 1, syn), exactly("ClientHello", 1, fromClient(hs(hsClientHello))),
				exactly("server segments of 1448 bytes", 0, fromServer(func(f frame) bool { return f.PayloadLen == 1448 })),
				atLeast("server segments with data", 1, fromServer(data)),
				exactly("ServerHello", 0, fromServer(hs(hsServerHello))),
			},
		},
	}
}

// clockSkew is a client whose clock is 20 years ahead: openssl s_client
// -attime checks the chain at that time.
func clockSkew() capture {
	ahead := time.Now().AddDate(20, 0, 0).Unix()
	c := client{argv: []string{"openssl", "s_client", "-connect", "127.0.0.1:4486", "-servername", tlslab.GoodName, "-CAfile", "{labca}",
		"-tls1_2", "-verify_return_error", "-attime", strconv.FormatInt(ahead, 10)}}
	return capture{
		file: "captures/client_clock_skew.pcap", category: "client_clock_skew",
		servers: []server{{tlslab.OK, 4486}},
		clients: []client{c},
		how: "openssl s_client over TLS 1.2 with -attime 20 years ahead (a client whose clock is wrong) and -verify_return_error, against a crypto/tls server whose chain is valid now: " +
			"the client refuses the certificate as expired (alert certificate_expired) although it is valid at the capture's time. " +
			"LAB-ROOT.pem is the root of the run that made the capture (mkcaptures -only keeps testdata/certs from the full run, so the chain in this capture need not lead to testdata/certs/ca.pem).",
		checks: []check{
			exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("plaintext Certificate", 1, fromServer(hs(hsCertificate))),
			exactly("alert certificate_expired (45) from client", 1, fromClient(alert(45))),
		},
	}
}

// blackhole is a path whose router cannot forward full-size packets to
// the client and whose "fragmentation needed" never leaves it.
func blackhole(atServer bool) *routed {
	return &routed{mtu: tlslab.PathMTU{Client: 1500, Router: 1280}, atServer: atServer,
		rules: [][]string{{"-A", "OUTPUT", "-p", "icmp", "--icmp-type", "fragmentation-needed", "-j", "DROP"}}}
}

// intercepted is a TLS-inspecting proxy in the router that re-signs the
// server's certificate with its own CA, which the client does not trust;
// a second connection to the same server, on a port the proxy leaves
// alone, shows the server's own certificate for the same name.
func intercepted() capture {
	return capture{
		file:    "path_intercepted.pcap",
		conns:   []conn{{4490, "ok"}, {4491, "tls_intercepted"}},
		servers: []server{{tlslab.OK, 4491}, {tlslab.OK, 4490}},
		clients: []client{
			// This run's root: -only keeps testdata/certs from an earlier run.
			withServer(1, client{argv: []string{"curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", "{labca}", "--tls-max", "1.2",
				"--resolve", tlslab.GoodName + ":4490:{server}", "https://" + tlslab.GoodName + ":4490/"}}),
			{argv: []string{"curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", "{labca}", "--tls-max", "1.2",
				"--resolve", tlslab.GoodName + ":4491:{server}", "https://" + tlslab.GoodName + ":4491/"}},
		},
		routed: &routed{intercept: true},
		how: "curl (TLS 1.2, so that the certificates are in plaintext) asks a crypto/tls server one router away for good.test twice, captured on the client's link. " +
			"The router redirects (iptables REDIRECT) connections to port 4491 to a transparent TLS-inspecting proxy written for the lab in Go (internal/tlslab, Interceptor): " +
			"it reads the original destination (SO_ORIGINAL_DST), completes its own handshake with the server there, and answers the client with a certificate for the server's names " +
			"that it mints and signs with its own CA, named as mitmproxy names the CA it generates (CN=mitmproxy, O=mitmproxy), sent after the leaf. " +
			"The client trusts only the lab's root and refuses it (alert unknown_ca). The first connection, to port 4490, is left alone and completes with the server's own chain for the same name.",
		checks: []check{
			exactly("SYN", 2, syn), exactly("SYN-ACK", 2, synAck),
			exactly("ClientHello", 2, fromClient(hs(hsClientHello))), exactly("plaintext Certificate", 2, fromServer(hs(hsCertificate))),
			exactly("alert unknown_ca (48) from the client", 1, fromClient(alert(48))),
		},
	}
}

// vantageIntercepted is the interception of path_intercepted.pcap captured
// at both ends of the path at once: the client's link and the server's.
// The intercepted connection reaches the server as the proxy's own, from
// the router's address, with the proxy's ClientHello; the one left alone
// is the same connection at both ends.
func vantageIntercepted() capture {
	c := intercepted()
	c.file = "vantage/intercepted_client.pcap"
	// TLS 1.2 servers, so that the proxy's upstream connection shows the
	// server's certificate in plaintext too.
	c.servers = []server{{tlslab.OKTLS12, 4501}, {tlslab.OKTLS12, 4500}}
	c.clients = []client{
		withServer(1, client{argv: []string{"curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", "{labca}", "--tls-max", "1.2",
			"--resolve", tlslab.GoodName + ":4500:{server}", "https://" + tlslab.GoodName + ":4500/"}}),
		// -k: a client that does not check the certificate completes
		// through the proxy, which then relays its request: only the
		// other vantage point shows the interception.
		{argv: []string{"curl", "-sS", "--http1.1", "--max-time", "10", "-k", "--tls-max", "1.2",
			"--resolve", tlslab.GoodName + ":4501:{server}", "https://" + tlslab.GoodName + ":4501/"}},
	}
	c.conns = []conn{{4500, "ok"}, {4501, "ok"}}
	c.checks = []check{
		exactly("SYN", 2, syn), exactly("SYN-ACK", 2, synAck),
		exactly("ClientHello", 2, fromClient(hs(hsClientHello))), exactly("plaintext Certificate", 2, fromServer(hs(hsCertificate))),
		exactly("alert unknown_ca (48) from the client", 0, fromClient(alert(48))),
	}
	c.routed = &routed{intercept: true, twin: "vantage/intercepted_server.pcap", twinConns: []conn{{4500, "ok"}, {4501, "ok"}}}
	c.how = "The interception of path_intercepted.pcap (ports 4500, left alone, and 4501, intercepted) captured on the client's link and, at the same time, on the server's link " +
		"(vantage/intercepted_server.pcap); the servers speak TLS 1.2 only, so that the server's certificate is in plaintext on both links. At the server, the intercepted connection is the proxy's own: from the router's address, with the proxy's ClientHello (crypto/tls), and it completes with the server's own chain; " +
		"at the client, curl (-k: it checks no certificate) completes with a certificate minted by the proxy's CA, and the proxy relays its request. The connection left alone is the same at both ends."
	return c
}

// vantageSNIFilter is the SNI filter of path_sni_filter.pcap captured at
// both ends of the path at once.
func vantageSNIFilter() capture {
	return capture{
		file:    "vantage/sni_filter_client.pcap",
		conns:   []conn{{4502, "middlebox_drop"}, {4503, "ok"}},
		servers: []server{{tlslab.OK, 4502}, {tlslab.OKOther, 4503}},
		clients: []client{
			curl(4502, "{server}", tlslab.GoodName, "--max-time", "3"),
			withServer(1, client{argv: []string{"curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", "{labca}",
				"--resolve", tlslab.OtherName + ":4503:{server}", "https://" + tlslab.OtherName + ":4503/"}}),
		},
		routed: &routed{twin: "vantage/sni_filter_server.pcap", twinConns: []conn{{4502, "middlebox_drop"}, {4503, "ok"}},
			rules: [][]string{{"-A", "FORWARD", "-p", "tcp", "-m", "string", "--algo", "bm", "--string", tlslab.GoodName, "-j", "DROP"}}},
		how: "The SNI filter of path_sni_filter.pcap (good.test on port 4502 dropped, other.test on port 4503 let through) captured on the client's link and, at the same time, on the server's link " +
			"(vantage/sni_filter_server.pcap): the client sends its hello again and again; the server sees the TCP handshake and nothing after it.",
		checks: []check{
			exactly("SYN", 2, syn), exactly("SYN-ACK", 2, synAck),
			atLeast("ClientHello", 2, fromClient(hs(hsClientHello))), exactly("ServerHello", 1, fromServer(hs(hsServerHello))),
		},
	}
}

// vantageReset is the reset of middlebox_reset.pcap captured at both ends
// of the path at once: the server never sent the RST the client got.
func vantageReset() capture {
	return capture{
		file:    "vantage/reset_client.pcap",
		conns:   []conn{{4504, "middlebox_reset"}, {4505, "ok"}},
		servers: []server{{tlslab.OK, 4504}, {tlslab.OKOther, 4505}},
		clients: []client{
			curl(4504, "{server}", tlslab.GoodName),
			pause(1500 * time.Millisecond),
			withServer(1, client{argv: []string{"curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", "{labca}",
				"--resolve", tlslab.OtherName + ":4505:{server}", "https://" + tlslab.OtherName + ":4505/"}}),
		},
		routed: &routed{twin: "vantage/reset_server.pcap", twinConns: []conn{{4504, "middlebox_drop"}, {4505, "ok"}},
			rules: [][]string{{"-A", "FORWARD", "-p", "tcp", "--dport", "{port}",
				"-m", "string", "--algo", "bm", "--string", tlslab.GoodName, "-j", "REJECT", "--reject-with", "tcp-reset"}}},
		how: "The reset of middlebox_reset.pcap (port 4504) captured on the client's link and, at the same time, on the server's link (vantage/reset_server.pcap): " +
			"the client gets a RST in the server's name right after its hello; the server sees the TCP handshake, then nothing — it sent no RST. " +
			"1.5 s later curl asks for other.test on port 4505, which completes, so that the captures go on after the reset.",
		checks: []check{
			exactly("SYN", 2, syn), exactly("ClientHello", 2, fromClient(hs(hsClientHello))),
			exactly("RST from the server's address", 1, fromServer(rst)),
		},
	}
}
