package tlsgen

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// handshake is one real TLS conversation, recorded: the chunks each side
// wrote, in an order the wire could show, and what tlsdiag should make of
// it.
type handshake struct {
	name     string
	category string // expected verdict category
	version  string // negotiated version, as tlsdiag names it ("TLS 1.3"), or ""
	cipher   string // IANA name of the negotiated suite, or ""
	sni      string
	resumed  bool
	chunks   []chunk
	// bulkAt is the index in chunks before which bulk application data
	// goes (after the first request and response, before close_notify);
	// -1 when the connection carries none.
	bulkAt int
	// recLen is the length of a full application_data record (16 KiB of
	// plaintext and the cipher's overhead); 0 without bulk.
	recLen int
	// closer sends the first FIN.
	closer side
}

// tlsCase is a scenario run with crypto/tls on both sides.
type tlsCase struct {
	name     string
	category string
	sni      string
	// server picks the server's certificate; client and server adjust the
	// configurations.
	cert   func(*pki) *cert
	client func(*tls.Config)
	server func(*tls.Config)
	// resume runs the conversation twice with the same client session
	// cache and records the second, resumed one.
	resume bool
	// closer is who hangs up first when the handshake fails.
	closer side
}

func tls12(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }
func tls13(c *tls.Config) { c.MinVersion = tls.VersionTLS13 }

func suites(ids ...uint16) func(*tls.Config) {
	return func(c *tls.Config) { c.MaxVersion, c.CipherSuites = tls.VersionTLS12, ids }
}

func both(fs ...func(*tls.Config)) func(*tls.Config) {
	return func(c *tls.Config) {
		for _, f := range fs {
			f(c)
		}
	}
}

func useECDSA(p *pki) *cert { return p.ecdsa }
func useRSA(p *pki) *cert   { return p.rsa }

// tlsCases are the conversations of the pool. Expected categories follow
// tlsdiag's README: a TLS ≤ 1.2 client's alert about a visible chain is
// diagnosed from the chain, a TLS 1.3 client's (encrypted) one is not.
var tlsCases = []tlsCase{
	{name: "tls13_ecdsa", category: "ok", sni: "www." + domain, cert: useECDSA},
	{name: "tls13_rsa", category: "ok", sni: "api." + domain, cert: useRSA},
	{name: "tls13_alpn_h2", category: "ok", sni: "www." + domain, cert: useECDSA,
		client: func(c *tls.Config) { c.NextProtos = []string{"h2", "http/1.1"} },
		server: func(c *tls.Config) { c.NextProtos = []string{"h2"} }},
	{name: "tls13_hello_retry", category: "ok", sni: "cdn." + domain, cert: useECDSA,
		server: func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.CurveP256} }},
	{name: "tls13_resumed", category: "ok", sni: "www." + domain, cert: useECDSA, resume: true},
	{name: "tls12_ecdsa_aes128gcm", category: "ok", sni: "www." + domain, cert: useECDSA, client: tls12},
	{name: "tls12_rsa_aes256gcm", category: "ok", sni: "api." + domain, cert: useRSA,
		client: suites(tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)},
	{name: "tls12_rsa_chacha20", category: "ok", sni: "cdn." + domain, cert: useRSA,
		client: suites(tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256)},
	{name: "tls12_resumed", category: "ok", sni: "api." + domain, cert: useECDSA, client: tls12, resume: true},
	{name: "tls12_expired", category: "cert_expired", sni: "www." + domain, cert: func(p *pki) *cert { return p.expired }, client: tls12},
	{name: "tls12_hostname_mismatch", category: "cert_hostname_mismatch", sni: "www." + domain, cert: func(p *pki) *cert { return p.wrongName }, client: tls12},
	{name: "tls12_untrusted_ca", category: "cert_untrusted_ca", sni: "api." + domain, cert: func(p *pki) *cert { return p.untrusted }, client: tls12},
	{name: "tls12_self_signed", category: "cert_self_signed", sni: "cdn." + domain, cert: func(p *pki) *cert { return p.selfSigned }, client: tls12},
	{name: "tls13_expired_encrypted_alert", category: "cert_rejected", sni: "www." + domain, cert: func(p *pki) *cert { return p.expired }},
	{name: "version_mismatch", category: "version_mismatch", sni: "www." + domain, cert: useECDSA, client: tls12, server: tls13, closer: serverSide},
	{name: "no_shared_cipher", category: "no_shared_cipher", sni: "api." + domain, cert: useECDSA,
		client: suites(tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA),
		server: suites(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256), closer: serverSide},
	{name: "alpn_mismatch", category: "alpn_mismatch", sni: "www." + domain, cert: useECDSA,
		client: func(c *tls.Config) { c.NextProtos = []string{"h2"} },
		server: func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }, closer: serverSide},
	{name: "tls12_client_cert_required", category: "client_cert_required", sni: "api." + domain, cert: useECDSA, client: tls12,
		server: func(c *tls.Config) { c.ClientAuth = tls.RequireAnyClientCert }, closer: serverSide},
}

