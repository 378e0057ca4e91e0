package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// capture is one file the generator makes: servers, the clients run against
// them in order while tcpdump listens, and what the file must then show.
type capture struct {
	file     string // relative to the output directory
	category string // expected verdict of every connection (demo: see conns)
	conns    []conn // the demo's connections, in order
	servers  []server
	clients  []client
	netns    bool    // run across the veth pair with MTU 576 (ok_mtu576)
	routed   *routed // run across a router (pathplan.go)
	keylog   bool    // write the clients' TLS secrets next to the capture
	how      string  // for the README: what happens, and why
	checks   []check
	// post runs after tcpdump stopped (incomplete_capture cuts the file).
	post func(e *env, path string) (string, error)
}

// conn is the expected verdict of one connection of a multi-verdict capture.
type conn struct {
	port     uint16
	category string
}

type server struct {
	scenario tlslab.Scenario
	port     uint16
}

// client is an external command or a crypto/tls function.
type client struct {
	argv   []string // external; "{ca}" is the CA file, "{keylog}" the key log
	desc   string   // for crypto/tls clients: what it does
	goRun  func(ctx context.Context, e *env, addr string) error
	server int // index into capture.servers (demo)
}

func (c capture) serverPorts() []uint16 {
	var ports []uint16
	for _, s := range c.servers {
		ports = append(ports, s.port)
	}
	return ports
}

// Addresses of the MTU 576 capture, inside the namespaces the generator
// creates.
const (
	nsServerAddr = "10.99.0.1"
	nsClientAddr = "10.99.0.2"
)

func curl(port uint16, ip, name string, extra ...string) client {
	argv := []string{"curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", "{ca}",
		"--resolve", fmt.Sprintf("%s:%d:%s", name, port, ip)}
	argv = append(argv, extra...)
	return client{argv: append(argv, fmt.Sprintf("https://%s:%d/", name, port))}
}

func opensslClient(port uint16, extra ...string) client {
	argv := []string{"openssl", "s_client", "-connect", "127.0.0.1:" + strconv.Itoa(int(port)),
		"-servername", tlslab.GoodName, "-CAfile", "{ca}"}
	return client{argv: append(argv, extra...)}
}

func gnutlsClient(port uint16, extra ...string) client {
	argv := []string{"gnutls-cli", "--x509cafile={ca}", "--sni-hostname=" + tlslab.GoodName,
		"--verify-hostname=" + tlslab.GoodName, "--port=" + strconv.Itoa(int(port))}
	argv = append(argv, extra...)
	return client{argv: append(argv, "127.0.0.1")}
}

// goClient dials with the lab's client configuration changed by mod.
func goClient(desc string, mod func(*tls.Config)) client {
	return client{desc: desc, goRun: func(ctx context.Context, e *env, addr string) error {
		cfg := e.lab.ClientConfig()
		cfg.KeyLogWriter = e.keylog
		if mod != nil {
			mod(cfg)
		}
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}}
}

// goReadClient completes a handshake at version v with the lab's client
// configuration, sends nothing and reads until the server closes.
func goReadClient(desc string, v uint16) client {
	return client{desc: desc, goRun: func(ctx context.Context, e *env, addr string) error {
		cfg := e.lab.ClientConfig()
		cfg.KeyLogWriter = e.keylog
		cfg.MinVersion, cfg.MaxVersion = v, v
		return handshakeAndRead(ctx, cfg, addr)
	}}
}

// handshakeAndRead dials addr with cfg, sends nothing and reads until
// the server closes (or 5 s pass).
func handshakeAndRead(ctx context.Context, cfg *tls.Config, addr string) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.Copy(io.Discard, c)
	return err
}

// goLateHelloClient connects and waits delay before its TLS handshake.
func goLateHelloClient(desc string, delay time.Duration) client {
	return client{desc: desc, goRun: func(ctx context.Context, e *env, addr string) error {
		nc, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer nc.Close()
		time.Sleep(delay)
		c := tls.Client(nc, e.lab.ClientConfig())
		c.SetDeadline(time.Now().Add(5 * time.Second))
		return c.HandshakeContext(ctx)
	}}
}

// goMalformedHelloClient sends crypto/tls's ClientHello with the length
// of its extensions 3 bytes longer than they are, then reads the answer
// until the server closes.
func goMalformedHelloClient() client {
	return client{desc: "crypto/tls's ClientHello with its extensions' length raised by 3", goRun: func(ctx context.Context, e *env, addr string) error {
		hello, err := clientHelloRecord(e.lab.ClientConfig())
		if err != nil {
			return err
		}
		// Record header (5), handshake header (4), version (2), random
		// (32), then the session ID, suites and compression methods,
		// each after its length.
		i := 5 + 4 + 2 + 32
		i += 1 + int(hello[i])
		i += 2 + (int(hello[i])<<8 | int(hello[i+1]))
		i += 1 + int(hello[i])
		n := (int(hello[i])<<8 | int(hello[i+1])) + 3
		hello[i], hello[i+1] = byte(n>>8), byte(n)
		c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(hello); err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, c)
		return err
	}}
}

// clientHelloRecord returns the first record crypto/tls writes with cfg:
// its ClientHello.
func clientHelloRecord(cfg *tls.Config) ([]byte, error) {
	client, server := net.Pipe()
	defer server.Close()
	go func() {
		tls.Client(client, cfg).Handshake()
		client.Close()
	}()
	server.SetDeadline(time.Now().Add(5 * time.Second))
	var hdr [5]byte
	if _, err := io.ReadFull(server, hdr[:]); err != nil {
		return nil, err
	}
	rec := make([]byte, 5+(int(hdr[3])<<8|int(hdr[4])))
	copy(rec, hdr[:])
	_, err := io.ReadFull(server, rec[5:])
	return rec, err
}

// goForcedCertClient handshakes over TLS 1.3 sending the lab's server
// certificate as its client certificate whatever the server's
// CertificateRequest accepts (crypto/tls would send none), then reads
// until the server's verdict arrives.
func goForcedCertClient() client {
	return client{desc: "TLS 1.3, sending a client certificate from a CA the server does not accept (the lab's server certificate)", goRun: func(ctx context.Context, e *env, addr string) error {
		cfg := e.lab.ClientConfig()
		cfg.KeyLogWriter = e.keylog
		cfg.MinVersion = tls.VersionTLS13
		cert := e.lab.Good.TLS()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
		return handshakeAndRead(ctx, cfg, addr)
	}}
}

