package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// TestChainDefectCorrelation takes Go probes of chains with a defect
// (testdata/field/certpolicy): crypto/x509 finds the issuer but cannot use
// it, and says why only inside its "unknown authority" error. The class
// names that reason, the cause quotes crypto/x509's whole message, and
// the correlation keeps the wire's cause and fix rather than advise the
// intermediates or the trust store.
func TestChainDefectCorrelation(t *testing.T) {
	const dir = "../testdata/field/certpolicy"
	rootPEM, err := os.ReadFile(dir + "/root.pem")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatal("root.pem holds no certificate")
	}
	tests := []struct {
		file  string
		port  uint16
		class Class
		fix   string
	}{
		{"sha1_go.pcapng", 9413, CertInsecureAlgorithm, "sign 'CN=good.test,O=Audit Lab' again with SHA-256"},
		{"intermediate_not_ca_go.pcapng", 9415, CertNotAuthorizedToSign, "must be reissued as a CA certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src, err := capture.OpenFile(dir + "/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			cfg := pipeline.Config{}
			cfg.Analysis.TLSPorts = []uint16{tt.port}
			cfg.Diagnose.Roots = diagnose.PoolRoots(roots)
			rs, _, err := pipeline.Collect(context.Background(), src, cfg)
			if err != nil || len(rs) != 1 {
				t.Fatalf("%d connections, %v", len(rs), err)
			}
			r := rs[0]
			var chain []*x509.Certificate
			inter := x509.NewCertPool()
			for i, c := range r.Conn.Certificates {
				chain = append(chain, c.X509)
				if i > 0 {
					inter.AddCert(c.X509)
				}
			}
			// What crypto/tls's client returns for this chain.
			_, verr := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: r.Conn.CertificateFrame.Time, DNSName: "good.test"})
			if verr == nil {
				t.Fatal("the chain verifies")
			}
			err = &tls.CertificateVerificationError{UnverifiedCertificates: chain, Err: verr}
			class := Classify(err)
			if class != tt.class {
				t.Errorf("Classify(%v) = %s, want %s", err, class, tt.class)
			}
			if got := innermost(err); !strings.HasPrefix(got, "x509: certificate signed by unknown authority (possibly because of") {
				t.Errorf("innermost = %q, want crypto/x509's whole message", got)
			}
			o := &Outcome{Err: err, Class: class, Phase: PhaseTLS, Remote: r.Conn.Server, ServerName: "good.test", CustomRoots: true}
			w := &Wire{Result: &r, Chain: checkChain(r.Conn, roots)}
			c := Correlate(Target{Host: "good.test", Port: tt.port}, o, w, false, flagNames)
			if c.Agreement != Agree || !strings.Contains(c.Fix, tt.fix) || strings.Contains(c.Fix, "full chain") || strings.Contains(c.Fix, "root CA") {
				t.Errorf("correlation %s: cause %q, fix %q; want the wire's fix (%q)", c.Agreement, c.Cause, c.Fix, tt.fix)
			}
		})
	}
}
