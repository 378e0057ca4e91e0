package probe

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"net/url"
	"slices"
)

// Interception is what a bisection saw of a proxy that intercepts TLS:
// the server's leaf certificate through the proxy and directly differ,
// so something on the proxy's path answered in the server's name.
type Interception struct {
	// Proxy is the proxy the request went through (password hidden);
	// ServerName the name the certificates are for.
	Proxy, ServerName string
	// ProxyIssuer is the issuer of the leaf the client got through the
	// proxy, DirectIssuer of the one it got directly (RFC 4514 strings).
	ProxyIssuer, DirectIssuer string
	// DirectTrusted is set when the client verified the direct chain.
	DirectTrusted bool
}

// certificateFailure reports whether the request failed on the server's
// certificate chain, in the client's view or the wire's.
func certificateFailure(r *Result) bool {
	if r.Client.Class.IsCertificate() {
		return true
	}
	return r.Wire.Result != nil && r.Wire.Result.Verdict.Category.IsCertificate()
}

// proxyFirst moves the proxy factor to the front of queue when the
// request failed on the certificate through a proxy: a proxy that
// intercepts TLS answers with a chain of its own CA, which the client
// does not trust, and no other factor changes the certificate the
// client gets.
func proxyFirst(queue []Factor, base *Result) []Factor {
	i := slices.Index(queue, FactorProxy)
	if i <= 0 || base.Client.Proxy == "" || !certificateFailure(base) {
		return queue
	}
	out := append([]Factor{FactorProxy}, queue[:i]...)
	return append(out, queue[i+1:]...)
}

// findInterception compares the leaf the failing request got through
// its proxy with the one a direct attempt got (the client's view: it
// holds the chain also when it refused it, and under TLS 1.3 the wire
// does not show it). A leaf with another key, or from another issuer,
// is not the server's: the proxy, or something behind it, re-signed it.
func findInterception(as []BisectAttempt) (*Interception, bool) {
	base := &as[0].Result.Client
	if base.Proxy == "" || len(base.PeerCertificates) == 0 {
		return nil, false
	}
	for _, a := range as[1:] {
		d := &a.Result.Client
		if a.Factor != FactorProxy || len(d.PeerCertificates) == 0 {
			continue
		}
		via, direct := base.PeerCertificates[0], d.PeerCertificates[0]
		if sameLeaf(via, direct) {
			return nil, false
		}
		return &Interception{
			Proxy: proxyHost(base.Proxy), ServerName: base.ServerName,
			ProxyIssuer: via.Issuer.String(), DirectIssuer: direct.Issuer.String(),
			DirectTrusted: a.OK() || (d.TLS != nil && !d.Class.IsCertificate()),
		}, true
	}
	return nil, false
}

// sameLeaf reports whether two leaves are the server's one key from one
// issuer (a renewal keeps both).
func sameLeaf(a, b *x509.Certificate) bool {
	return bytes.Equal(a.RawSubjectPublicKeyInfo, b.RawSubjectPublicKeyInfo) && bytes.Equal(a.RawIssuer, b.RawIssuer)
}

// proxyHost is the proxy's host and port, or the proxy as given.
func proxyHost(p string) string {
	if u, err := url.Parse(p); err == nil && u.Host != "" {
		return u.Host
	}
	return p
}

// interceptionSentence says what the two certificates show.
func interceptionSentence(ic *Interception, base BisectAttempt) string {
	name := ic.ServerName
	if name == "" {
		name = base.Result.Target.Host
	}
	refused := "the proxy's own CA, not trusted here"
	if c := base.Result.Client.Class; c != CertUnknownAuthority && c.IsCertificate() {
		refused = "the proxy's own CA; the client refused it: " + string(c)
	}
	s := fmt.Sprintf("the proxy %s intercepts TLS: through it the server's certificate for %s is issued by '%s' (%s); directly it is issued by '%s'",
		ic.Proxy, name, ic.ProxyIssuer, refused, ic.DirectIssuer)
	if ic.ProxyIssuer == ic.DirectIssuer {
		s = fmt.Sprintf("the proxy %s intercepts TLS: through it the server's certificate for %s carries another key than directly, under the same issuer name '%s' (%s)",
			ic.Proxy, name, ic.ProxyIssuer, refused)
	}
	if ic.DirectTrusted {
		s += ", which is trusted"
	}
	return s
}

// interceptionFix says what to do about a proxy that intercepts TLS:
// trust its CA only where the interception is wanted, else treat the path
// as compromised; or bypass the proxy for the name.
func interceptionFix(ic *Interception, base BisectAttempt, names Names) string {
	o := &base.Result.Client
	name := ic.ServerName
	if name == "" {
		name = base.Result.Target.Host
	}
	bypass := fmt.Sprintf("exempt %s from the proxy (NO_PROXY=%s) or from inspection on the proxy", name, name)
	if o.proxyFlag {
		// An explicit proxy: NO_PROXY does not apply to it.
		bypass = fmt.Sprintf("connect to %s without the proxy (leave out %s), or exempt it from inspection on the proxy", name, names.of(SettingProxy))
	}
	return fmt.Sprintf("trust the proxy's CA '%s' only if your organisation deployed the interception on purpose: then add that CA to the client's trust (SSL_CERT_FILE, tls.Config.RootCAs; %s for the probe) — "+
		"a client that pins the server's certificate or keeps its own trust store still refuses it; if nobody deployed it, treat the path through the proxy as compromised and find who runs it; "+
		"or %s; nothing changes on the server",
		ic.ProxyIssuer, names.of(SettingRootCAs), bypass)
}