// conversation limits: a request, the response a server makes to it.
const (
	requestSize  = 300
	responseSize = 20000 // more than one full record, so recLen is learnt from the wire
)

// runCase records one conversation of c. label makes the random bytes of
// each pool entry differ.
func runCase(c tlsCase, p *pki, seed uint64, label string, now time.Time) (*handshake, error) {
	cache := tls.NewLRUClientSessionCache(4)
	ticketKey := [32]byte{}
	newReader(seed, label+"/ticket").Read(ticketKey[:])
	runs := 1
	if c.resume {
		runs = 2
	}
	var h *handshake
	for run := range runs {
		rl := fmt.Sprintf("%s/%d", label, run)
		ccfg := &tls.Config{
			RootCAs:          p.rootPool(),
			ServerName:       c.sni,
			Time:             func() time.Time { return now },
			Rand:             newReader(seed, rl+"/client"),
			CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256},
			MinVersion:       tls.VersionTLS12,
		}
		if c.resume {
			ccfg.ClientSessionCache = cache
		}
		scfg := &tls.Config{
			Certificates:                []tls.Certificate{c.cert(p).TLS()},
			Time:                        func() time.Time { return now },
			Rand:                        newReader(seed, rl+"/server"),
			CurvePreferences:            []tls.CurveID{tls.X25519, tls.CurveP256},
			SessionTicketKey:            ticketKey,
			DynamicRecordSizingDisabled: true, // bulk servers send full records
		}
		if c.client != nil {
			c.client(ccfg)
		}
		if c.server != nil {
			c.server(scfg)
		}
		var err error
		h, err = converse(c, ccfg, scfg)
		if err != nil {
			return nil, fmt.Errorf("tlsgen: %s: %w", c.name, err)
		}
		if c.resume && run == 1 && !h.resumed {
			return nil, fmt.Errorf("tlsgen: %s: the second handshake did not resume", c.name)
		}
	}
	h.name = c.name
	return h, nil
}

