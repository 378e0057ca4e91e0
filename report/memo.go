package report

import (
	"bytes"
	"crypto/x509"
	"sync"

	"github.com/tlsdiag/tlsdiag/analysis"
)

// certMemo remembers the output form of certificates. The analysis shares
// one *x509.Certificate between the connections that received the same
// certificate, and converting it again for each (names, fingerprint, the
// self-signature check) was a third of the time of writing a capture of
// short connections. It is safe for concurrent use and bounded.
type certMemo struct {
	mu sync.Mutex
	m  map[*x509.Certificate]Certificate
}

const maxCertMemo = 4096

// certificate is newCertificate, remembered. The output's slices are
// shared between the connections: nothing writes to them.
func (cm *certMemo) certificate(c analysis.Certificate) Certificate {
	if cm == nil || c.X509 == nil || !bytes.Equal(c.X509.Raw, c.DER) {
		return newCertificate(c)
	}
	cm.mu.Lock()
	out, ok := cm.m[c.X509]
	cm.mu.Unlock()
	if ok {
		return out
	}
	out = newCertificate(c)
	cm.mu.Lock()
	if cm.m == nil || len(cm.m) >= maxCertMemo {
		cm.m = make(map[*x509.Certificate]Certificate)
	}
	cm.m[c.X509] = out
	cm.mu.Unlock()
	return out
}
