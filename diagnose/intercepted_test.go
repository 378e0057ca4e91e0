package diagnose

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

func TestDiagnoseIntercepted(t *testing.T) { runDiagnoseCases(t, interceptedCases(t)) }

// interceptionChain is a leaf for www.example.com minted by an inspection
// product's CA named cn (organisation org), sent with that CA, as
// mitmproxy and firewalls send it.
func interceptionChain(t *testing.T, cn, org string) []*testCert {
	ca := mkCert(t, certSpec{cn: cn, org: org, ca: true})
	leaf := mkCert(t, certSpec{cn: "www.example.com", issuer: ca, dns: []string{"www.example.com"}})
	return []*testCert{leaf, ca}
}

func interceptedCases(t *testing.T) []diagnoseCase {
	tls12c := func(chain ...*testCert) *analysis.Connection {
		return serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, chain...)
	}
	mitm := interceptionChain(t, "mitmproxy", "mitmproxy")
	zs := interceptionChain(t, "Zscaler Intermediate Root CA (zscalertwo.net)", "Zscaler Inc.")
	forti := interceptionChain(t, "FGT60FTK2209XXXX", "Fortinet")
	corp := interceptionChain(t, "Acme Corp Inspection CA", "Acme Corp")
	vendorLeaf := mkCert(t, certSpec{cn: "www.example.com", org: "Sophos Ltd", issuer: nil, dns: []string{"www.example.com"}})
	return []diagnoseCase{
		{name: "mitmproxy's CA refused with unknown_ca", cat: TLSIntercepted,
			conn: func(p *pki) *analysis.Connection {
				return alert(tls12c(mitm...), 7, client, tlsparse.AlertUnknownCA)
			},
			summary: []string{"a device on the path intercepted the connection", "the certificate for 'www.example.com' (frame 6) was issued by 'CN=mitmproxy,O=mitmproxy', the CA of mitmproxy",
				"the client refused it — the client rejected the server's certificate (alert unknown_ca, frame 7)", "likely", "less likely, the server itself", "cert_untrusted_ca"},
			evidence: []int64{6, 7}, fix: []string{"mitmproxy between the client and 198.51.100.7:443", "install the proxy's CA 'CN=mitmproxy,O=mitmproxy'", "exempt 'www.example.com' from inspection", "nothing changes on the server"}, nWarn: -1},
		{name: "Zscaler named in the issuer's organisation, bad_certificate", cat: TLSIntercepted,
			conn: func(p *pki) *analysis.Connection {
				return alert(tls12c(zs...), 7, client, tlsparse.AlertBadCertificate)
			},
			summary: []string{"the CA of Zscaler"}, evidence: []int64{6, 7}, fix: []string{"Zscaler between the client"}, nWarn: -1},
		{name: "a FortiGate's CA the client trusts: ok, with a warning", cat: OK,
			roots: func(p *pki) *x509.CertPool {
				pool := x509.NewCertPool()
				pool.AddCert(forti[1].cert)
				return pool
			},
			conn: func(p *pki) *analysis.Connection {
				return finish(serverHello(hello(tcpConn(), tls12Hello(v12)), v12, 0xC02F, forti...))
			},
			evidence: []int64{4, 6, 9}, nWarn: 1, warnings: []string{"the CA of Fortinet FortiGate, a TLS-inspecting proxy: the connection is intercepted on the path, and the client trusts the proxy's CA"}},
		{name: "an unknown CA, while the same name completed elsewhere with another issuer's leaf: a warning", cat: CertUntrustedCA,
			conn: func(p *pki) *analysis.Connection {
				c := alert(tls12c(corp...), 7, client, tlsparse.AlertUnknownCA)
				c.OtherChains = []analysis.OtherChain{{Server: c.Server, First: fr(1), CertificateFrame: fr(2), Issuer: "CN=Test Intermediate CA,O=tlsdiag test"}}
				return c
			},
			evidence: []int64{6, 7}, nWarn: -1,
			warnings: []string{"issued by 'CN=Acme Corp Inspection CA,O=Acme Corp', while for the same name frame 2 (connection to 198.51.100.7:443, frame 1) completed with a leaf issued by 'CN=Test Intermediate CA,O=tlsdiag test'",
				"either a TLS-inspecting proxy", "or servers behind the name have certificates from different CAs"}},
		{name: "an unknown CA refused, no other chain for the name: stays cert_untrusted_ca", cat: CertUntrustedCA,
			conn: func(p *pki) *analysis.Connection {
				return alert(tls12c(corp...), 7, client, tlsparse.AlertUnknownCA)
			},
			evidence: []int64{6, 7}, nWarn: -1},
		{name: "a vendor's own server certificate (the product name in the subject) is no interception", cat: CertSelfSigned,
			conn: func(p *pki) *analysis.Connection {
				return alert(tls12c(vendorLeaf), 7, client, tlsparse.AlertUnknownCA)
			},
			evidence: []int64{6, 7}, nWarn: -1},
	}
}

// TestFindInterceptionEveryPattern: every pattern names its product in
// an issuer's common name and in its organisation, in any case.
func TestFindInterceptionEveryPattern(t *testing.T) {
	for _, ic := range Interceptors {
		for _, p := range ic.Patterns {
			for _, cert := range []*x509.Certificate{
				mkCert(t, certSpec{cn: "Inspection " + strings.ToUpper(p) + " CA", ca: true}).cert,
				mkCert(t, certSpec{cn: "Some CA", org: strings.ToLower(p) + " Inc.", ca: true}).cert,
			} {
				got, ok := findInterception([]*x509.Certificate{nil, cert})
				if !ok || got.product != ic.Product || got.index != 1 {
					t.Errorf("pattern %q in %s: got %+v, %v; want %s at index 1", p, cert.Issuer, got, ok, ic.Product)
				}
			}
		}
	}
	if got, ok := findInterception([]*x509.Certificate{mkCert(t, certSpec{cn: "DigiCert Global G2 TLS RSA SHA256 2020 CA1", org: "DigiCert Inc", ca: true}).cert}); ok {
		t.Errorf("a public CA's name matched %+v", got)
	}
}