// goCheckAfterClient completes a TLS 1.2 handshake without verifying,
// verifies the chain afterwards as Node.js does, and on failure closes
// the TCP connection without an alert.
func goCheckAfterClient() client {
	return client{desc: "checks the chain after the handshake, as Node.js does, and hangs up without an alert", goRun: func(ctx context.Context, e *env, addr string) error {
		cfg := e.lab.ClientConfig()
		roots := cfg.RootCAs
		cfg.InsecureSkipVerify, cfg.MaxVersion = true, tls.VersionTLS12
		nc, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer nc.Close()
		c := tls.Client(nc, cfg)
		if err := c.HandshakeContext(ctx); err != nil {
			return err
		}
		certs := c.ConnectionState().PeerCertificates
		inter := x509.NewCertPool()
		for _, ic := range certs[1:] {
			inter.AddCert(ic)
		}
		_, err = certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: tlslab.GoodName})
		return err // nc.Close, not c.Close: no close_notify
	}}
}

// goHTTPClient GETs https://good.test/ with net/http, dialing addr, with
// the lab's client configuration changed by mod; the README shows Go's
// error, the text users search for.
func goHTTPClient(desc string, mod func(*tlslab.Lab, *tls.Config)) client {
	return client{desc: "net/http GET, " + desc, goRun: func(ctx context.Context, e *env, addr string) error {
		cfg := e.lab.ClientConfig()
		cfg.KeyLogWriter = e.keylog
		if mod != nil {
			mod(e.lab, cfg)
		}
		d := &net.Dialer{Timeout: 5 * time.Second}
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: cfg,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
		}}
		defer hc.CloseIdleConnections()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+tlslab.GoodName+"/", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}}
}

// httpGet is a Go net/http GET with the lab's client configuration changed
// by mod. byIP fetches https://ADDRESS/ (no SNI; the certificate must hold
// the address), otherwise https://good.test:PORT/ dialled at the address.
func httpGet(desc string, timeout time.Duration, byIP bool, mod func(*tls.Config)) client {
	return client{desc: desc, goRun: func(ctx context.Context, e *env, addr string) error {
		cfg := e.lab.ClientConfig()
		cfg.KeyLogWriter = e.keylog
		url := "https://" + addr + "/"
		if byIP {
			cfg.ServerName = ""
		} else {
			_, port, _ := net.SplitHostPort(addr)
			url = "https://" + net.JoinHostPort(tlslab.GoodName, port) + "/"
		}
		if mod != nil {
			mod(cfg)
		}
		dialer := &net.Dialer{Timeout: 5 * time.Second}
		hc := &http.Client{Timeout: timeout, Transport: &http.Transport{
			TLSClientConfig: cfg,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			},
		}}
		defer hc.CloseIdleConnections()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}}
}

