package probe

import (
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// scanTimeout bounds each of the scan's handshakes.
const scanTimeout = 5 * time.Second

// scanVersions are the versions the scan tries, oldest first: all that
// crypto/tls speaks as a client.
var scanVersions = []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}

// Scan is what the server accepts, one handshake per version.
type Scan struct {
	Versions []VersionProbe
}

// VersionProbe is the scan's handshake with one version.
type VersionProbe struct {
	Version uint16
	// Accepted is set when the server chose this version (the handshake
	// may still have failed later, e.g. for want of a client certificate).
	Accepted bool
	// Cipher is the suite the server chose when it accepted.
	Cipher uint16
	// Class says why the server did not accept; "" when it did.
	Class Class
	Err   error
}

// Accepted lists the versions the server accepted, oldest first.
func (s *Scan) Accepted() []uint16 {
	var vs []uint16
	for _, v := range s.Versions {
		if v.Accepted {
			vs = append(vs, v.Version)
		}
	}
	return vs
}

// scanWanted reports whether the failure is about versions or cipher
// suites, which a scan can explain: by the wire's verdict when there is one
// (a handshake_failure alert may also be a missing client certificate),
// else by the client's error.
func scanWanted(o *Outcome, w *Wire) bool {
	if w.Result != nil {
		switch w.Result.Verdict.Category {
		case diagnose.VersionMismatch, diagnose.NoSharedCipher, diagnose.HandshakeFailure:
			return true
		}
		return false
	}
	switch o.Class {
	case AlertClass(tlsparse.AlertProtocolVersion), AlertClass(tlsparse.AlertHandshakeFailure),
		AlertClass(tlsparse.AlertInsufficientSecurity), ClientRejectedVersion, ClientRejectedCipher:
		return true
	}
	return false
}

// scan makes one handshake per TLS version with every cipher suite
// crypto/tls implements and no certificate verification: the question is
// what the server accepts, not whether it is trusted. The scan's
// connections are made after the capture stopped.
func (c *client) scan(ctx context.Context, p *dialPlan) *Scan {
	all := allCipherSuites()
	s := &Scan{}
	for _, v := range scanVersions {
		tc := c.tlsConfig(false)
		tc.MinVersion, tc.MaxVersion = v, v
		tc.CipherSuites = all
		tc.CurvePreferences = nil
		tc.NextProtos = nil
		tc.InsecureSkipVerify = true
		vp := VersionProbe{Version: v}
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			// Called once the server's hello and certificate are in: the
			// server chose this version.
			vp.Accepted, vp.Cipher = true, cs.CipherSuite
			return nil
		}
		hctx, cancel := context.WithTimeout(ctx, min(scanTimeout, c.cfg.MaxTime))
		var o Outcome
		conn, err := c.connect(hctx, p, tc, &o)
		cancel()
		if err == nil {
			conn.Close()
		}
		if !vp.Accepted {
			vp.Err, vp.Class = err, o.Class
		}
		s.Versions = append(s.Versions, vp)
	}
	return s
}

func allCipherSuites() []uint16 {
	var ids []uint16
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, cs := range list {
			if !slices.Contains(cs.SupportedVersions, tls.VersionTLS13) {
				ids = append(ids, cs.ID)
			}
		}
	}
	return ids
}

// addScan states the scan's findings in the correlation: which versions
// the server accepts against which the client allows, and for a cipher
// failure the suite the server chose instead.
func (c *Correlation) addScan(s *Scan, cfg *Config) {
	accepted := s.Accepted()
	if len(accepted) == 0 {
		c.Notes = append(c.Notes, "scan: the server completed no handshake with any version from TLS 1.0 to TLS 1.3, even with every cipher suite crypto/tls implements: it may need a group, signature algorithm or client certificate the scan did not offer")
		return
	}
	lo, hi := cfg.MinVersion, cfg.MaxVersion
	if lo == 0 {
		lo = tls.VersionTLS12
	}
	if hi == 0 {
		hi = tls.VersionTLS13
	}
	var serverSays string
	if len(accepted) == 1 {
		serverSays = "the server accepts only " + versionName(accepted[0])
	} else {
		names := make([]string, len(accepted))
		for i, v := range accepted {
			names[i] = versionName(v)
		}
		serverSays = "the server accepts " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
	var clientSays string
	switch {
	case cfg.MinVersion == 0:
		// The lower bound is crypto/tls's default, not a choice.
		clientSays = "your client allows at most " + versionName(hi)
	case lo == hi:
		clientSays = "your client allows only " + versionName(lo)
	case cfg.MaxVersion == 0:
		clientSays = "your client allows at least " + versionName(lo)
	default:
		clientSays = fmt.Sprintf("your client allows %s to %s", versionName(lo), versionName(hi))
	}
	note := "scan: " + serverSays + "; " + clientSays
	common := slices.DeleteFunc(slices.Clone(accepted), func(v uint16) bool { return v < lo || v > hi })
	if len(common) == 0 {
		note += ": no version in common"
		if accepted[len(accepted)-1] > hi {
			c.Fix = fmt.Sprintf("allow %s on the client (--tls-max %s)", versionName(accepted[len(accepted)-1]), flagVersion(accepted[len(accepted)-1]))
		} else {
			c.Fix = fmt.Sprintf("enable %s on the server (or, insecurely, allow %s on the client with --tls-min %s)", versionName(lo), versionName(accepted[len(accepted)-1]), flagVersion(accepted[len(accepted)-1]))
		}
	}
	if len(common) > 0 && (len(cfg.CipherSuites) > 0 || len(cfg.Curves) > 0) {
		note += ": the versions overlap, and the scan's handshakes (crypto/tls's default cipher suites and groups) were accepted, so the failure comes from --ciphers or --curves"
		if c.Fix == "" || len(cfg.CipherSuites) == 0 {
			c.Fix = "offer the default cipher suites and groups (drop --ciphers/--curves), or enable one of the client's on the server"
		}
	}
	c.Notes = append(c.Notes, note)
	for _, vp := range s.Versions {
		if !vp.Accepted || vp.Version < lo || vp.Version > hi || vp.Version == tls.VersionTLS13 || len(cfg.CipherSuites) == 0 {
			continue
		}
		if !slices.Contains(cfg.CipherSuites, vp.Cipher) {
			c.Notes = append(c.Notes, fmt.Sprintf("scan: with %s the server chose %s, which --ciphers leaves out", versionName(vp.Version), tlsparse.CipherSuite(vp.Cipher)))
		}
	}
}

// flagVersion is a version as --tls-min/--tls-max take it: "1.3".
func flagVersion(v uint16) string {
	return strings.TrimPrefix(versionName(v), "TLS ")
}
