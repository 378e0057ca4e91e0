package diagnose

// The default-server reading of a name mismatch: a server that serves
// several names picks the certificate by SNI, and a name that matches no
// server block (nginx `server_name`, an Apache `ServerName`, a HAProxy
// `crt`) gets the default block's certificate, for a name unrelated to
// the one asked for.

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// defaultCertificate reports whether the leaf's names share nothing with
// the SNI (UnrelatedNames).
func (d *diagnosis) defaultCertificate() bool {
	if d.hello == nil || len(d.chain) == 0 || d.chain[0] == nil || ipOnly(d.chain[0]) {
		return false
	}
	return UnrelatedNames(d.chain[0], d.hello.ServerName)
}

// ipOnly reports whether the leaf names IP addresses and no host name: a
// certificate made for reaching the server by its address, not another
// server block's.
func ipOnly(leaf *x509.Certificate) bool {
	return len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) > 0
}

// ipOnlyFix is the fix for a name asked of a certificate that names IP
// addresses only, saying when one of them is the address the client
// connected to.
func (d *diagnosis) ipOnlyFix(leaf *x509.Certificate) string {
	sni := d.hello.ServerName
	ips := make([]string, len(leaf.IPAddresses))
	covers := false
	for i, ip := range leaf.IPAddresses {
		ips[i] = ip.String()
		if a, ok := netip.AddrFromSlice(ip); ok && a.Unmap() == d.c.Server.Addr().Unmap() {
			covers = true
		}
	}
	fix := fmt.Sprintf("the certificate names IP addresses only (%s), no host name", list(ips, 3))
	if covers {
		fix += fmt.Sprintf(", the address the client connected to among them: connect to %s by address instead of by the name '%s' (the client then checks the address), or", d.c.Server, sni)
	} else {
		fix += ": connect by one of them, or"
	}
	return fix + fmt.Sprintf(" get a certificate whose subjectAltName includes '%s'", sni)
}

// UnrelatedNames reports whether the leaf's names share nothing with
// name: not even the registered domain (the last two labels). A
// certificate for www.example.com sent for example.com lacks a name; one
// for other.test sent for good.test belongs to another server block, or
// to another server.
func UnrelatedNames(leaf *x509.Certificate, name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if name == "" || net.ParseIP(name) != nil {
		return false
	}
	names := leaf.DNSNames
	if len(names) == 0 && leaf.Subject.CommonName != "" {
		names = []string{leaf.Subject.CommonName}
	}
	if len(names) == 0 {
		return false // a certificate that names no host is its own defect
	}
	want := baseDomain(name)
	for _, n := range names {
		if baseDomain(strings.ToLower(strings.TrimPrefix(n, "*."))) == want {
			return false
		}
	}
	return true
}

// baseDomain is a name's last two labels (the whole name when it has
// fewer). Public suffixes of two labels (co.uk) make unrelated names look
// related, which only costs the default-server reading, never a wrong one.
func baseDomain(n string) string {
	n = strings.TrimSuffix(n, ".")
	last := strings.LastIndexByte(n, '.')
	if last < 0 {
		return n
	}
	return n[strings.LastIndexByte(n[:last], '.')+1:]
}

// problemText is a chain problem's detail, with the default-server
// reading when the name mismatch looks like one.
func (d *diagnosis) problemText(p CertProblem) string {
	if p.Category == CertHostnameMismatch && d.defaultCertificate() {
		if t := d.dnsMismatchText(); t != "" {
			return problemDetail(p) + "; " + t
		}
		return problemDetail(p) + fmt.Sprintf("; its names share nothing with '%s', so the name probably matched no server block and the server fell back to its default certificate", d.hello.ServerName)
	}
	return problemDetail(p)
}

// hostnameFix says what to change for a name the certificate does not
// cover: the server's configuration when the certificate is the default
// server's, the certificate when it merely lacks the name.
func (d *diagnosis) hostnameFix() string {
	sni := d.hello.ServerName
	if a := d.dnsSentHere(); a != nil && d.defaultCertificate() {
		return d.serverSide(fmt.Sprintf("if %s is not meant to serve '%s', correct the name's DNS record (it points at %s; the DNS answer is in frame %d); if it is, configure '%s' on that server with its own certificate", d.c.Server.Addr(), sni, d.c.Server.Addr(), a.AnswerFrame.Number, sni), ChangeDefaultServer)
	}
	if len(d.chain) > 0 && d.chain[0] != nil && ipOnly(d.chain[0]) {
		return d.serverSide(d.ipOnlyFix(d.chain[0]), ChangeCertName)
	}
	if d.defaultCertificate() {
		return d.serverSide(fmt.Sprintf("likely, the server has no configuration for '%s' (it answered with its default certificate, for another name): configure '%s' on the server with its own certificate, or connect with a name it serves; if '%s' is configured, the certificate its configuration names is the wrong one: name one whose subjectAltName includes '%s'", sni, sni, sni, sni), ChangeDefaultServer, ChangeCertName)
	}
	return d.serverSide(fmt.Sprintf("connect with a name the certificate covers, or get a certificate whose subjectAltName includes '%s'", sni), ChangeCertName)
}