// Ports: one per capture from 4431 on; the demo uses 4471-4476.
func plan() []capture {
	var handshakeDone time.Time // set by incomplete_capture's client, read by its post
	return append([]capture{
		{
			file: "captures/ok.pcap", category: "ok",
			servers: []server{{tlslab.OK, 4431}},
			clients: []client{curl(4431, "127.0.0.1", tlslab.GoodName, "--tlsv1.3"), curl(4431, "127.0.0.1", tlslab.GoodName, "--tls-max", "1.2")},
			keylog:  true,
			how: "Two HTTPS GETs by curl, the first over TLS 1.3, the second limited to TLS 1.2 (so its Certificate is readable: good.test sent with the intermediate). " +
				"Both get 200 and exchange close_notify; curl has closed its socket when the server's close_notify arrives, so each connection ends with a RST from the client: normal for curl, not a failure.",
			checks: []check{
				exactly("SYN", 2, syn), exactly("ClientHello", 2, hs(hsClientHello)), exactly("ServerHello", 2, hs(hsServerHello)),
				exactly("plaintext Certificate (TLS 1.2 connection)", 1, fromServer(hs(hsCertificate))),
				atLeast("client application data", 2, fromClient(record(recordApplicationData))),
				atLeast("server application data", 2, fromServer(record(recordApplicationData))),
				exactly("plaintext alert", 0, anyAlert), exactly("RST from server", 0, fromServer(rst)),
			},
		},
		{
			file: "captures/ok_mtu576.pcap", category: "ok",
			servers: []server{{tlslab.OKRSA, 4443}},
			clients: []client{curl(4443, nsServerAddr, tlslab.GoodName, "--tls-max", "1.2")},
			netns:   true,
			how: "One HTTPS GET over TLS 1.2 between two network namespaces joined by a veth pair with MTU 576 " +
				"(server " + nsServerAddr + ", client " + nsClientAddr + ", MSS 536), captured on the server's veth. " +
				"The RSA 2048 leaf and the intermediate make the server flight span several segments; on loopback (MTU 65536) it is one.",
			checks: []check{
				exactly("SYN", 1, syn), exactly("ClientHello", 1, hs(hsClientHello)),
				exactly("Certificate (reassembled; the frame completing it)", 1, fromServer(hs(hsCertificate))),
				atLeast("server segments of a full MSS (536 less 12 bytes of TCP timestamps)", 2, fromServer(func(f frame) bool { return f.PayloadLen == 524 })),
				exactly("frames longer than 576+14 bytes", 0, func(f frame) bool { return f.Len > 590 }),
				atLeast("client application data", 1, fromClient(record(recordApplicationData))),
				atLeast("server application data", 1, fromServer(record(recordApplicationData))),
				exactly("plaintext alert", 0, anyAlert), exactly("RST from server", 0, fromServer(rst)),
			},
		},
		{
			file: "captures/ok_verify_then_close.pcap", category: "ok",
			servers: []server{{tlslab.OKTLS12, 4510}},
			// {labca}: this run's root, which -only does not write to certs.
			clients: []client{{argv: []string{"openssl", "s_client", "-connect", "127.0.0.1:4510", "-servername", tlslab.GoodName,
				"-CAfile", "{labca}", "-tls1_2", "-verify_return_error"}}},
			how: "openssl s_client over TLS 1.2 with -verify_return_error, which aborts during the handshake when the chain does not verify, and stdin at its end: " +
				"it verifies the lab's chain, finishes the handshake and closes with close_notify without sending data, as health checks and `openssl s_client </dev/null` do. " +
				"Read without the lab's root, the chain ends at a private root that the client trusted.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("Certificate", 1, fromServer(hs(hsCertificate))),
				exactly("plaintext alert", 0, anyAlert), exactly("client application data", 0, fromClient(record(recordApplicationData))),
			},
		},
		{
			file: "captures/ok_server_closes_tls12.pcap", category: "ok",
			servers: []server{{tlslab.AppClosesAtOnce, 4511}},
			clients: []client{goReadClient("TLS 1.2, reads until the server closes", tls.VersionTLS12)},
			how: "A crypto/tls client over TLS 1.2 against a server application that completes the handshake and closes at once (close_notify, then FIN), " +
				"as one at its connection limit or crashing does; the client sends nothing and reads until EOF, then closes. TLS worked: the server closed first.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("plaintext alert", 0, anyAlert),
				exactly("server FIN", 1, fromServer(fin)), exactly("client application data", 0, fromClient(record(recordApplicationData))),
			},
		},
		{
			file: "captures/ok_server_closes_tls13.pcap", category: "ok",
			servers: []server{{tlslab.AppClosesAtOnce, 4512}},
			clients: []client{goReadClient("TLS 1.3, reads until the server closes", tls.VersionTLS13)},
			how: "The same over TLS 1.3, where the server's close_notify is an encrypted record of alert size right after the client's Finished, as a refusal of a client certificate would be; " +
				"but the client's flight is its Finished alone: no certificate was asked for.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("plaintext alert", 0, anyAlert),
				exactly("server FIN", 1, fromServer(fin)),
			},
		},
		{
			file: "captures/server_no_response_closed_first.pcap", category: "server_no_response",
			servers: []server{{tlslab.ServerClosesAtAccept, 4513}},
			clients: []client{goLateHelloClient("sends its ClientHello 100 ms after connecting", 100*time.Millisecond)},
			how: "A server that closes each connection as soon as it accepts it (FIN), as one at its connection limit or a load balancer without a backend does, " +
				"and a crypto/tls client whose ClientHello comes 100 ms after the connection opened: the server's FIN comes first.",
			checks: []check{
				exactly("server FIN", 1, fromServer(fin)), exactly("ClientHello", 1, fromClient(hs(hsClientHello))),
				exactly("ServerHello", 0, hs(hsServerHello)),
			},
		},
		{
			file: "captures/handshake_failure_malformed_hello.pcap", category: "handshake_failure",
			servers: []server{{tlslab.OK, 4514}},
			clients: []client{goMalformedHelloClient()},
			how: "crypto/tls's own ClientHello with its extensions' length raised by 3 (a broken client, or a middlebox rewriting hellos), sent as is: " +
				"the crypto/tls server answers decode_error.",
			checks: []check{
				exactly("alert decode_error (50) from server", 1, fromServer(alert(50))), exactly("ServerHello", 0, hs(hsServerHello)),
			},
		},
		{
			file: "captures/client_cert_required_tls13_refused.pcap", category: "client_cert_required",
			servers: []server{{tlslab.ClientCertRequiredTLS13, 4515}},
			clients: []client{goForcedCertClient()},
			how: "A TLS 1.3 crypto/tls server requiring a client certificate from the lab's client CA, and a crypto/tls client that sends another one: " +
				"the CertificateRequest, the client's Certificate and the server's alert are encrypted; the client's first encrypted record is too long for an empty Certificate.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("plaintext alert", 0, anyAlert),
			},
		},
		{
			file: "captures/cert_untrusted_ca_checked_after.pcap", category: "cert_untrusted_ca",
			servers: []server{{tlslab.CertUntrustedCA, 4516}},
			clients: []client{goCheckAfterClient()},
			how: "A crypto/tls client that, as Node.js does, completes the handshake without checking the chain, then checks it against the lab's root, " +
				"finds the private root untrusted and closes the connection without an alert: a rejection after the handshake, by a client that checks trust during it as a rule.",
			checks: []check{
				exactly("Certificate", 1, fromServer(hs(hsCertificate))), exactly("plaintext alert", 0, anyAlert),
				exactly("client application data", 0, fromClient(record(recordApplicationData))),
			},
		},
		{
			file: "captures/version_mismatch.pcap", category: "version_mismatch",
			servers: []server{{tlslab.VersionMismatch, 4432}},
			clients: []client{curl(4432, "127.0.0.1", tlslab.GoodName, "--tls-max", "1.2")},
			how:     "curl limited to TLS 1.2 against a TLS 1.3-only crypto/tls server, which answers the ClientHello with a protocol_version alert.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("alert protocol_version (70) from server", 1, fromServer(alert(70))),
			},
		},
		{
			file: "captures/version_mismatch_tls10.pcap", category: "version_mismatch",
			servers: []server{{tlslab.OK, 4433}},
			clients: []client{opensslClient(4433, "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0")},
			how:     "openssl s_client -tls1 (TLS 1.0 only; SECLEVEL=0 so OpenSSL 3 agrees to send it) against crypto/tls defaults (TLS 1.2 minimum): protocol_version alert.",
			checks: []check{
				exactly("ClientHello (TLS 1.0)", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("alert protocol_version (70) from server", 1, fromServer(alert(70))),
			},
		},
		{
			file: "captures/no_shared_cipher.pcap", category: "no_shared_cipher",
			servers: []server{{tlslab.NoSharedCipher, 4434}},
			clients: []client{opensslClient(4434, "-tls1_2", "-cipher", "AES128-SHA")},
			how:     "openssl s_client -tls1_2 -cipher AES128-SHA (one suite, plus the renegotiation SCSV) against a crypto/tls server allowing only ECDHE-ECDSA-AES-GCM: handshake_failure.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("alert handshake_failure (40) from server", 1, fromServer(alert(40))),
			},
		},
		{
			file: "captures/handshake_failure.pcap", category: "handshake_failure",
			servers: []server{{tlslab.HandshakeFailure, 4435}},
			clients: []client{opensslClient(4435, "-groups", "P-384")},
			how: "openssl s_client offering TLS 1.3 with P-384 as its only group (and key share) against a crypto/tls server that supports X25519 only. " +
				"Versions and TLS 1.3 suites overlap; the server finds no common group and sends handshake_failure (no HelloRetryRequest: there is nothing to retry with).",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("alert handshake_failure (40) from server", 1, fromServer(alert(40))),
			},
		},
		{
			file: "captures/handshake_failure_tls12.pcap", category: "handshake_failure",
			servers: []server{{tlslab.HandshakeFailure, 4436}},
			clients: []client{opensslClient(4436, "-tls1_2", "-groups", "P-384")},
			how: "The same with TLS 1.2: the client offers OpenSSL's usual suites (ECDHE-ECDSA-AES-GCM among them) but only P-384. " +
				"crypto/tls drops its ECDHE suites for want of a common curve, finds no suite left and sends handshake_failure: " +
				"the wire shows plenty of common suites, so the cause is not the ciphers.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("alert handshake_failure (40) from server", 1, fromServer(alert(40))),
			},
		},
		{
			file: "captures/legacy_policy_refused.pcap", category: "legacy_policy_refused",
			servers: []server{{tlslab.LegacyTLS11, 4477}},
			clients: []client{opensslClient(4477)},
			how: "openssl s_client (OpenSSL 3, default security level 1) against a crypto/tls server that speaks TLS 1.0 and 1.1 only, as old appliances do: " +
				"the server picks TLS 1.1 and sends its flight, whose ServerKeyExchange is signed with MD5+SHA-1; the client refuses it with alert internal_error — its security policy, not an error.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 1, fromServer(hs(hsServerHello))),
				exactly("ServerKeyExchange", 1, fromServer(hs(12))),
				exactly("alert internal_error (80) from client", 1, fromClient(alert(80))),
			},
		},
		{
			file: "captures/legacy_policy_refused_curl.pcap", category: "legacy_policy_refused",
			servers: []server{{tlslab.LegacyTLS11, 4478}},
			clients: []client{{argv: []string{"curl", "-sS", "--http1.1", "--max-time", "10", "--cacert", "{labca}", "--tlsv1.0",
				"--resolve", tlslab.GoodName + ":4478:127.0.0.1", "https://" + tlslab.GoodName + ":4478/"}}},
			how: "The same with curl (OpenSSL 3 backend) allowed TLS 1.0 and up (--tlsv1.0), trusting the lab's root: OpenSSL's security level still refuses the TLS 1.1 handshake's signature, with internal_error. " +
				"LAB-ROOT.pem is the root of the run that made the capture.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 1, fromServer(hs(hsServerHello))),
				exactly("alert internal_error (80) from client", 1, fromClient(alert(80))),
			},
		},
		{
			file: "captures/cert_expired.pcap", category: "cert_expired",
			servers: []server{{tlslab.CertExpired, 4437}},
			clients: []client{curl(4437, "127.0.0.1", tlslab.GoodName)},
			how:     "curl against a TLS 1.2 crypto/tls server whose RSA 2048 leaf expired 24 hours before the capture (sent with the intermediate).",
			checks: []check{
				exactly("ClientHello", 1, hs(hsClientHello)), exactly("Certificate", 1, fromServer(hs(hsCertificate))),
				exactly("alert certificate_expired (45) from client", 1, fromClient(alert(45))),
			},
		},
		{
			file: "captures/cert_expired_tls13.pcap", category: "cert_expired",
			servers: []server{{tlslab.CertRejected, 4438}},
			clients: []client{opensslClient(4438, "-verify_return_error")},
			how: "openssl s_client against the expired certificate over TLS 1.3: the Certificate is encrypted, but OpenSSL sends its " +
				"certificate_expired alert in plaintext, because it switches its own write key only when it sends its Finished. " +
				"crypto/tls then answers with an encrypted alert of its own.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))),
				exactly("ServerHello", 1, hs(hsServerHello)), exactly("plaintext Certificate", 0, hs(hsCertificate)),
				exactly("alert certificate_expired (45) from client, plaintext", 1, fromClient(alert(45))),
			},
		},
		{
			file: "captures/cert_not_yet_valid.pcap", category: "cert_not_yet_valid",
			servers: []server{{tlslab.CertNotYetValid, 4439}},
			clients: []client{gnutlsClient(4439)},
			how:     "gnutls-cli against a TLS 1.2 server whose leaf becomes valid 24 hours after the capture. GnuTLS says only bad_certificate.",
			checks: []check{
				exactly("ClientHello", 1, hs(hsClientHello)), exactly("Certificate", 1, fromServer(hs(hsCertificate))),
				exactly("alert bad_certificate (42) from client", 1, fromClient(alert(42))),
			},
		},
		{
			file: "captures/cert_self_signed.pcap", category: "cert_self_signed",
			servers: []server{{tlslab.CertSelfSigned, 4440}},
			clients: []client{opensslClient(4440, "-verify_return_error", "-verify_hostname", tlslab.GoodName)},
			how:     "openssl s_client -verify_return_error against a TLS 1.2 server sending a self-signed leaf for good.test alone.",
			checks: []check{
				exactly("ClientHello", 1, hs(hsClientHello)), exactly("Certificate", 1, fromServer(hs(hsCertificate))),
				exactly("alert unknown_ca (48) from client", 1, fromClient(alert(48))),
			},
		},
		{
			file: "captures/cert_untrusted_ca.pcap", category: "cert_untrusted_ca",
			servers: []server{{tlslab.CertUntrustedCA, 4441}},
			clients: []client{goClient("tls.Dial, trusting the lab root, ServerName good.test", nil)},
			how:     "A crypto/tls client against a TLS 1.2 server sending a leaf and its self-signed issuer \"Untrusted Root CA\". crypto/tls says bad_certificate for every verification failure.",
			checks: []check{
				exactly("ClientHello", 1, hs(hsClientHello)), exactly("Certificate (leaf + Untrusted Root CA)", 1, fromServer(hs(hsCertificate))),
				exactly("alert bad_certificate (42) from client", 1, fromClient(alert(42))),
			},
		},
		{
			file: "captures/cert_hostname_mismatch.pcap", category: "cert_hostname_mismatch",
			servers: []server{{tlslab.CertHostnameMismatch, 4442}},
			clients: []client{curl(4442, "127.0.0.1", tlslab.GoodName)},
			how: "curl asks for good.test; the TLS 1.2 server's certificate is for other.test. curl checks the name only after the " +
				"handshake: it completes, then curl sends an encrypted alert (close_notify) and resets the connection; no HTTP request is sent.",
			checks: []check{
				exactly("ClientHello", 1, hs(hsClientHello)), exactly("Certificate (other.test)", 1, fromServer(hs(hsCertificate))),
				exactly("client Finished (after ChangeCipherSpec)", 1, fromClient(record(recordCCS))),
				exactly("plaintext alert", 0, anyAlert),
				atLeast("encrypted alert from client", 1, fromClient(encryptedAlert)),
				exactly("client application data", 0, fromClient(record(recordApplicationData))),
				atLeast("RST from client", 1, fromClient(rst)),
			},
		},
		{
			file: "captures/cert_incomplete_chain.pcap", category: "cert_incomplete_chain",
			servers: []server{{tlslab.CertIncompleteChain, 4444}},
			clients: []client{curl(4444, "127.0.0.1", tlslab.GoodName)},
			how:     "curl against a TLS 1.2 server sending only its leaf, issued by the intermediate it omits: OpenSSL cannot build a path to the root (unable to get local issuer certificate).",
			checks: []check{
				exactly("ClientHello", 1, hs(hsClientHello)), exactly("Certificate (leaf only)", 1, fromServer(hs(hsCertificate))),
				exactly("alert unknown_ca (48) from client", 1, fromClient(alert(48))),
			},
		},
		{
			file: "captures/cert_untrusted_ca_go.pcap", category: "cert_untrusted_ca",
			servers: []server{{tlslab.OKTLS12, 4461}},
			clients: []client{goHTTPClient("with the system roots (which lack the lab's root)", func(_ *tlslab.Lab, c *tls.Config) { c.RootCAs = nil })},
			how: "A Go net/http client that does not trust the lab's private root, against a correct TLS 1.2 server sending its leaf and the intermediate " +
				"(not the root, as servers should). Go says \"x509: certificate signed by unknown authority\" and sends bad_certificate: the fix is the client's trust store, not the server's chain.",
			checks: []check{
				exactly("ClientHello", 1, hs(hsClientHello)), exactly("Certificate (leaf + intermediate)", 1, fromServer(hs(hsCertificate))),
				exactly("alert bad_certificate (42) from client", 1, fromClient(alert(42))),
			},
		},
		{
			file: "captures/cert_untrusted_ca_direct.pcap", category: "cert_untrusted_ca",
			servers: []server{{tlslab.CertDirectRoot, 4462}},
			clients: []client{goHTTPClient("trusting the lab root only", nil)},
			how: "`openssl s_server -no_tls1_3` sending a leaf signed directly by \"tlsdiag Private Root CA\" (no intermediate exists), to a Go net/http client that does not trust that root: " +
				"an untrusted root, not an incomplete chain.",
			checks: []check{
				exactly("ClientHello", 1, hs(hsClientHello)), exactly("Certificate (leaf only)", 1, fromServer(hs(hsCertificate))),
				exactly("alert bad_certificate (42) from client", 1, fromClient(alert(42))),
			},
		},
		{
			file: "captures/cert_expired_go.pcap", category: "cert_expired",
			servers: []server{{tlslab.CertExpired, 4463}},
			clients: []client{goHTTPClient("trusting the lab root", nil)},
			how: "A Go net/http client against the expired certificate over TLS 1.2: crypto/tls sends bad_certificate for every verification failure, so only the chain says why " +
				"(read without --cacert, the unknown root must not hide the expiry).",
			checks: []check{
				exactly("ClientHello", 1, hs(hsClientHello)), exactly("Certificate", 1, fromServer(hs(hsCertificate))),
				exactly("alert bad_certificate (42) from client", 1, fromClient(alert(42))),
			},
		},
		{
			file: "captures/cert_hostname_mismatch_go.pcap", category: "cert_hostname_mismatch",
			servers: []server{{tlslab.CertHostnameMismatch, 4464}},
			clients: []client{goHTTPClient("asking for good.test", nil)},
			how:     "A Go net/http client asks for good.test; the TLS 1.2 server's certificate is for other.test. Go checks the name during the handshake and sends bad_certificate.",
			checks: []check{
				exactly("ClientHello", 1, hs(hsClientHello)), exactly("Certificate (other.test)", 1, fromServer(hs(hsCertificate))),
				exactly("alert bad_certificate (42) from client", 1, fromClient(alert(42))),
			},
		},
		{
			file: "captures/no_shared_cipher_go_rsa.pcap", category: "no_shared_cipher",
			servers: []server{{tlslab.RSAKeyExchangeOnly, 4465}},
			clients: []client{goHTTPClient("with Go's default cipher suites", nil)},
			how: "A Go net/http client with its defaults (no RSA key exchange since Go 1.22) against `openssl s_server -no_tls1_3 -cipher AES256-GCM-SHA384:AES128-GCM-SHA256:AES128-SHA`, " +
				"as old appliances and Java stacks are configured: no shared suite, handshake_failure.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("alert handshake_failure (40) from server", 1, fromServer(alert(40))),
			},
		},
		{
			file: "captures/no_shared_cipher_go_dhe.pcap", category: "no_shared_cipher",
			servers: []server{{tlslab.DHEOnly, 4527}},
			clients: []client{goHTTPClient("with Go's default cipher suites", nil)},
			how: "A Go net/http client with its defaults against `openssl s_server -no_tls1_3 -cipher DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305`: " +
				"crypto/tls has no DHE, so no shared suite; on the wire the same handshake_failure as against a server of RSA key exchange alone.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("alert handshake_failure (40) from server", 1, fromServer(alert(40))),
			},
		},
		{
			file: "captures/no_shared_cipher_go_sha1.pcap", category: "no_shared_cipher",
			servers: []server{{tlslab.SHA1SignaturesOnly, 4528}},
			clients: []client{goHTTPClient("with Go's defaults", nil)},
			how: "A Go net/http client with its defaults (no SHA-1 signature algorithms since Go 1.25) against `openssl s_server -no_tls1_3 -sigalgs RSA+SHA1 -cipher ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0`, " +
				"a server that can sign only with SHA-1: handshake_failure, as against a server of RSA key exchange alone.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("alert handshake_failure (40) from server", 1, fromServer(alert(40))),
			},
		},
		{
			file: "captures/client_cert_required_go_chain.pcap", category: "client_cert_required",
			servers: []server{{tlslab.ClientCertRequired, 4466}},
			clients: []client{goHTTPClient("with a client certificate file holding the leaf alone (its issuer is an intermediate of the client CA)", func(l *tlslab.Lab, c *tls.Config) {
				leafOnly := tlslab.Cert{Cert: l.ClientChained.Cert, Key: l.ClientChained.Key}
				c.Certificates = []tls.Certificate{leafOnly.TLS()}
			})},
			how: "A Go net/http client configured with a client certificate whose file lacks the intermediate, against a TLS 1.2 server that requires one from \"tlsdiag Test Client CA\": " +
				"Go sends an empty Certificate because the leaf does not chain to a CA the CertificateRequest lists; the server sends handshake_failure.",
			checks: []check{
				exactly("CertificateRequest", 1, fromServer(hs(hsCertificateRequest))),
				exactly("client Certificate (empty)", 1, fromClient(hs(hsCertificate))),
				exactly("alert handshake_failure (40) from server", 1, fromServer(alert(40))),
			},
		},
		{
			file: "captures/cert_rejected.pcap", category: "cert_rejected",
			servers: []server{{tlslab.CertRejected, 4445}},
			clients: []client{gnutlsClient(4445)},
			keylog:  true,
			how: "gnutls-cli against the expired certificate over TLS 1.3: after the encrypted server flight the client sends " +
				"ChangeCipherSpec and one encrypted record (its alert) and closes. The cause is not on the wire (the .keylog file reveals it).",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))),
				exactly("ServerHello", 1, hs(hsServerHello)), exactly("plaintext Certificate", 0, hs(hsCertificate)),
				exactly("plaintext alert", 0, anyAlert),
				exactly("encrypted record from client (the alert)", 1, fromClient(record(recordApplicationData))),
			},
		},
		{
			file: "captures/cert_rejected_go.pcap", category: "cert_rejected",
			servers: []server{{tlslab.CertRejected, 4446}},
			clients: []client{goClient("tls.Dial, trusting the lab root, ServerName good.test", nil)},
			keylog:  true,
			how:     "The same with a crypto/tls client, which encrypts its bad_certificate alert under the handshake keys.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))),
				exactly("ServerHello", 1, hs(hsServerHello)), exactly("plaintext Certificate", 0, hs(hsCertificate)),
				exactly("plaintext alert", 0, anyAlert),
				exactly("encrypted record from client (the alert)", 1, fromClient(record(recordApplicationData))),
			},
		},
		{
			file: "captures/client_cert_required.pcap", category: "client_cert_required",
			servers: []server{{tlslab.ClientCertRequired, 4447}},
			clients: []client{curl(4447, "127.0.0.1", tlslab.GoodName)},
			how: "curl without a client certificate against a TLS 1.2 server that requires one: CertificateRequest, an empty client " +
				"Certificate, then crypto/tls's handshake_failure (it would say certificate_required in TLS 1.3, encrypted).",
			checks: []check{
				exactly("CertificateRequest", 1, fromServer(hs(hsCertificateRequest))),
				exactly("client Certificate (empty)", 1, fromClient(hs(hsCertificate))),
				exactly("alert handshake_failure (40) from server", 1, fromServer(alert(40))),
			},
		},
		{
			file: "captures/alpn_mismatch.pcap", category: "alpn_mismatch",
			servers: []server{{tlslab.ALPNMismatch, 4448}},
			clients: []client{gnutlsClient(4448, "--alpn=h2")},
			how:     "gnutls-cli offering only ALPN h2 (as a gRPC client would) against a crypto/tls server speaking only http/1.1: no_application_protocol.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("alert no_application_protocol (120) from server", 1, fromServer(alert(120))),
			},
		},
		{
			file: "captures/sni_unrecognized.pcap", category: "sni_unrecognized",
			servers: []server{{tlslab.SNIUnrecognizedOpenSSL, 4449}},
			clients: []client{curl(4449, "127.0.0.1", tlslab.UnknownName)},
			how:     "curl asks for unknown.test; `openssl s_server -servername good.test -servername_fatal` answers with a fatal unrecognized_name alert.",
			checks: []check{
				exactly("ClientHello (SNI unknown.test)", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("alert unrecognized_name (112) from server", 1, fromServer(alert(112))),
			},
		},
		{
			file: "captures/sni_unrecognized_go.pcap", category: "sni_unrecognized",
			servers: []server{{tlslab.SNIUnrecognized, 4450}},
			clients: []client{goClient("tls.Dial, ServerName unknown.test", func(c *tls.Config) { c.ServerName = tlslab.UnknownName })},
			how:     "A crypto/tls client asks for unknown.test; a crypto/tls server with a certificate for good.test only sends unrecognized_name.",
			checks: []check{
				exactly("ClientHello (SNI unknown.test)", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 0, hs(hsServerHello)),
				exactly("alert unrecognized_name (112) from server", 1, fromServer(alert(112))),
			},
		},
		{
			file: "captures/not_tls_server.pcap", category: "not_tls_server",
			servers: []server{{tlslab.NotTLSServer, 4451}},
			clients: []client{curl(4451, "127.0.0.1", tlslab.GoodName)},
			how:     "curl https:// to a plain net/http server, which reads the ClientHello as a malformed request line and answers \"HTTP/1.1 400 Bad Request\".",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))),
				exactly("server's \"HTTP/1.1 400 Bad Request\"", 1, fromServer(contains("HTTP/1.1 400 Bad Request"))),
			},
		},
		{
			file: "captures/not_tls_client.pcap", category: "not_tls_client",
			servers: []server{{tlslab.NotTLSClient, 4452}},
			clients: []client{{argv: []string{"curl", "-sS", "--max-time", "10", "http://127.0.0.1:4452/"}}},
			how:     "curl http:// (plaintext) to a crypto/tls HTTPS server; net/http recognises the request and answers \"HTTP/1.0 400 Bad Request … Client sent an HTTP request to an HTTPS server.\"",
			checks: []check{
				exactly("ClientHello", 0, hs(hsClientHello)),
				exactly("client's \"GET / HTTP/1.1\"", 1, fromClient(contains("GET / HTTP/1.1"))),
				exactly("server's \"HTTP/1.0 400 Bad Request\"", 1, fromServer(contains("HTTP/1.0 400 Bad Request"))),
			},
		},
		{
			file: "captures/server_no_response.pcap", category: "server_no_response",
			servers: []server{{tlslab.ServerNoResponse, 4453}},
			clients: []client{curl(4453, "127.0.0.1", tlslab.GoodName, "--max-time", "2")},
			how:     "curl --max-time 2 against a server that accepts and reads but never writes: ClientHello, silence, and after 2 s the client's FIN (the server closes only then).",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))),
				exactly("server data", 0, fromServer(data)),
				exactly("FIN from client", 1, fromClient(fin)),
			},
		},
		{
			file: "captures/ok_no_http_answer.pcap", category: "ok",
			servers: []server{{tlslab.AppNoAnswer, 4467}},
			clients: []client{httpGet("net/http GET, TLS 1.3, Client.Timeout 3 s, session cache", 3*time.Second, false, func(c *tls.Config) {
				// With a session cache the client offers resumption, so
				// the server sends a NewSessionTicket.
				c.ClientSessionCache = tls.NewLRUClientSessionCache(1)
			})},
			keylog: true,
			how: "A Go net/http client (Client.Timeout 3 s, with a session cache) against a server that completes the TLS 1.3 handshake, sends a session ticket (crypto/tls puts it in its first flight), " +
				"reads the request and never answers: the client gives up with \"Client.Timeout exceeded while awaiting headers\" and closes (FIN) 3 s after its request. TLS is fine; the application is not.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 1, fromServer(hs(hsServerHello))),
				atLeast("client application data (Finished, request)", 2, fromClient(record(recordApplicationData))),
				exactly("plaintext alert", 0, anyAlert), exactly("RST", 0, rst),
				exactly("FIN from client", 1, fromClient(fin)),
			},
		},
		{
			file: "captures/ok_no_http_answer_tls12.pcap", category: "ok",
			servers: []server{{tlslab.AppNoAnswer, 4468}},
			clients: []client{httpGet("net/http GET, TLS 1.2, Client.Timeout 3 s", 3*time.Second, false, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 })},
			how: "ok_no_http_answer over TLS 1.2: the handshake completes, the client's request (one application data record) gets nothing back, " +
				"and the client closes (FIN) 3 s later.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 1, fromServer(hs(hsServerHello))),
				exactly("client application data (the request)", 1, fromClient(record(recordApplicationData))),
				exactly("server application data", 0, fromServer(record(recordApplicationData))),
				exactly("plaintext alert", 0, anyAlert), exactly("RST", 0, rst),
				exactly("FIN from client", 1, fromClient(fin)),
			},
		},
		{
			file: "captures/cert_hostname_mismatch_ip.pcap", category: "cert_hostname_mismatch",
			servers: []server{{tlslab.OKTLS12, 4469}},
			clients: []client{httpGet("net/http GET https://127.0.0.1:4469/ (by address), TLS 1.2", 5*time.Second, true, nil)},
			how: "A Go net/http client fetching https://127.0.0.1:4469/ by address (so no SNI) from a TLS 1.2 server whose certificate names good.test only: " +
				"\"x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs\", alert bad_certificate (42). " +
				"The chain itself verifies against certs/ca.pem.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))),
				exactly("plaintext Certificate", 1, fromServer(hs(hsCertificate))),
				exactly("alert bad_certificate (42) from client", 1, fromClient(alert(42))),
				exactly("client application data", 0, fromClient(record(recordApplicationData))),
			},
		},
		{
			file: "captures/cert_rejected_ip_tls13.pcap", category: "cert_rejected",
			servers: []server{{tlslab.OKTLS13, 4470}},
			clients: []client{httpGet("net/http GET https://127.0.0.1:4470/ (by address), TLS 1.3", 5*time.Second, true, nil)},
			keylog:  true,
			how: "cert_hostname_mismatch_ip over TLS 1.3: the certificate and the client's bad_certificate alert are encrypted, so without the key log " +
				"the wire shows only a rejection (cert_rejected, with the address as the likely cause); with it (cert_rejected_ip_tls13.keylog) the missing IP SAN is certain.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))), exactly("ServerHello", 1, fromServer(hs(hsServerHello))),
				exactly("plaintext Certificate", 0, hs(hsCertificate)), exactly("plaintext alert", 0, anyAlert),
			},
		},
		{
			file: "captures/connection_refused.pcap", category: "connection_refused",
			servers: []server{{tlslab.ConnectionRefused, 4454}},
			clients: []client{curl(4454, "127.0.0.1", tlslab.GoodName)},
			how:     "curl to a port nothing listens on: SYN answered by RST/ACK.",
			checks: []check{
				exactly("SYN", 1, syn), exactly("SYN/ACK", 0, synAck), exactly("RST from server", 1, fromServer(rst)),
			},
		},
		{
			file: "captures/connection_reset.pcap", category: "connection_reset",
			servers: []server{{tlslab.ConnectionReset, 4455}},
			clients: []client{gnutlsClient(4455)},
			how:     "gnutls-cli against a server that reads the ClientHello record and closes with SO_LINGER 0: RST instead of an answer.",
			checks: []check{
				exactly("ClientHello", 1, fromClient(hs(hsClientHello))),
				exactly("server data", 0, fromServer(data)),
				exactly("RST from server", 1, fromServer(rst)),
			},
		},
		{
			file: "captures/no_tcp_answer.pcap", category: "no_tcp_answer",
			servers: []server{{tlslab.NoTCPAnswer, 4456}},
			clients: []client{curl(4456, "127.0.0.1", tlslab.GoodName, "--connect-timeout", "3.5")},
			how: "curl --connect-timeout 3.5 to a listener (backlog 0) whose accept queue is already full with a connection it never accepts " +
				"(made before the capture started): Linux drops the SYNs silently, so the capture holds the SYN and its retransmissions only.",
			checks: []check{
				atLeast("SYN (first and retransmissions)", 2, syn), exactly("any frame from server", 0, func(f frame) bool { return f.FromServer }),
			},
		},
		{
			file: "captures/incomplete_capture.pcap", category: "incomplete_capture",
			servers: []server{{tlslab.OKTLS13, 4457}},
			clients: []client{{
				desc: "crypto/tls + net/http: TLS 1.3 handshake, 300 ms pause, two GETs on the connection",
				goRun: func(ctx context.Context, e *env, addr string) error {
					var err error
					handshakeDone, err = twoRequests(ctx, e, addr)
					return err
				},
			}},
			how: "A TLS 1.3 connection whose client pauses 300 ms after the handshake before two HTTP requests; the generator then " +
				"dropped every frame up to 150 ms after the handshake, so the file starts mid-connection: no SYN, no hellos, only application data and the close.",
			checks: []check{
				exactly("SYN", 0, syn), exactly("ClientHello", 0, hs(hsClientHello)), exactly("ServerHello", 0, hs(hsServerHello)),
				atLeast("client application data", 2, fromClient(record(recordApplicationData))),
				atLeast("server application data", 2, fromServer(record(recordApplicationData))),
			},
			post: func(e *env, path string) (string, error) {
				n, err := cutBefore(path, handshakeDone.Add(150*time.Millisecond))
				return fmt.Sprintf("dropped the first %d frames (through 150 ms after the handshake)", n), err
			},
		},
		demo(),
		{
			file: "captures/proxy_refused.pcap", category: "proxy_refused",
			servers: []server{{tlslab.ProxyRefused, 4458}},
			clients: []client{goProxyClient(4431, nil)},
			how: "A Go net/http client asks for https://good.test:4431/ through an HTTP proxy (HTTPS_PROXY) that answers every CONNECT with \"403 Forbidden\"; " +
				"Go fails with the reason phrase (\"Forbidden\") and no TLS is sent.",
			checks: []check{
				exactly("client's CONNECT good.test:4431", 1, fromClient(contains("CONNECT good.test:4431 HTTP/1.1"))),
				exactly("proxy's \"HTTP/1.1 403 Forbidden\"", 1, fromServer(contains("HTTP/1.1 403 Forbidden"))),
				exactly("ClientHello", 0, hs(hsClientHello)),
			},
		},
		{
			file: "captures/proxy_refused_block_page.pcap", category: "proxy_refused",
			servers: []server{{tlslab.ProxyBlockPage, 4517}},
			clients: []client{goProxyClient(4431, nil)},
			how: "A Go net/http client asks for https://good.test:4431/ through an HTTP proxy that grants every CONNECT (\"200 Connection established\") and then writes " +
				"its own \"403 Forbidden\" block page into the tunnel, before the client's ClientHello, as filtering proxies do. Go reads the 200 and sends its hello; " +
				"it fails reading the page as TLS, or, when the page came in the same read as the 200 (Go drops what follows it), times out. tshark, which takes the tunnel for HTTP, does not dissect the hello.",
			checks: []check{
				exactly("client's CONNECT good.test:4431", 1, fromClient(contains("CONNECT good.test:4431 HTTP/1.1"))),
				exactly("proxy's \"HTTP/1.1 200 Connection established\"", 1, fromServer(contains("HTTP/1.1 200 Connection established"))),
				exactly("proxy's \"HTTP/1.1 403 Forbidden\" in the tunnel", 1, fromServer(contains("HTTP/1.1 403 Forbidden"))),
				exactly("client's ClientHello naming good.test (undissected)", 1, fromClient(and(contains("\x16\x03\x01"), contains("\x00\x00\x09"+tlslab.GoodName)))),
			},
		},
		{
			file: "captures/proxy_auth_required.pcap", category: "proxy_auth_required",
			servers: []server{{tlslab.ProxyAuthRequired, 4459}},
			clients: []client{goProxyClient(4431, nil)},
			how: "A Go net/http client without proxy credentials asks for https://good.test:4431/ through an HTTP proxy that wants them: " +
				"\"407 Proxy Authentication Required\" with Proxy-Authenticate: Basic; Go fails with \"Proxy Authentication Required\".",
			checks: []check{
				exactly("client's CONNECT good.test:4431", 1, fromClient(contains("CONNECT good.test:4431 HTTP/1.1"))),
				exactly("proxy's \"HTTP/1.1 407 Proxy Authentication Required\"", 1, fromServer(contains("HTTP/1.1 407 Proxy Authentication Required"))),
				exactly("ClientHello", 0, hs(hsClientHello)),
			},
		},
		{
			file: "captures/proxy_auth_required_retry.pcap", category: "proxy_auth_required",
			servers: []server{{tlslab.ProxyAuthRequired, 4518}},
			clients: []client{{argv: []string{"curl", "-sS", "--max-time", "10", "--cacert", "{ca}", "--proxy-anyauth", "-U", tlslab.ProxyUser + ":wrong",
				"-x", "http://{server}:4518", fmt.Sprintf("https://%s:4431/", tlslab.GoodName)}}},
			how: "curl asks for https://good.test:4431/ through an HTTP proxy that wants Basic credentials, with --proxy-anyauth and a wrong password: " +
				"its first CONNECT carries no credentials and gets \"407 Proxy Authentication Required\" (Proxy-Authenticate: Basic), which keeps the connection; " +
				"curl sends a second CONNECT with the wrong Basic credentials on the same connection and gets 407 again; curl fails with \"CONNECT tunnel failed, response 407\".",
			checks: []check{
				exactly("SYN", 1, syn),
				exactly("client's CONNECT good.test:4431", 2, fromClient(contains("CONNECT good.test:4431 HTTP/1.1"))),
				exactly("client's Proxy-Authorization: Basic", 1, fromClient(contains("Proxy-Authorization: Basic"))),
				exactly("proxy's \"HTTP/1.1 407 Proxy Authentication Required\"", 2, fromServer(contains("HTTP/1.1 407 Proxy Authentication Required"))),
				exactly("ClientHello", 0, hs(hsClientHello)),
			},
		},
		{
			file: "captures/proxy_upstream_failed.pcap", category: "proxy_upstream_failed",
			servers: []server{{tlslab.ProxyUpstreamFailed, 4460}},
			clients: []client{goProxyClient(4461, nil)},
			how: "A Go net/http client asks for https://good.test:4461/ through an HTTP proxy; nothing listens on 4461, so the proxy's own connection is refused " +
				"(not in this capture, whose filter is the proxy's port) and it answers \"502 Bad Gateway\"; Go fails with \"Bad Gateway\".",
			checks: []check{
				exactly("client's CONNECT good.test:4461", 1, fromClient(contains("CONNECT good.test:4461 HTTP/1.1"))),
				exactly("proxy's \"HTTP/1.1 502 Bad Gateway\"", 1, fromServer(contains("HTTP/1.1 502 Bad Gateway"))),
				exactly("ClientHello", 0, hs(hsClientHello)),
			},
		},
	}, append(pathCaptures(), dnsCaptures()...)...)
}

