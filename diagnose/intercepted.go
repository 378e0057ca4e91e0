package diagnose

// A TLS-inspecting proxy (a firewall's SSL inspection, a secure web
// gateway, an antivirus' web shield, a debugging proxy) answers the
// client in the server's name with a certificate it mints for that name
// and signs with its own CA. A client that does not trust that CA refuses
// it, and the refusal reads like a server fault (an untrusted CA, a
// self-signed root) although the server never saw the handshake. The
// issuer's name gives the product away: products name their CAs after
// themselves, and no public CA carries those names.

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/proxyparse"
)

// TLSIntercepted: a TLS-inspecting proxy on the path answered in the
// server's name with a certificate of its own CA (a known inspection
// product's, or one other than the server's for the same name).
const TLSIntercepted Category = "tls_intercepted"

var tlsInterceptedCategory = categorySpec{
	name:          TLSIntercepted,
	meaning:       "a TLS-inspecting proxy answered in the server's name: a certificate of the chain the client got was issued by a TLS-inspection product's CA (list below), and the client refused it; a connection that completed through such a proxy stays `ok` with a warning naming the product",
	serverFix:     "— (the proxy: its CA in the client's trust store, or an exemption for the name)",
	certificate:   true,
	clientClasses: []string{"cert_unknown_authority"},
}

// Interceptor is a TLS-inspection product recognised by the names it
// gives its CAs.
type Interceptor struct {
	Product string
	// Patterns are matched, case-insensitively, as substrings of the
	// common name, organisation and organisational units of the issuer
	// of each certificate of the chain.
	Patterns []string
}

// Interceptors are the TLS-inspection products recognised by their CAs'
// names. A pattern must not match any public CA's name: vendors that also
// run a public CA (Cisco, Cloudflare, Symantec/DigiCert) are listed by
// their inspection products' own CA names only.
var Interceptors = []Interceptor{
	{"mitmproxy", []string{"mitmproxy"}},
	{"Fortinet FortiGate", []string{"Fortinet", "FortiGate"}},
	{"Zscaler", []string{"Zscaler"}},
	{"Palo Alto Networks", []string{"Palo Alto Networks", "Forward-Trust", "Forward Trust"}},
	{"Netskope", []string{"Netskope"}},
	{"Cisco Umbrella", []string{"Cisco Umbrella"}},
	{"Symantec/Blue Coat ProxySG", []string{"Blue Coat", "ProxySG"}},
	{"Forcepoint", []string{"Forcepoint", "Websense"}},
	{"Check Point", []string{"Check Point", "CheckPoint"}},
	{"Sophos", []string{"Sophos"}},
	{"Barracuda", []string{"Barracuda"}},
	{"SonicWall", []string{"SonicWall"}},
	{"WatchGuard", []string{"WatchGuard"}},
	{"McAfee/Skyhigh Web Gateway", []string{"McAfee Web Gateway", "Skyhigh"}},
	{"Menlo Security", []string{"Menlo Security"}},
	{"iboss", []string{"iboss"}},
	{"Untangle", []string{"Untangle"}},
	{"Kaspersky", []string{"Kaspersky"}},
	{"ESET", []string{"ESET SSL Filter"}},
	{"Avast/AVG", []string{"Avast", "AVG Technologies", "AVG Web"}},
	{"Bitdefender", []string{"Bitdefender"}},
	{"Charles Proxy", []string{"Charles Proxy"}},
	{"Fiddler", []string{"DO_NOT_TRUST_Fiddler", "Fiddler"}},
	{"Burp Suite", []string{"PortSwigger"}},
}

// interception is a certificate of the chain issued by a known
// inspection product's CA.
type interception struct {
	product string
	index   int    // of the certificate in the chain
	issuer  string // the issuer's name as shown
}

// findInterception returns the first certificate of chain whose issuer
// names a TLS-inspection product.
func findInterception(chain []*x509.Certificate) (interception, bool) {
	for i, c := range chain {
		// A self-signed leaf names itself as its issuer: a server of
		// the vendor's own, not a certificate minted by its CA.
		if c == nil || bytes.Equal(c.RawIssuer, c.RawSubject) && !c.IsCA {
			continue
		}
		if product, ok := issuerProduct(c); ok {
			return interception{product, i, "'" + issuerName(c) + "'"}, true
		}
	}
	return interception{}, false
}

