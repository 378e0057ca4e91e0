package tlslab

import (
	"crypto/tls"
	"crypto/x509"
)

// Scenario names a server with one known misconfiguration (or none).
// Most are named after the verdict category a capture of them gets when the
// intended client (see Category) connects.
type Scenario string

const (
	// OK is a correct HTTPS server (TLS 1.2 and 1.3, ECDSA leaf for GoodName
	// sent with Intermediate, ALPN http/1.1). All Go scenarios below are this
	// server with one thing changed.
	OK Scenario = "ok"
	// OKTLS12 and OKTLS13 are OK limited to one version.
	OKTLS12 Scenario = "ok_tls12"
	OKTLS13 Scenario = "ok_tls13"
	// OKRSA is OKTLS12 with an RSA 2048 leaf (ECDHE-RSA) sent with the
	// intermediate and the root: its server flight is the largest of the
	// lab, for segmentation tests.
	OKRSA Scenario = "ok_rsa"
	// OKOther serves OtherName (and only it): a second site on the same
	// host as OK, for captures where the path treats names differently.
	OKOther Scenario = "ok_other"

	// VersionMismatch accepts TLS 1.3 only: a TLS 1.2 client gets a
	// protocol_version alert. A TLS 1.0/1.1 client gets the same alert from OK.
	VersionMismatch Scenario = "version_mismatch"
	// NoSharedCipher is TLS 1.2 only with ECDHE-ECDSA-AES-GCM suites only:
	// a client offering e.g. AES128-SHA gets handshake_failure.
	NoSharedCipher Scenario = "no_shared_cipher"
	// HandshakeFailure supports the X25519 group only: a client whose only
	// group is P-384 gets handshake_failure. TLS 1.3 is the interesting case:
	// cipher suites and versions overlap, only the key exchange cannot happen.
	// (In TLS 1.2 crypto/tls drops its ECDHE suites instead, which reads on
	// the wire like no shared cipher.)
	HandshakeFailure Scenario = "handshake_failure"
	// LegacyTLS11 is a server that speaks TLS 1.0 and 1.1 only, as old
	// appliances do: OpenSSL 3 clients at their default security level
	// offer TLS 1.1, read the server's flight and refuse its MD5+SHA-1
	// signature with internal_error; Go clients (TLS 1.2 minimum) get
	// protocol_version.
	LegacyTLS11 Scenario = "legacy_tls11"

	// The certificate scenarios are TLS 1.2 only, so the Certificate message
	// is in plaintext on the wire.

	// CertExpired sends Expired (RSA 2048, notAfter = Now-24h).
	CertExpired Scenario = "cert_expired"
	// CertNotYetValid sends NotYetValid (notBefore = Now+24h).
	CertNotYetValid Scenario = "cert_not_yet_valid"
	// CertSelfSigned sends SelfSigned alone.
	CertSelfSigned Scenario = "cert_self_signed"
	// CertUntrustedCA sends Untrusted followed by UntrustedRoot.
	CertUntrustedCA Scenario = "cert_untrusted_ca"
	// CertHostnameMismatch sends WrongName (valid for OtherName only).
	CertHostnameMismatch Scenario = "cert_hostname_mismatch"
	// CertIncompleteChain sends LeafOnly without its issuer Intermediate.
	CertIncompleteChain Scenario = "cert_incomplete_chain"
	// CertDirectRoot is `openssl s_server` (TLS 1.2) sending DirectRoot
	// alone: a leaf signed directly by PrivateRoot, which the client does
	// not trust. There is no intermediate to send: the fix is the client's.
	CertDirectRoot Scenario = "cert_untrusted_ca_direct"
	// CertRejected is CertExpired with TLS 1.3 only: the certificate travels
	// encrypted, so the client's rejection is all the wire shows.
	CertRejected Scenario = "cert_rejected"
	// ClientCertRequired requires a client certificate issued by ClientCA
	// (TLS 1.2 only, so CertificateRequest is visible). crypto/tls answers a
	// client without one with handshake_failure (certificate_required in
	// TLS 1.3).
	ClientCertRequired Scenario = "client_cert_required"
	// ClientCertRequiredTLS13 is ClientCertRequired over TLS 1.3, where the
	// CertificateRequest, the client's certificate and the server's alert
	// are encrypted.
	ClientCertRequiredTLS13 Scenario = "client_cert_required_tls13"
	// ALPNMismatch speaks http/1.1 only: a client offering only h2 (as gRPC
	// clients do) gets no_application_protocol. It is configured exactly like
	// OK; the mismatch is the client's.
	ALPNMismatch Scenario = "alpn_mismatch"
	// SNIUnrecognized has a certificate for GoodName only and answers any
	// other server name (e.g. UnknownName) with unrecognized_name (crypto/tls
	// does so when no certificate is configured for the name).
	SNIUnrecognized Scenario = "sni_unrecognized"
	// SNIUnrecognizedOpenSSL is SNIUnrecognized served by an external
	// `openssl s_server -servername good.test -servername_fatal -www`.
	SNIUnrecognizedOpenSSL Scenario = "sni_unrecognized_openssl"

	// RSAKeyExchangeOnly is `openssl s_server` limited to TLS 1.2 and RSA
	// key exchange suites (TLS_RSA_WITH_*), as old appliances and Java
	// stacks are, with GoodRSA: Go ≥ 1.22 clients, which no longer offer
	// those suites, get handshake_failure.
	RSAKeyExchangeOnly Scenario = "no_shared_cipher_rsa_kex"
	// NoSharedGroupTLS13 is `openssl s_server` limited to TLS 1.3 and the
	// group X448, which crypto/tls does not implement: a Go client gets
	// the same handshake_failure as from RSAKeyExchangeOnly, for another
	// reason.
	NoSharedGroupTLS13 Scenario = "no_shared_group_tls13"
	// DHEOnly is `openssl s_server` limited to TLS 1.2 and DHE suites
	// (TLS_DHE_RSA_*), with GoodRSA: crypto/tls never implemented DHE, and
	// a Go client gets the same handshake_failure as from
	// RSAKeyExchangeOnly.
	DHEOnly Scenario = "no_shared_cipher_dhe"
	// SHA1SignaturesOnly is `openssl s_server` limited to TLS 1.2 and
	// SHA-1 signatures (-sigalgs RSA+SHA1, at security level 0), with
	// GoodRSA, as old TLS stacks and HSMs are: Go ≥ 1.25 clients, which no
	// longer offer SHA-1 signatures, get handshake_failure.
	SHA1SignaturesOnly Scenario = "no_shared_sigalg_sha1"
	// CBCSHA384Only is `openssl s_server` limited to TLS 1.2 and the
	// AES-256-CBC suites with SHA-384 and SHA-256 MACs
	// (ECDHE-RSA-AES256-SHA384, AES256-SHA256), with GoodRSA, as servers
	// configured for a strict CBC list are: crypto/tls implements neither,
	// and a Go client gets the same handshake_failure as from
	// RSAKeyExchangeOnly.
	CBCSHA384Only Scenario = "no_shared_cipher_cbc_sha384"

	// NotTLSServer is a plain net/http server: it answers a ClientHello with
	// "HTTP/1.1 400 Bad Request".
	NotTLSServer Scenario = "not_tls_server"
	// NotTLSClient is OK; the category is for a client that sends plaintext
	// HTTP, which net/http answers with "HTTP/1.0 400 Bad Request".
	NotTLSClient Scenario = "not_tls_client"
	// ServerNoResponse accepts and reads, but never writes; it closes only
	// after the client does.
	ServerNoResponse Scenario = "server_no_response"
	// ServerClosesAtAccept closes each connection as soon as it accepts
	// it (FIN), before any TLS: a server at its connection limit, an
	// access rule, a load balancer without a backend.
	ServerClosesAtAccept Scenario = "server_closes_at_accept"
	// AppNoAnswer completes the TLS handshake (TLS 1.2 or 1.3, like OK),
	// then reads the client's request and never answers it; it closes only
	// after the client does. The TLS layer is healthy, the application
	// behind it is not: a Go client reports "Client.Timeout exceeded while
	// awaiting headers". crypto/tls still sends its TLS 1.3 session tickets
	// right after the handshake, before any request.
	AppNoAnswer Scenario = "app_no_answer"
	// AppClosesAtOnce completes the TLS handshake (TLS 1.2 or 1.3, like
	// OK) and closes at once, close_notify then FIN, without reading: a
	// server application that accepts and closes (a connection limit, a
	// crash). TLS worked; the client's read ends in EOF.
	AppClosesAtOnce Scenario = "app_closes_at_once"
	// ConnectionRefused has no listener: the address was bound once to find
	// a free port (unless one was given) and released, so a SYN gets a RST.
	ConnectionRefused Scenario = "connection_refused"
	// ConnectionReset reads the first TLS record (the ClientHello), then
	// closes with SO_LINGER 0: the client gets a RST.
	ConnectionReset Scenario = "connection_reset"
	// NoTCPAnswer listens with backlog 0 and fills its accept queue with one
	// connection it never accepts; Linux then drops further SYNs silently.
	// Linux only.
	NoTCPAnswer Scenario = "no_tcp_answer"

	// The proxy scenarios are plaintext HTTP CONNECT (or SOCKS5) proxies
	// that tunnel only to loopback; the intended client asks for a tunnel
	// to an OK server. Names like GoodName are loopback to them.

	// ProxyRefused answers every CONNECT "403 Forbidden".
	ProxyRefused Scenario = "proxy_refused"
	// ProxyAuthRequired answers "407 Proxy Authentication Required" unless
	// the request carries ProxyUser and ProxyPassword (Basic); then it
	// tunnels. A 407 keeps the connection for the client's next CONNECT.
	ProxyAuthRequired Scenario = "proxy_auth_required"
	// ProxyAuthNegotiate answers every CONNECT "407 Proxy Authentication
	// Required" offering only the Negotiate and NTLM schemes (two
	// Proxy-Authenticate fields), as a proxy joined to a Windows domain
	// does: Basic credentials never satisfy it.
	ProxyAuthNegotiate Scenario = "proxy_auth_negotiate"
	// ProxyUpstreamFailed tunnels, and answers "502 Bad Gateway" when it
	// cannot connect to the target: the intended client asks for a port
	// nothing listens on.
	ProxyUpstreamFailed Scenario = "proxy_upstream_failed"
	// ProxyTunnel tunnels (502 when it cannot reach the target).
	ProxyTunnel Scenario = "proxy_tunnel"
	// ProxyTunnelChunked is ProxyTunnel whose 200 reply carries
	// "Transfer-Encoding: chunked": a 2xx answer to CONNECT has no body
	// (RFC 9110, Section 9.3.6), so a client must go on into the tunnel.
	ProxyTunnelChunked Scenario = "proxy_tunnel_chunked"
	// ProxyBlockPage grants every CONNECT ("200 Connection established")
	// and then writes its own "403 Forbidden" block page into the tunnel,
	// as filtering proxies do, without connecting to the target.
	ProxyBlockPage Scenario = "proxy_block_page"
	// ProxyIntercepting grants every CONNECT and answers the client's
	// handshake itself with Intercepted, a leaf for GoodName from its own
	// CA (WebProxyCA, a neutral name), while it opens its own TLS
	// connection to the target, verified against Root, and relays the
	// bytes between the two: a TLS-inspecting proxy. The intended client,
	// trusting Root only, refuses the leaf.
	ProxyIntercepting Scenario = "proxy_intercepting"
	// ProxyIdleCut tunnels, and cuts a tunnel that carried nothing either
	// way for a second with a bare close, as a proxy's idle or read
	// timeout does.
	ProxyIdleCut Scenario = "proxy_idle_cut"
	// ProxyTLS is an https:// proxy: a TLS server (1.2 and 1.3, ALPN
	// http/1.1) with Proxy, a leaf for ProxyName issued by Intermediate,
	// that then answers CONNECT inside that TLS as ProxyTunnel does. The
	// intended client trusts Root for the proxy too.
	ProxyTLS Scenario = "proxy_tls"
	// ProxySOCKS5 is a SOCKS5 proxy without authentication that tunnels;
	// it answers 0x05 (connection refused) when the target refuses, 0x02
	// (not allowed by ruleset) for a target that is not loopback to it.
	ProxySOCKS5 Scenario = "proxy_socks5"
	// ProxySOCKS5NoMethod is a SOCKS5 proxy that accepts none of the
	// authentication methods a client offers (0xFF).
	ProxySOCKS5NoMethod Scenario = "proxy_socks5_no_method"
	// ProxySOCKS5Password is ProxySOCKS5 that wants user name/password
	// authentication (RFC 1929) with ProxyUser and ProxyPassword: 0xFF to a
	// client that does not offer it, a failure status to other
	// credentials.
	ProxySOCKS5Password Scenario = "proxy_socks5_password"
)

