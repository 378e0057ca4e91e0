package main

import (
	"fmt"
	"strings"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// dnsCurl is curl in the client's namespace asking for name on port,
// resolved through the system resolver (glibc) from the namespace's
// resolv.conf: the router's dnsmasq. TLS 1.2, so that the certificate is
// in plaintext.
func dnsCurl(port uint16, name string) client {
	return client{argv: []string{"curl", "-sS", "--http1.1", "--max-time", "5", "--cacert", "{labca}", "--tls-max", "1.2",
		fmt.Sprintf("https://%s:%d/", name, port)}}
}

func dnsQuery(name string) pred {
	return func(f frame) bool { return !f.DNSResponse && strings.EqualFold(f.DNSName, name) }
}

func dnsAnswer(name string, rcode int) pred {
	return func(f frame) bool { return f.DNSResponse && strings.EqualFold(f.DNSName, name) && f.DNSRCode == rcode }
}

func dnsAddr(name string) pred {
	return func(f frame) bool {
		return f.DNSResponse && strings.EqualFold(f.DNSName, name) && len(f.DNSA) > 0
	}
}

// DNS response codes (RFC 1035, Section 4.1.1).
const (
	rcodeServFail = 2
	rcodeNXDomain = 3
	rcodeRefused  = 5
)

// rootTrustAnchor is the DS record of the DNS root's key-signing key
// KSK-2017 (IANA's root-anchors.xml), as dnsmasq's --trust-anchor takes
// it.
const rootTrustAnchor = ".,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"

// dnsCaptures are lookups through a name server in the router (dnsmasq):
// failed ones, and one that sends a name to a server with a certificate
// for another. Ports 4494-4498, 4479 and 4480.
func dnsCaptures() []capture {
	const how = "curl (TLS 1.2) in the client's network namespace, one router away from a crypto/tls server, captured on the client's link. " +
		"curl resolves the name with the system resolver (glibc), whose resolv.conf (/etc/netns/NAMESPACE/resolv.conf, which ip netns exec mounts) names dnsmasq in the router: "
	return []capture{
		{
			file:    "captures/dns_failure_nxdomain.pcap",
			conns:   []conn{{53, "dns_failure"}},
			servers: []server{{tlslab.OK, 4494}},
			clients: []client{dnsCurl(4494, "missing.test")},
			routed:  &routed{resolver: []string{"--address=/missing.test/"}},
			how:     how + "dnsmasq answers NXDOMAIN for missing.test (--address=/missing.test/), so curl never connects (\"Could not resolve host\").",
			checks: []check{
				atLeast("query for missing.test", 1, dnsQuery("missing.test")),
				atLeast("NXDOMAIN for missing.test", 1, dnsAnswer("missing.test", rcodeNXDomain)),
				exactly("SYN", 0, syn),
			},
		},
		{
			file:    "captures/dns_failure_nxdomain_tcp.pcap",
			conns:   []conn{{53, "dns_failure"}},
			servers: []server{{tlslab.OK, 4497}},
			clients: []client{dnsCurl(4497, "missing.test")},
			routed:  &routed{resolver: []string{"--address=/missing.test/"}, resolverTCP: true},
			how:     how + "the resolv.conf has options use-vc, so glibc asks over TCP (each message after its two-byte length); dnsmasq answers NXDOMAIN for missing.test, so curl never connects.",
			checks: []check{
				atLeast("query for missing.test", 1, dnsQuery("missing.test")),
				atLeast("NXDOMAIN for missing.test", 1, dnsAnswer("missing.test", rcodeNXDomain)),
				exactly("SYN to port 4497", 0, func(f frame) bool { return syn(f) && f.DstPort == 4497 }),
				atLeast("SYN to port 53", 1, func(f frame) bool { return syn(f) && f.DstPort == 53 }),
			},
		},
		{
			file:    "captures/dns_failure_refused.pcap",
			conns:   []conn{{53, "dns_failure"}},
			servers: []server{{tlslab.OK, 4495}},
			clients: []client{dnsCurl(4495, "elsewhere.test")},
			routed:  &routed{resolver: []string{"--address=/missing.test/"}},
			how:     how + "dnsmasq knows nothing of elsewhere.test and has no upstream server to ask, so it answers REFUSED, and curl never connects.",
			checks: []check{
				atLeast("query for elsewhere.test", 1, dnsQuery("elsewhere.test")),
				atLeast("REFUSED for elsewhere.test", 1, dnsAnswer("elsewhere.test", rcodeRefused)),
				exactly("SYN", 0, syn),
			},
		},
		{
			file:    "captures/dns_failure_servfail.pcap",
			conns:   []conn{{53, "dns_failure"}},
			servers: []server{{tlslab.OK, 4480}},
			clients: []client{dnsCurl(4480, "signed.test")},
			routed: &routed{upstream: []string{"--address=/signed.test/{server}"},
				resolver: []string{"--dnssec", "--trust-anchor=" + rootTrustAnchor, "--server=127.0.0.1"}},
			how: how + "dnsmasq validates DNSSEC from the root's trust anchor and forwards to a second dnsmasq in the router, which answers signed.test unsigned and refuses the DS and DNSKEY queries; " +
				"the validation fails, so the resolver answers SERVFAIL, and curl never connects.",
			checks: []check{
				atLeast("query for signed.test", 1, dnsQuery("signed.test")),
				atLeast("SERVFAIL for signed.test", 1, dnsAnswer("signed.test", rcodeServFail)),
				exactly("SYN", 0, syn),
			},
		},
		{
			file:    "captures/dns_failure_unanswered.pcap",
			conns:   []conn{{53, "dns_failure"}},
			servers: []server{{tlslab.OK, 4496}},
			clients: []client{dnsCurl(4496, tlslab.GoodName)},
			routed: &routed{resolver: []string{"--address=/good.test/{server}"},
				rules: [][]string{{"-A", "INPUT", "-p", "udp", "--dport", "53", "-j", "DROP"}, {"-A", "INPUT", "-p", "tcp", "--dport", "53", "-j", "DROP"}}},
			how: how + "the router's firewall drops every packet to port 53, so the queries for good.test (timeout 1 s, 2 attempts) get no answer and curl never connects.",
			checks: []check{
				atLeast("query for good.test", 2, dnsQuery(tlslab.GoodName)),
				exactly("answer", 0, func(f frame) bool { return f.DNSResponse }),
				exactly("SYN", 0, syn),
			},
		},
		{
			file:  "dns_wrong_server.pcap",
			conns: []conn{{4498, "cert_hostname_mismatch"}, {4479, "ok"}},
			// One server host with a certificate for other.test only, on
			// two ports, so that each connection's verdict goes by port.
			servers: []server{{tlslab.OKOther, 4498}, {tlslab.OKOther, 4479}},
			clients: []client{withServer(1, dnsCurl(4479, tlslab.OtherName)), dnsCurl(4498, tlslab.GoodName)},
			routed:  &routed{resolver: []string{"--address=/good.test/{server}", "--address=/other.test/{server}"}},
			how: how + "dnsmasq sends both other.test and good.test to the server, which has a certificate for other.test only. " +
				"dnsmasq has IPv4 addresses only and no upstream server, so it answers the AAAA queries REFUSED; the A answers give the address. " +
				"curl asks for other.test on port 4479 (it completes), then for good.test on port 4498: the certificate is for other.test, and curl refuses it after the handshake (an encrypted alert).",
			checks: []check{
				atLeast("A record for other.test", 1, dnsAddr(tlslab.OtherName)),
				atLeast("A record for good.test", 1, dnsAddr(tlslab.GoodName)),
				exactly("SYN", 2, syn), exactly("plaintext Certificate", 2, fromServer(hs(hsCertificate))),
			},
		},
	}
}
