package probe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// helloCounter records the size of the first write on a connection: the
// ClientHello's records, which crypto/tls writes at once.
type helloCounter struct {
	net.Conn
	n    *int
	done bool
}

func (h *helloCounter) Write(b []byte) (int, error) {
	if !h.done {
		h.done = true
		*h.n = len(b)
	}
	return h.Conn.Write(b)
}

// padALPN returns protos followed by protocol names that no server
// speaks, about 1,600 bytes of them: the padded ClientHello no longer fits
// in one segment of a 1,500-byte link. crypto/tls has no padding
// extension; unknown ALPN names are what servers ignore (RFC 7301,
// Section 3.2: the server picks one it supports). Without protocols of its
// own the list starts with http/1.1, which servers that check ALPN accept.
func padALPN(protos []string) []string {
	out := append([]string(nil), protos...)
	if len(out) == 0 {
		out = append(out, "http/1.1")
	}
	for i := range 8 {
		out = append(out, fmt.Sprintf("tlsdiag-padding-%d-%s", i, strings.Repeat("x", 180)))
	}
	return out
}

// sendNoSNI makes tc send no server_name while still verifying the
// certificate for the name the SNI would have carried: crypto/tls ties the
// two together, so verification is done here.
func sendNoSNI(tc *tls.Config, cfg *Config) {
	name := tc.ServerName
	tc.ServerName = ""
	if tc.InsecureSkipVerify {
		return
	}
	tc.InsecureSkipVerify = true
	roots := cfg.RootCAs
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: inter}
		if _, err := netip.ParseAddr(name); err != nil {
			opts.DNSName = name
		}
		if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		if ip, err := netip.ParseAddr(name); err == nil {
			if err := cs.PeerCertificates[0].VerifyHostname(ip.String()); err != nil {
				return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			}
		}
		return nil
	}
}