// Scenarios lists every scenario, in the order of diagnose.Categories.
var Scenarios = []Scenario{
	OK, OKTLS12, OKTLS13, OKRSA, OKOther,
	VersionMismatch, NoSharedCipher, HandshakeFailure, LegacyTLS11,
	CertExpired, CertNotYetValid, CertSelfSigned, CertUntrustedCA,
	CertHostnameMismatch, CertIncompleteChain, CertDirectRoot, CertRejected,
	ClientCertRequired, ClientCertRequiredTLS13, ALPNMismatch, SNIUnrecognized, SNIUnrecognizedOpenSSL, RSAKeyExchangeOnly, NoSharedGroupTLS13,
	DHEOnly, SHA1SignaturesOnly, CBCSHA384Only,
	NotTLSServer, NotTLSClient, ServerNoResponse, ServerClosesAtAccept, AppNoAnswer, AppClosesAtOnce,
	ConnectionRefused, ConnectionReset, NoTCPAnswer,
	ProxyRefused, ProxyAuthRequired, ProxyAuthNegotiate, ProxyUpstreamFailed,
	ProxyTunnel, ProxyTunnelChunked, ProxyBlockPage, ProxyIntercepting, ProxyIdleCut, ProxyTLS, ProxySOCKS5, ProxySOCKS5NoMethod, ProxySOCKS5Password,
}