// demo is the README's example: six connections with different verdicts,
// one after the other, in one file.
func demo() capture {
	return capture{
		file: "demo.pcap",
		conns: []conn{
			{4471, "ok"}, {4472, "cert_expired"}, {4473, "version_mismatch"},
			{4474, "no_shared_cipher"}, {4475, "not_tls_server"}, {4476, "connection_refused"},
		},
		servers: []server{
			{tlslab.OK, 4471}, {tlslab.CertExpired, 4472}, {tlslab.VersionMismatch, 4473},
			{tlslab.NoSharedCipher, 4474}, {tlslab.NotTLSServer, 4475}, {tlslab.ConnectionRefused, 4476},
		},
		clients: []client{
			withServer(0, curl(4471, "127.0.0.1", tlslab.GoodName)),
			withServer(1, curl(4472, "127.0.0.1", tlslab.GoodName)),
			withServer(2, curl(4473, "127.0.0.1", tlslab.GoodName, "--tls-max", "1.2")),
			withServer(3, opensslClient(4474, "-tls1_2", "-cipher", "AES128-SHA")),
			withServer(4, curl(4475, "127.0.0.1", tlslab.GoodName)),
			withServer(5, curl(4476, "127.0.0.1", tlslab.GoodName)),
		},
		how: "Six connections one after the other, one tcpdump on `tcp portrange 4430-4499`: the captures ok, cert_expired, " +
			"version_mismatch, no_shared_cipher, not_tls_server and connection_refused made again, on ports 4471-4476.",
		checks: []check{
			exactly("SYN", 6, syn), exactly("SYN/ACK", 5, synAck),
			exactly("ClientHello", 5, hs(hsClientHello)),
			exactly("alert certificate_expired (45) from client", 1, fromClient(alert(45))),
			exactly("alert protocol_version (70) from server", 1, fromServer(alert(70))),
			exactly("alert handshake_failure (40) from server", 1, fromServer(alert(40))),
			exactly("server's \"HTTP/1.1 400 Bad Request\"", 1, fromServer(contains("HTTP/1.1 400 Bad Request"))),
			exactly("RST from port 4476 (refused)", 1, and(fromServer(rst), func(f frame) bool { return f.SrcPort == 4476 })),
			exactly("SYN to port 4476", 1, and(syn, func(f frame) bool { return f.DstPort == 4476 })),
		},
	}
}

