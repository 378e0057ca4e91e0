package probe

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// goClientError is the error Go's net/http client prints against a lab
// server of scenario s, as a Go program run under exec would.
func goClientError(t *testing.T, lab *tlslab.Lab, s tlslab.Scenario) string {
	t.Helper()
	srv, err := tlslab.Start(s, tlslab.WithLab(lab))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tr := &http.Transport{TLSClientConfig: lab.ClientConfig(), DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Addr().String())
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(fmt.Sprintf("https://%s:%d/", tlslab.GoodName, srv.Addr().Port()))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("%s: the request succeeded", s)
	}
	return err.Error()
}

// TestClassifyStderrValidity: crypto/x509 words both ends of the validity
// period alike ("certificate has expired or is not yet valid"); the
// detail after it decides, and the bare words of that detail in another
// line decide nothing.
func TestClassifyStderrValidity(t *testing.T) {
	lab, err := tlslab.NewLab(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		line string
		want Class
	}{
		{"Go, not yet valid", "Get: " + goClientError(t, lab, tlslab.CertNotYetValid), CertNotYetValid},
		{"Go, expired", "Get: " + goClientError(t, lab, tlslab.CertExpired), CertExpired},
		{"Go, as the audit's client printed it", `error: Get "https://good.test:8444/": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-12-05T15:16:13Z is before 2035-01-01T00:00:00Z`, CertNotYetValid},
		{"curl, expired", "curl: (60) SSL certificate problem: certificate has expired", CertExpired},
		{"curl, not yet valid", "curl: (60) SSL certificate problem: certificate is not yet valid", CertNotYetValid},
		{"not about certificates", "retrying: the next attempt is after 2 s", ClassNone},
		{"not about certificates either", "cache entry is before its deadline", ClassNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := classifyStderr([]string{tt.line}); got != tt.want {
				t.Errorf("classifyStderr(%q) = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}