// Category returns the verdict category (a diagnose.Category value; tlslab
// does not import diagnose, so that diagnose's own tests can use the lab)
// a connection to the scenario gets when its
// client is the intended one: a client that trusts only the lab's Root and
// asks for GoodName, offering what the scenario's comment says (TLS 1.2 for
// VersionMismatch, AES128-SHA only for NoSharedCipher, P-384 only for
// HandshakeFailure, no client certificate, h2 only for ALPNMismatch,
// UnknownName for the SNI scenarios, plaintext HTTP for NotTLSClient).
// incomplete_capture has no scenario: it is made by cutting a
// capture of OK. It returns "" for an unknown scenario.
func (s Scenario) Category() string {
	if sp, ok := specs[s]; ok {
		return sp.category
	}
	return ""
}

// External reports whether the scenario runs an external program rather
// than a server in this process, and which.
func (s Scenario) External() (program string, ok bool) {
	switch s {
	case SNIUnrecognizedOpenSSL, CertDirectRoot, RSAKeyExchangeOnly, NoSharedGroupTLS13, DHEOnly, SHA1SignaturesOnly, CBCSHA384Only:
		return "openssl", true
	}
	return "", false
}

// spec says how to run a scenario.
type spec struct {
	category string
	// config builds the crypto/tls configuration of an HTTPS scenario.
	config func(*Lab) *tls.Config
	// start runs any other kind of scenario, on addr.
	start func(srv *Server, addr string) error
}

