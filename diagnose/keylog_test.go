package diagnose

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
)

// TestKeyLogRefinesTLS13Rejection reads gnutls-cli rejecting an expired
// certificate over TLS 1.3. Without the key log only the rejection is
// visible (cert_rejected); with it the chain and the decrypted alert give
// the exact cause, and the summary names the alert as decrypted.
func TestKeyLogRefinesTLS13Rejection(t *testing.T) {
	roots := rootsFile(t, "../testdata/certs/ca.pem")
	f, err := os.Open("../testdata/captures/cert_rejected.keylog")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kl, err := decrypt.ParseKeyLog(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		keyLog  *decrypt.KeyLog
		want    Category
		summary string
	}{
		{nil, CertRejected, "encrypted"},
		{kl, CertExpired, "bad_certificate (decrypted)"},
	} {
		src, err := capture.OpenFile("../testdata/captures/cert_rejected.pcap")
		if err != nil {
			t.Fatal(err)
		}
		b := analysis.NewBuilder(analysis.Options{KeyLog: tt.keyLog})
		if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
			t.Fatal(err)
		}
		src.Close()
		conns := b.Connections()
		if len(conns) != 1 {
			t.Fatalf("%d connections, want 1", len(conns))
		}
		v := Diagnose(conns[0], Config{Roots: roots})
		if v.Category != tt.want || !strings.Contains(v.Summary, tt.summary) {
			t.Errorf("key log %v: %s: %s; want %s, summary mentioning %q", tt.keyLog != nil, v.Category, v.Summary, tt.want, tt.summary)
		}
	}
}

// TestKeyLogAdviceNotRepeated reads the same TLS 1.3 rejection with a key
// log of other connections, and with one whose secret for it is wrong:
// the fix says why the key log given did not help instead of advising
// --keylog again.
func TestKeyLogAdviceNotRepeated(t *testing.T) {
	mine, err := os.ReadFile("../testdata/captures/cert_rejected.keylog")
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.ReadFile("../testdata/captures/ok.keylog")
	if err != nil {
		t.Fatal(err)
	}
	// The right client random, another connection's secrets: a wrong key.
	var wrong strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(string(mine)), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 {
			wrong.WriteString(f[0] + " " + f[1] + " " + strings.Repeat("7", len(f[2])) + "\n")
		}
	}
	for _, tt := range []struct {
		name, keyLog string
		want         analysis.Decryption
		fix          string
	}{
		{"none", "", analysis.DecryptionNone, "read the capture again with --keylog"},
		{"other connections", string(other), analysis.DecryptionNoKey, "the key log given has no secrets for this connection (the key log has no TLS 1.3 secrets for client random"},
		{"wrong secrets", wrong.String(), analysis.DecryptionFailed, "the key log's secrets did not open this connection"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var kl *decrypt.KeyLog
			if tt.keyLog != "" {
				if kl, err = decrypt.ParseKeyLog(strings.NewReader(tt.keyLog)); err != nil {
					t.Fatal(err)
				}
			}
			src, err := capture.OpenFile("../testdata/captures/cert_rejected.pcap")
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			b := analysis.NewBuilder(analysis.Options{KeyLog: kl})
			if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
				t.Fatal(err)
			}
			c := b.Connections()[0]
			if c.Decryption != tt.want || c.Decrypted {
				t.Errorf("decryption %q (%s), decrypted %v; want %q", c.Decryption, c.DecryptionReason(), c.Decrypted, tt.want)
			}
			v := Diagnose(c, Config{SettingNames: flagNames})
			if !strings.Contains(v.Fix, tt.fix) || tt.keyLog != "" && strings.Contains(v.Fix, "--keylog") {
				t.Errorf("fix %q, want it to say %q and, with a key log, not to advise --keylog", v.Fix, tt.fix)
			}
		})
	}
}

