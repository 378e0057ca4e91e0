package diagnose

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"
)

// TestOldCapturesJudgedByTheirTime reads public captures from 2013–2017
// (testdata/public, real traffic) against today's system roots: a SHA-1
// chain and a root that has since left the trust stores were what every
// client then accepted, so neither is the cause of the connection's end;
// each is a warning that today's clients refuse it. The clients there
// (openssl s_client and scanners of the time) closed with an encrypted
// alert right after the handshake: their close_notify.
func TestOldCapturesJudgedByTheirTime(t *testing.T) {
	roots, err := LoadRoots(true)
	if err != nil {
		t.Fatal(err)
	}
	const sha1Then = "is signed with SHA1-RSA: clients accepted it when this capture was made"
	for _, tt := range []struct {
		file     string
		category Category
		phrases  []string
	}{
		{"arkime/openssl-tls1.pcap", OK, []string{sha1Then + " (2014-10-15); today's refuse it (browsers since January 2017",
			"the chain leads to the root 'CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US' (certificate 2 has its key): clients trusted it when this capture was made (2014-10-15); today's do not"}},
		{"arkime/openssl-ssl3.pcap", OK, []string{sha1Then + " (2014-10-15)"}},
		{"arkime/openssl-tls1_1.pcap", OK, []string{sha1Then + " (2014-10-15)"}},
		{"arkime/openssl-tls1_2.pcap", OK, []string{sha1Then + " (2014-10-15)"}},
		{"arkime/openssl-tls1-tls1_2.pcap", OK, []string{sha1Then + " (2014-10-15)"}},
		// DigiCert's root, still trusted, signed the intermediate with
		// SHA-1, which crypto/x509 no longer checks: that is no
		// untrusted root.
		{"zeek/ocsp-stapling-twimg.pcap", OK, []string{sha1Then + " (2014-09-03)",
			"certificate 1 'CN=DigiCert High Assurance CA-3,OU=www.digicert.com,O=DigiCert Inc,C=US' " + sha1Then + " (2014-09-03)"}},
		{"zeek/telesec.pcap", OK, []string{sha1Then + " (2016-04-26)", "the root 'CN=Deutsche Telekom Root CA 2,OU=T-TeleSec Trust Center,O=Deutsche Telekom AG,C=DE' (certificate 2 has its key): clients trusted it"}},
		// The client's Finished is garbled in the capture, but data
		// flowed both ways after it: the handshake completed, and the
		// era's defects are warnings.
		{"zeek/tls1.2-late-protocol-error.pcap", OK, []string{sha1Then + " (2013-01-04)", "the root 'CN=AddTrust External CA Root,OU=AddTrust External TTP Network,O=AddTrust AB,C=SE' (certificate 2 has its key): clients trusted it when this capture was made (2013-01-04)"}},
		{"zeek/heartbleed-encrypted.pcap", Heartbleed, []string{"the root 'CN=StartCom Certification Authority,OU=Secure Digital Certificate Signing,O=StartCom Ltd.,C=IL' (not sent by the server): clients trusted it when this capture was made (2014-05-14)"}},
		{"zeek/heartbleed-encrypted-success.pcap", Heartbleed, []string{"StartCom Certification Authority,OU=Secure Digital Certificate Signing,O=StartCom Ltd.,C=IL' (not sent by the server): clients trusted it when this capture was made (2014-04-10)"}},
		{"zeek/tls1_1.pcap", OK, []string{"the root 'CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US' (certificate 2 has its key): clients trusted it when this capture was made (2017-11-30)"}},
		{"zeek/signed_certificate_timestamp_tls1_0.pcap", OK, []string{"clients trusted it when this capture was made (2017-11-28)"}},
		// Google Internet Authority issued by Equifax's root itself, not
		// sent: a public root then, not a private CA.
		{"zeek/tls-conn-with-extensions.pcap", OK, []string{"the chain leads to the root 'OU=Equifax Secure Certificate Authority,O=Equifax,C=US' (not sent by the server): clients trusted it when this capture was made (2012-04-27); today's do not"}},
		// A root still not trusted (a test certificate in a Visa root's
		// name) and a client of unknown stack that closed with an
		// encrypted alert: its close_notify, as a rule.
		{"zeek/CVE-2015-3194.pcap", OK, []string{"Visa eCommerce Root", "Likely: its close_notify (openssl s_client, a scanner, a health check)"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			conns := analyseCapture(t, testdataDir+"/public/"+tt.file, nil)
			if len(conns) != 1 {
				t.Fatalf("%d connections", len(conns))
			}
			v := Diagnose(conns[0], Config{Roots: roots})
			said := v.Summary + "\n" + strings.Join(v.Warnings, "\n")
			if v.Category != tt.category {
				t.Errorf("%s: %s, want %s", v.Category, v.Summary, tt.category)
			}
			for _, p := range tt.phrases {
				if !strings.Contains(said, p) {
					t.Errorf("no %q in\n%s", p, said)
				}
			}
		})
	}
}