var specs = map[Scenario]spec{
	OK:      {category: "ok", config: func(l *Lab) *tls.Config { return serverConfig(l.Good) }},
	OKTLS12: {category: "ok", config: func(l *Lab) *tls.Config { return maxTLS12(serverConfig(l.Good)) }},
	OKTLS13: {category: "ok", config: func(l *Lab) *tls.Config { return minTLS13(serverConfig(l.Good)) }},
	OKRSA:   {category: "ok", config: func(l *Lab) *tls.Config { return maxTLS12(serverConfig(l.GoodRSA)) }},
	// The category of a client that asks for OtherName.
	OKOther: {category: "ok", config: func(l *Lab) *tls.Config { return serverConfig(l.WrongName) }},

	VersionMismatch: {category: "version_mismatch", config: func(l *Lab) *tls.Config { return minTLS13(serverConfig(l.Good)) }},
	NoSharedCipher: {category: "no_shared_cipher", config: func(l *Lab) *tls.Config {
		c := maxTLS12(serverConfig(l.Good))
		c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}
		return c
	}},
	HandshakeFailure: {category: "handshake_failure", config: func(l *Lab) *tls.Config {
		c := serverConfig(l.Good)
		c.CurvePreferences = []tls.CurveID{tls.X25519}
		return c
	}},
	LegacyTLS11: {category: "legacy_policy_refused", config: func(l *Lab) *tls.Config {
		c := serverConfig(l.Good)
		c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		return c
	}},

	CertExpired:             {category: "cert_expired", config: func(l *Lab) *tls.Config { return maxTLS12(serverConfig(l.Expired)) }},
	CertNotYetValid:         {category: "cert_not_yet_valid", config: func(l *Lab) *tls.Config { return maxTLS12(serverConfig(l.NotYetValid)) }},
	CertSelfSigned:          {category: "cert_self_signed", config: func(l *Lab) *tls.Config { return maxTLS12(serverConfig(l.SelfSigned)) }},
	CertUntrustedCA:         {category: "cert_untrusted_ca", config: func(l *Lab) *tls.Config { return maxTLS12(serverConfig(l.Untrusted)) }},
	CertHostnameMismatch:    {category: "cert_hostname_mismatch", config: func(l *Lab) *tls.Config { return maxTLS12(serverConfig(l.WrongName)) }},
	CertIncompleteChain:     {category: "cert_incomplete_chain", config: func(l *Lab) *tls.Config { return maxTLS12(serverConfig(l.LeafOnly)) }},
	CertDirectRoot:          {category: "cert_untrusted_ca", start: startOpenSSLDirectRoot},
	CertRejected:            {category: "cert_rejected", config: func(l *Lab) *tls.Config { return minTLS13(serverConfig(l.Expired)) }},
	ClientCertRequired:      {category: "client_cert_required", config: func(l *Lab) *tls.Config { return maxTLS12(requireClientCert(l)) }},
	ClientCertRequiredTLS13: {category: "client_cert_required", config: func(l *Lab) *tls.Config { return minTLS13(requireClientCert(l)) }},
	ALPNMismatch:            {category: "alpn_mismatch", config: func(l *Lab) *tls.Config { return serverConfig(l.Good) }},
	SNIUnrecognized: {category: "sni_unrecognized", config: func(l *Lab) *tls.Config {
		c := serverConfig(l.Good)
		good := l.Good.TLS()
		c.Certificates = nil
		c.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName == GoodName {
				return &good, nil
			}
			// Neither a certificate nor an error: crypto/tls then finds
			// no certificates configured and sends unrecognized_name.
			return nil, nil
		}
		return c
	}},
	SNIUnrecognizedOpenSSL: {category: "sni_unrecognized", start: startOpenSSLSNI},
	RSAKeyExchangeOnly:     {category: "no_shared_cipher", start: startOpenSSLRSAKex},
	// The wire shows what RSAKeyExchangeOnly's does: the verdict ranks
	// both causes; a probe's scan tells them apart.
	NoSharedGroupTLS13: {category: "no_shared_cipher", start: startOpenSSLX448},
	DHEOnly:            {category: "no_shared_cipher", start: startOpenSSLDHE},
	SHA1SignaturesOnly: {category: "no_shared_cipher", start: startOpenSSLSHA1},
	CBCSHA384Only:      {category: "no_shared_cipher", start: startOpenSSLCBCSHA384},

	NotTLSServer:     {category: "not_tls_server", start: startPlainHTTP},
	NotTLSClient:     {category: "not_tls_client", config: func(l *Lab) *tls.Config { return serverConfig(l.Good) }},
	ServerNoResponse: {category: "server_no_response", start: startSilent},
	// The category of a client whose ClientHello comes after the FIN.
	ServerClosesAtAccept: {category: "server_no_response", start: startAcceptClose},
	AppNoAnswer:          {category: "ok", start: startTLSSilent},
	AppClosesAtOnce:      {category: "ok", start: startTLSCloser},
	ConnectionRefused:    {category: "connection_refused", start: startRefused},
	ConnectionReset:      {category: "connection_reset", start: startReset},
	NoTCPAnswer:          {category: "no_tcp_answer", start: startFullBacklog},

	ProxyRefused:        {category: "proxy_refused", start: startProxy(proxyForbid)},
	ProxyAuthRequired:   {category: "proxy_auth_required", start: startProxy(proxyAuth)},
	ProxyAuthNegotiate:  {category: "proxy_auth_required", start: startProxy(proxyNegotiate)},
	ProxyUpstreamFailed: {category: "proxy_upstream_failed", start: startProxy(proxyTunnel)},
	ProxyTunnel:         {category: "ok", start: startProxy(proxyTunnel)},
	ProxyTunnelChunked:  {category: "ok", start: startProxy(proxyChunked)},
	ProxyBlockPage:      {category: "proxy_refused", start: startProxy(proxyBlockPage)},
	ProxyIntercepting:   {category: "cert_untrusted_ca", start: startProxy(proxyIntercept)},
	ProxyIdleCut:        {category: "ok", start: startProxy(proxyIdleCut)},
	ProxyTLS:            {category: "ok", start: startTLSProxy(proxyTunnel)},
	ProxySOCKS5:         {category: "ok", start: startSOCKS5(socksNoAuth)},
	// The categories of a client without credentials.
	ProxySOCKS5NoMethod: {category: "proxy_auth_required", start: startSOCKS5(socksNoAcceptable)},
	ProxySOCKS5Password: {category: "proxy_auth_required", start: startSOCKS5(socksPassword)},
}

func serverConfig(c *Cert) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.TLS()}, NextProtos: []string{"http/1.1"}}
}

func maxTLS12(c *tls.Config) *tls.Config { c.MaxVersion = tls.VersionTLS12; return c }

func minTLS13(c *tls.Config) *tls.Config { c.MinVersion = tls.VersionTLS13; return c }

// requireClientCert is Good's configuration requiring a client
// certificate issued by ClientCA.
func requireClientCert(l *Lab) *tls.Config {
	c := serverConfig(l.Good)
	c.ClientAuth = tls.RequireAndVerifyClientCert
	c.ClientCAs = x509.NewCertPool()
	c.ClientCAs.AddCert(l.ClientCA.Cert)
	return c
}