// TestRenegotiationWarning reads two openssl renegotiations, with their
// key logs and without: one the server accepted, one it refused (OpenSSL
// 3 refuses client-initiated renegotiation by default), after which the
// client gave up; the connection stays ok, and the warning tells the story
// instead of a bare fatal alert. Without the key log the renegotiation is
// known by its encrypted handshake records. The server's answer to the
// renegotiation is not taken for a close that dropped the request before
// it ("hello", which s_server does not answer).
func TestRenegotiationWarning(t *testing.T) {
	for _, tt := range []struct {
		name   string
		keyLog bool
		want   string
	}{
		{"tls12_openssl_reneg", true, "the client asked to renegotiate (ClientHello, frame 13) and the server renegotiated (ServerHello, frame 15)"},
		{"tls12_openssl_reneg_refused", true, "the client asked to renegotiate (ClientHello, frame 13) and the server refused (no_renegotiation, frame 15); the client then ended the connection (handshake_failure, frame 17)"},
		{"tls12_openssl_reneg", false, "the client began a renegotiation after the handshake (an encrypted handshake record, frame 13: a ClientHello) and the server answered with encrypted handshake records (frame 15): the renegotiation went ahead (--keylog shows its messages)"},
		{"tls12_openssl_reneg_refused", false, "the client began a renegotiation after the handshake (an encrypted handshake record, frame 13: a ClientHello) and the server answered with an encrypted alert (frame 15): likely a refusal (no_renegotiation; most servers refuse a client's renegotiation, OpenSSL 3 and nginx among them); the client then sent an encrypted alert (frame 17), a fatal one or close_notify (--keylog reads the alerts)"},
	} {
		var kl *decrypt.KeyLog
		if tt.keyLog {
			f, err := os.Open("../testdata/keys/" + tt.name + ".keylog")
			if err != nil {
				t.Fatal(err)
			}
			kl, err = decrypt.ParseKeyLog(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		src, err := capture.OpenFile("../testdata/keys/" + tt.name + ".pcap")
		if err != nil {
			t.Fatal(err)
		}
		b := analysis.NewBuilder(analysis.Options{KeyLog: kl})
		if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
			t.Fatal(err)
		}
		src.Close()
		v := Diagnose(b.Connections()[0], Config{})
		if v.Category != OK || !slices.Contains(v.Warnings, tt.want) {
			t.Errorf("%s (key log %v): %s, warnings %q; want ok with %q", tt.name, tt.keyLog, v.Category, v.Warnings, tt.want)
		}
		for _, said := range append([]string{v.Summary}, v.Warnings...) {
			if strings.Contains(said, "sent nothing after") || strings.Contains(said, "no answer to the client's request") {
				t.Errorf("%s (key log %v): the renegotiation's answer read as silence or a close: %q", tt.name, tt.keyLog, said)
			}
		}
		for _, w := range v.Warnings {
			if strings.Contains(w, "fatal alert") {
				t.Errorf("%s: the refusal's fatal alert is warned about twice: %q", tt.name, w)
			}
		}
	}
}

// TestECHRejectedKeyLog reads a Go client whose Encrypted Client Hello a
// Go server declined (testdata/field/ech_rejected_go.pcap): the handshake
// completes with the outer ClientHello, then the client aborts with
// ech_required, which the key log reveals. That alert is the cause, not
// the self-signed certificate the client trusted.
func TestECHRejectedKeyLog(t *testing.T) {
	f, err := os.Open("../testdata/field/ech_rejected_go.keylog")
	if err != nil {
		t.Fatal(err)
	}
	kl, err := decrypt.ParseKeyLog(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFile("../testdata/field/ech_rejected_go.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b := analysis.NewBuilder(analysis.Options{KeyLog: kl})
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	conns := b.Connections()
	if len(conns) != 1 {
		t.Fatalf("%d connections, want 1", len(conns))
	}
	v := Diagnose(conns[0], Config{})
	const want = "the server did not accept the client's Encrypted Client Hello (ECH): the handshake completed (frame 8) with the outer ClientHello and its public name 'public.test', then the client aborted with alert ech_required (frame 9)"
	if v.Category != HandshakeFailure || !strings.Contains(v.Summary, want) || !slices.Equal(v.Evidence, []int64{4, 6, 9}) {
		t.Errorf("%s: %s (evidence %v); want handshake_failure with %q, evidence 4, 6, 9", v.Category, v.Summary, v.Evidence, want)
	}
	if !strings.Contains(v.Fix, "EncryptedClientHelloConfigList") {
		t.Errorf("fix %q does not name the client's ECH configuration", v.Fix)
	}
}