// goProxyClient is Go's net/http asking for https://good.test:port/
// through the HTTP proxy at the capture's server address, as HTTPS_PROXY
// would make it, with credentials user when not nil.
func goProxyClient(port uint16, user *url.Userinfo) client {
	return client{desc: fmt.Sprintf("net/http GET https://%s:%d/ through the proxy", tlslab.GoodName, port),
		goRun: func(ctx context.Context, e *env, addr string) error {
			proxy := &url.URL{Scheme: "http", Host: addr, User: user}
			tr := &http.Transport{Proxy: http.ProxyURL(proxy), TLSClientConfig: e.lab.ClientConfig(), DisableKeepAlives: true}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("https://%s:%d/", tlslab.GoodName, port), nil)
			if err != nil {
				return err
			}
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			return resp.Body.Close()
		}}
}

func withServer(i int, c client) client { c.server = i; return c }

func exactly(label string, n int, p pred) check { return check{label: label, match: p, min: n, max: n} }
func atLeast(label string, n int, p pred) check {
	return check{label: label, match: p, min: n, max: -1}
}

// twoRequests makes a TLS 1.3 connection, waits 300 ms, sends two GETs on
// it and returns when the handshake had completed.
func twoRequests(ctx context.Context, e *env, addr string) (time.Time, error) {
	cfg := e.lab.ClientConfig()
	cfg.KeyLogWriter = e.keylog
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return time.Time{}, err
	}
	done := time.Now()
	time.Sleep(300 * time.Millisecond)
	client := &http.Client{Transport: &http.Transport{
		DialTLSContext: func(context.Context, string, string) (net.Conn, error) { return c, nil },
	}}
	defer client.CloseIdleConnections()
	for range 2 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+tlslab.GoodName+"/", nil)
		if err != nil {
			return done, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return done, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return done, nil
}