// issuerProducts remembers, by raw issuer name, the product an issuer
// names ("" for none): a capture has few issuers and many certificates
// from each.
var issuerProducts nameMemo

// issuerProduct returns the inspection product c's issuer names, if any.
func issuerProduct(c *x509.Certificate) (string, bool) {
	product, ok := issuerProducts.get(c.RawIssuer)
	if !ok {
		product = matchProduct(c.Issuer)
		issuerProducts.put(c.RawIssuer, product)
	}
	return product, product != ""
}

// matchProduct returns the product whose pattern one of the issuer's
// common name, organization or unit contains, case-insensitively.
func matchProduct(issuer pkix.Name) string {
	fields := slices.Concat([]string{issuer.CommonName}, issuer.Organization, issuer.OrganizationalUnit)
	for j, f := range fields {
		fields[j] = strings.ToLower(f)
	}
	for k, ic := range Interceptors {
		for _, p := range lowerPatterns[k] {
			for _, f := range fields {
				if strings.Contains(f, p) {
					return ic.Product
				}
			}
		}
	}
	return ""
}

// lowerPatterns are the patterns of Interceptors in lower case, by
// index: lowercasing them for every certificate was a tenth of a read of
// handshakes.
var lowerPatterns = func() [][]string {
	l := make([][]string, len(Interceptors))
	for i, ic := range Interceptors {
		for _, p := range ic.Patterns {
			l[i] = append(l[i], strings.ToLower(p))
		}
	}
	return l
}()

// interceptedCategories are the verdicts an interception explains: the
// client refused a chain it cannot trust, or gave up on it without
// saying why.
var interceptedCategories = []Category{
	CertUntrustedCA, CertSelfSigned, CertIncompleteChain, CertRejected, HandshakeFailure, ConnectionReset,
}

// intercepted turns v into tls_intercepted when the chain the client got
// was issued by a TLS-inspection product's CA and the client refused it;
// v stays the less likely reading. A connection that completed through
// such a proxy stays as it was, with a warning.
func (d *diagnosis) intercepted(v Verdict) Verdict {
	if len(d.chain) == 0 {
		return d.interceptedByProxy(v)
	}
	ic, ok := findInterception(d.chain)
	if !ok {
		return d.interceptedByProxy(d.interceptedByComparison(v))
	}
	c := d.c
	what := fmt.Sprintf("the certificate for %s (%s) was issued by %s, the CA of %s, a TLS-inspecting proxy",
		sniOrAddr(d), frameRef(c.CertificateFrame.Number), ic.issuer, ic.product)
	if ic.index > 0 {
		what = fmt.Sprintf("certificate %d of the chain (%s) was issued by %s, the CA of %s, a TLS-inspecting proxy",
			ic.index, frameRef(c.CertificateFrame.Number), ic.issuer, ic.product)
	}
	if !v.Failed() || !slices.Contains(interceptedCategories, v.Category) {
		w := what + ": the connection is intercepted on the path"
		if v.Category == OK || v.Category == RenegotiationRefused {
			w += ", and the client trusts the proxy's CA"
		}
		v.Warnings = append(v.Warnings, w)
		return v
	}
	server := c.Server.String()
	out := verdict(TLSIntercepted,
		fmt.Sprintf("a device on the path intercepted the connection: %s, which re-signs the server's certificate with its own CA; the client refused it — %s "+
			"(likely: %s's CA signs a certificate for whatever name a client asks for, and no public CA carries its name; "+
			"less likely, the server itself was given a certificate from %s's CA, e.g. a test server: then the first reading stands, %s)",
			what, v.Summary, ic.product, ic.product, v.Category),
		fmt.Sprintf("most likely the client never talked to the server: %s between the client and %s answered in its name. If the interception is wanted (an organisation's inspection policy), "+
			"install the proxy's CA %s in the client's trust store — or, for a client that pins the server's certificate or keeps its own trust store (mobile apps, Java, Python, Node), "+
			"exempt %s from inspection on the proxy; if nobody deployed a proxy there, treat the path as compromised and find the device; nothing changes on the server",
			ic.product, server, ic.issuer, sniOrAddr(d)),
		c.CertificateFrame)
	if o := d.otherChains(); o != "" {
		out.Summary += "; " + o
		for _, oc := range c.OtherChains {
			out.Evidence = append(out.Evidence, oc.CertificateFrame.Number)
		}
	}
	out.Evidence = append(out.Evidence, v.Evidence...)
	out.Warnings = v.Warnings
	return out
}

