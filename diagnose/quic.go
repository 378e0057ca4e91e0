package diagnose

import "github.com/tlsdiag/tlsdiag/analysis"

// quicVersion is the QUIC version the connection ended up with: the last
// its client used.
func quicVersion(c *analysis.Connection) string {
	q := c.QUIC
	if n := len(q.Versions); n > 0 {
		return q.Versions[n-1].String()
	}
	return q.Version.String()
}