// TestTodaysSHA1CapturesStillRejected: curl (OpenSSL 3) and Go clients
// refused a SHA-1 chain in captures made now (testdata/field/certpolicy):
// the capture's time makes it today's rule, not a warning about the past.
func TestTodaysSHA1CapturesStillRejected(t *testing.T) {
	dir := testdataDir + "/field/certpolicy"
	roots := rootsFile(t, dir+"/root.pem")
	for _, tt := range []struct {
		file string
		port uint16
	}{{"sha1_curl.pcap", 9423}, {"sha1_go.pcapng", 9413}} {
		for _, c := range analyseCapture(t, dir+"/"+tt.file, []uint16{tt.port}) {
			v := Diagnose(c, Config{Roots: roots})
			if v.Category != CertRejected || !strings.Contains(v.Summary, "is signed with SHA1-RSA, which clients reject as insecure") ||
				strings.Contains(strings.Join(v.Warnings, "\n"), "when this capture was made") {
				t.Errorf("%s: %s: %s\n%q", tt.file, v.Category, v.Summary, v.Warnings)
			}
		}
	}
}

// TestEraNeedsAPlausibleClock checks a real SHA-1 chain of 2014 (Google's,
// from arkime/openssl-tls1.pcap) at three capture times: its own, when the
// clients of the time accepted it; none (a capture without timestamps);
// and 1970 (a device's clock never set), before the leaf was issued. The
// last two say nothing of when the capture was made, so the chain is
// judged by today's rules, and the problem says so.
func TestEraNeedsAPlausibleClock(t *testing.T) {
	conns := analyseCapture(t, testdataDir+"/public/arkime/openssl-tls1.pcap", nil)
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	c := conns[0]
	var chain []*x509.Certificate
	for _, cert := range c.Certificates {
		chain = append(chain, cert.X509)
	}
	sha1Of := func(at time.Time) CertProblem {
		t.Helper()
		for _, p := range CheckChain(chain, "", at, nil) {
			if p.Cert == 0 && strings.Contains(p.Detail, "SHA1-RSA") {
				return p
			}
		}
		t.Fatalf("at %v: no SHA-1 problem for certificate 0", at)
		return CertProblem{}
	}
	if p := sha1Of(c.CertificateFrame.Time); !p.AcceptedThen || !p.CapturedAt.Equal(c.CertificateFrame.Time) {
		t.Errorf("at the capture's time: %+v", p)
	}
	if p := sha1Of(time.Time{}); p.AcceptedThen || !strings.Contains(p.Detail, "judged by today's clients: the capture has no timestamps") {
		t.Errorf("without a time: %+v", p)
	}
	if p := sha1Of(time.Unix(9, 0).UTC()); p.AcceptedThen || !strings.Contains(p.Detail, "judged by today's clients: the capture's clock (1970-01-01 00:00:09 UTC) is before certificate 0 was issued") {
		t.Errorf("in 1970: %+v", p)
	}
	if p := sha1Of(sha1RefusedSince.AddDate(1, 0, 0)); p.AcceptedThen {
		t.Errorf("in 2018: %+v", p)
	}
}

// TestFormerRootsParse: every key of the former roots table parses, and
// no two are the same key.
func TestFormerRootsParse(t *testing.T) {
	keys := formerRootKeys()
	seen := map[[32]byte]bool{}
	for i, k := range keys {
		if k.key == nil || seen[k.hash] {
			t.Errorf("%s: key %v, seen %v", formerRoots[i].name, k.key, seen[k.hash])
		}
		seen[k.hash] = true
	}
}