// otherChains says which other connections of the capture got another
// issuer's leaf for the same name and completed.
func (d *diagnosis) otherChains() string {
	if len(d.c.OtherChains) == 0 {
		return ""
	}
	return string(appendOtherChains(nil, d.c.OtherChains))
}

// appendOtherChains appends what otherChains says of others, not empty.
func appendOtherChains(b []byte, others []analysis.OtherChain) []byte {
	b = append(b, "for the same name "...)
	for i, o := range others {
		if i > 0 {
			b = append(b, ", and "...)
		}
		b = appendFrameRef(b, o.CertificateFrame.Number)
		b = append(b, " (connection to "...)
		if o.Server.IsValid() {
			b = o.Server.AppendTo(b)
		} else {
			b = append(b, o.Server.String()...) // AppendTo writes nothing
		}
		b = append(b, ", "...)
		b = appendFrameRef(b, o.First.Number)
		b = append(b, ") completed with a leaf issued by '"...)
		b = append(b, o.Issuer...)
		b = append(b, '\'')
	}
	return b
}

// interceptedByComparison warns when the client refused a chain for a
// name for which another connection of the capture completed with a leaf
// of another issuer. The issuer names no known product, so the verdict
// stays: servers behind one name with certificates from different CAs
// (a pool being migrated) look the same, and live reading, which does not
// link connections, must give the same verdict as reading the file.
// The warning is written in one buffer: a capture of a name served by
// two CAs has it for every refused connection, and its parts were a
// dozen strings of their own.
func (d *diagnosis) interceptedByComparison(v Verdict) Verdict {
	c := d.c
	if len(c.OtherChains) == 0 || !v.Failed() || !slices.Contains(interceptedCategories, v.Category) || d.chain[0] == nil {
		return v
	}
	var buf [1024]byte
	b := append(buf[:0], "the certificate for "...)
	if d.hello != nil && d.hello.ServerName != "" { // sniOrAddr
		b = append(append(append(b, '\''), d.hello.ServerName...), '\'')
	} else if a := c.Server.Addr(); a.IsValid() {
		b = a.AppendTo(b)
	} else {
		b = append(b, a.String()...) // AppendTo writes nothing
	}
	b = append(b, " ("...)
	b = appendFrameRef(b, c.CertificateFrame.Number)
	b = append(b, ") was issued by '"...)
	b = append(b, issuerName(d.chain[0])...)
	b = append(b, "', while "...)
	b = appendOtherChains(b, c.OtherChains)
	b = append(b, ": "+
		"either a TLS-inspecting proxy on this connection's path re-signed it with its own CA (then install that CA where the interception is wanted, or exempt the name), "+
		"or servers behind the name have certificates from different CAs and the client trusts only one"...)
	v.Warnings = append(v.Warnings, string(b))
	return v
}

// interceptedByProxy warns when the client refused, as untrusted, a chain
// it got through a proxy's tunnel: a TLS-inspecting proxy whose CA names
// no known product answers so too. The verdict stays (a proxy that only
// tunnels gets the server's own chain), but its fix, trusting the root,
// must not be followed blindly: the root may be the proxy's.
func (d *diagnosis) interceptedByProxy(v Verdict) Verdict {
	p := d.c.Proxy
	if p == nil || p.Outcome != proxyparse.Granted || !slices.Contains([]Category{CertUntrustedCA, CertSelfSigned, CertRejected}, v.Category) {
		return v
	}
	bypass := "bypasses the proxy (NO_PROXY=" + p.Host + ")"
	if d.explicitProxy {
		bypass = "goes without the proxy (" + noProxyIgnored + ")"
	}
	v.Warnings = append(v.Warnings, fmt.Sprintf("the chain came through the proxy %s's tunnel: a TLS-inspecting proxy answers in the server's name with a certificate of its own CA, which a client that does not trust that CA refuses just so; "+
		"compare with a connection that %s before trusting the root, trust a proxy's CA only where your organisation deployed the interception, and then nothing changes on the server",
		d.c.Server, bypass))
	return v
}

// sniOrAddr is the name the client asked for, quoted, or else the
// server's address.
func sniOrAddr(d *diagnosis) string {
	if d.hello != nil && d.hello.ServerName != "" {
		return "'" + d.hello.ServerName + "'"
	}
	return d.c.Server.Addr().String()
}
