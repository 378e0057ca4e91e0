package fingerprint_test

import (
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// ja4Form is the shape of a hashed JA4: the prefix, then two 12-digit
// hashes.
var ja4Form = regexp.MustCompile(`^[tqd](1[0-3]|s[23]|d[1-3]|00)[di]\d{4}[0-9A-Za-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)

// seedHellos adds to f the bodies of real hellos: crypto/tls's ClientHellos,
// and the ClientHellos and ServerHellos of a few public captures.
func seedHellos(f *testing.F, server bool) {
	if !server {
		for _, cfg := range []*tls.Config{
			{ServerName: "example.com", NextProtos: []string{"h2", "http/1.1"}},
			{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12},
		} {
			_, body := goClientHello(f, cfg)
			f.Add(body)
		}
	}
	for _, name := range []string{"ja4/tls-handshake.pcapng", "arkime/openssl-ssl3.pcap", "zeek/hrr.pcap", "ja4/tls-non-ascii-alpn.pcapng"} {
		for _, c := range analyse(f, publicFile(name)) {
			switch {
			case server && c.ServerHello != nil:
				f.Add(c.ServerHello.Raw)
			case !server && c.ClientHello != nil:
				f.Add(c.ClientHello.Raw)
			}
		}
	}
}

// FuzzClientHello checks that JA3 and JA4 never panic on whatever tlsparse
// accepts, are deterministic, and keep their forms.
// A Memo shared by every input gives what the functions give.
func FuzzClientHello(f *testing.F) {
	seedHellos(f, false)
	var memo fingerprint.Memo
	f.Fuzz(func(t *testing.T, body []byte) {
		ch, err := tlsparse.ParseClientHello(body)
		if err != nil {
			return
		}
		full, hash := fingerprint.JA3(ch)
		for range 2 {
			if mf, mh := memo.JA3(ch); mf != full || mh != hash {
				t.Fatalf("Memo.JA3 gives %q %q, JA3 %q %q", mf, mh, full, hash)
			}
			if r, mr := fingerprint.JA4(ch, fingerprint.QUIC), memo.JA4(ch, fingerprint.QUIC); mr != r {
				t.Fatalf("Memo.JA4 gives %+v, JA4 %+v", mr, r)
			}
		}
		if full2, hash2 := fingerprint.JA3(ch); full2 != full || hash2 != hash {
			t.Fatalf("JA3 not deterministic: %q %q, then %q %q", full, hash, full2, hash2)
		}
		if sum := md5.Sum([]byte(full)); hash != hex.EncodeToString(sum[:]) {
			t.Fatalf("JA3 hash %s is not the MD5 of %q", hash, full)
		}
		r := fingerprint.JA4(ch, fingerprint.TCP)
		if r2 := fingerprint.JA4(ch, fingerprint.TCP); r2 != r {
			t.Fatalf("JA4 not deterministic: %+v, then %+v", r, r2)
		}
		if !ja4Form.MatchString(r.JA4) || !ja4Form.MatchString(r.JA4O) {
			t.Fatalf("JA4 %q or JA4_o %q is malformed", r.JA4, r.JA4O)
		}
		for _, s := range []string{r.JA4R, r.JA4O, r.JA4RO} {
			if s[:10] != r.JA4[:10] {
				t.Fatalf("prefix of %q differs from JA4 %q", s, r.JA4)
			}
		}
	})
}

// FuzzServerHello checks that JA3S never panics on whatever tlsparse
// accepts and is deterministic, and that a Memo shared by every input
// gives what it gives.
func FuzzServerHello(f *testing.F) {
	seedHellos(f, true)
	var memo fingerprint.Memo
	f.Fuzz(func(t *testing.T, body []byte) {
		sh, err := tlsparse.ParseServerHello(body)
		if err != nil {
			return
		}
		full, hash := fingerprint.JA3S(sh)
		for range 2 {
			if mf, mh := memo.JA3S(sh); mf != full || mh != hash {
				t.Fatalf("Memo.JA3S gives %q %q, JA3S %q %q", mf, mh, full, hash)
			}
		}
		if full2, hash2 := fingerprint.JA3S(sh); full2 != full || hash2 != hash {
			t.Fatalf("JA3S not deterministic")
		}
		if sum := md5.Sum([]byte(full)); hash != hex.EncodeToString(sum[:]) {
			t.Fatalf("JA3S hash %s is not the MD5 of %q", hash, full)
		}
	})
}

// TestMemo checks that a Memo gives what the functions give, for every
// hello of the public captures, when it computes and when it remembers.
func TestMemo(t *testing.T) {
	files, err := filepath.Glob(publicFile("*", "*.pcap*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no public captures: %v", err)
	}
	var memo fingerprint.Memo
	n := 0
	for range 2 {
		for _, name := range files {
			for _, c := range analyse(t, name) {
				if ch := c.ClientHello; ch != nil {
					n++
					f, h := fingerprint.JA3(ch)
					if mf, mh := memo.JA3(ch); mf != f || mh != h {
						t.Errorf("%s: Memo.JA3 gives %q %q, JA3 %q %q", name, mf, mh, f, h)
					}
					if r, mr := fingerprint.JA4(ch, fingerprint.TCP), memo.JA4(ch, fingerprint.TCP); mr != r {
						t.Errorf("%s: Memo.JA4 gives %+v, JA4 %+v", name, mr, r)
					}
				}
				if sh := c.ServerHello; sh != nil {
					f, h := fingerprint.JA3S(sh)
					if mf, mh := memo.JA3S(sh); mf != f || mh != h {
						t.Errorf("%s: Memo.JA3S gives %q %q, JA3S %q %q", name, mf, mh, f, h)
					}
				}
			}
		}
	}
	t.Logf("%d hellos", n)
}