// converse runs one client and one server over a recording and returns
// what they wrote. A successful handshake is followed by a request, a
// response and close_notify from both sides; a failed one ends with the
// failing side's alert.
func converse(c tlsCase, ccfg, scfg *tls.Config) (*handshake, error) {
	rec := newRecording()
	cc, sc := rec.conns()
	client, server := tls.Client(cc, ccfg), tls.Server(sc, scfg)
	var wg sync.WaitGroup
	var serverErr error
	wg.Go(func() {
		defer sc.Close()
		if err := server.Handshake(); err != nil {
			serverErr = err
			return
		}
		req := make([]byte, requestSize)
		if _, err := io.ReadFull(server, req); err != nil {
			serverErr = err
			return
		}
		if _, err := server.Write(bytes.Repeat([]byte("r"), responseSize)); err != nil {
			serverErr = err
			return
		}
		// Wait for the client's close_notify, then answer it.
		if _, err := io.Copy(io.Discard, server); err != nil {
			serverErr = err
			return
		}
		server.Close()
	})
	h := &handshake{category: c.category, sni: c.sni, bulkAt: -1, closer: c.closer}
	clientErr := client.Handshake()
	if clientErr == nil {
		clientErr = exchange(client, rec)
		if clientErr == nil {
			h.bulkAt = -2 // set from the phase below
		}
	}
	if clientErr != nil {
		cc.Close()
	}
	wg.Wait()
	st := client.ConnectionState()
	ok := clientErr == nil && serverErr == nil
	switch {
	case c.category == "ok" && !ok:
		return nil, fmt.Errorf("handshake failed: client: %v, server: %v", clientErr, serverErr)
	case c.category != "ok" && ok:
		return nil, errors.New("handshake succeeded, but the case expects it to fail")
	}
	if st.HandshakeComplete || c.category == "ok" {
		h.version = tls.VersionName(st.Version)
		h.cipher = tls.CipherSuiteName(st.CipherSuite)
		h.resumed = st.DidResume
	}
	if !ok {
		h.version, h.cipher, h.resumed = serverChoice(rec)
	}
	var err error
	if h.chunks, err = rec.merged(); err != nil {
		return nil, err
	}
	if h.bulkAt == -2 {
		h.bulkAt = len(h.chunks)
		for i, ch := range h.chunks {
			if ch.phase > 0 {
				h.bulkAt = i
				break
			}
		}
		h.recLen = maxAppRecord(h.chunks[:h.bulkAt], serverSide)
		if h.recLen == 0 {
			return nil, errors.New("no full application_data record in the response")
		}
	}
	return h, nil
}

// exchange sends a request, reads the response and closes (close_notify).
func exchange(client *tls.Conn, rec *recording) error {
	if _, err := client.Write(bytes.Repeat([]byte("q"), requestSize)); err != nil {
		return err
	}
	if _, err := io.ReadFull(client, make([]byte, responseSize)); err != nil {
		return err
	}
	rec.mark()
	return client.Close()
}

// serverChoice reads the negotiated version and suite of a failed
// handshake off the wire: what a ServerHello chose, if one was sent.
func serverChoice(rec *recording) (version, cipher string, resumed bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var stream []byte
	for _, ch := range rec.chunks[serverSide] {
		stream = append(stream, ch.data...)
	}
	// The first record of a server that answered is its ServerHello:
	// type(1) version(2) length(2) | msg type(1) length(3) version(2)
	// random(32) session_id(1+n) cipher(2) …
	if len(stream) < 5+4+2+32+1 || stream[0] != 22 || stream[5] != 2 {
		return "", "", false
	}
	b := stream[5+4:]
	legacy := uint16(b[0])<<8 | uint16(b[1])
	sidLen := int(b[34])
	if len(b) < 35+sidLen+3 {
		return "", "", false
	}
	suite := uint16(b[35+sidLen])<<8 | uint16(b[36+sidLen])
	v := legacy
	// TLS 1.3 hides in the supported_versions extension; the suites
	// 0x13xx exist only in TLS 1.3.
	if suite>>8 == 0x13 {
		v = tls.VersionTLS13
	}
	return tls.VersionName(v), tls.CipherSuiteName(suite), false
}

// maxAppRecord returns the length of the longest application_data record
// side wrote in chunks.
func maxAppRecord(chunks []chunk, s side) int {
	var stream []byte
	for _, ch := range chunks {
		if ch.from == s {
			stream = append(stream, ch.data...)
		}
	}
	best := 0
	for len(stream) >= 5 {
		n := int(stream[3])<<8 | int(stream[4])
		if stream[0] == 23 {
			best = max(best, n)
		}
		if len(stream) < 5+n {
			break
		}
		stream = stream[5+n:]
	}
	return best
}
