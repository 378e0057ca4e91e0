package diagnose

// A client that refuses a certificate as expired (or not yet valid) when
// every certificate of the chain is valid at the capture's own time: the
// certificate is fine, the client's clock is not.

import (
	"fmt"
	"time"
)

// ClientClockSkew: the client refused as expired (or not yet valid) a
// chain valid at the capture's time: its clock is wrong.
const ClientClockSkew Category = "client_clock_skew"

var clientClockSkewCategory = categorySpec{
	name:          ClientClockSkew,
	meaning:       "the client refused the certificate as expired (alert `certificate_expired`, which OpenSSL also sends for \"not yet valid\") although every certificate of the chain was valid at the capture's time, and the chain does not end at a cross-signed root whose old root, not known here as valid, the client may hold in an expired copy (that is `cert_expired`); gives the chain's validity window, outside which the client's clock must be",
	serverFix:     "— (the client's clock)",
	clientClasses: []string{"cert_expired", "cert_not_yet_valid"},
}

// clientClockSkew explains a client's certificate_expired about a chain
// whose dates cover the capture time; rejected says how the client
// rejected it. TLS has one alert for both directions of a wrong clock
// (OpenSSL sends certificate_expired for a certificate not yet valid
// too), so the summary gives the chain's validity window: the client's
// clock is outside it.
func (d *diagnosis) clientClockSkew(rejected string) (summary, fix string) {
	at := d.certTime()
	summary = fmt.Sprintf("%s as expired, but every certificate of the chain was valid at the capture's time (%s)", rejected, stamp(at))
	if from, until, ok := d.chainWindow(); ok {
		summary += fmt.Sprintf(", and the chain is valid from %s to %s: the client's clock must be outside that window", stamp(from), stamp(until))
	}
	summary += " (likely: the client's clock is wrong; less likely, the client checks the dates against another time on purpose, e.g. openssl -attime, or the capture's own clock is wrong — its other timestamps would then be off too)"
	fix = "set the client machine's clock right (NTP, or the hardware clock of a device that boots without one); nothing changes on the server"
	return summary, fix
}

// chainWindow is the span in which every certificate of the chain is
// valid.
func (d *diagnosis) chainWindow() (from, until time.Time, ok bool) {
	for _, c := range d.chain {
		if c == nil {
			continue
		}
		if !ok || c.NotBefore.After(from) {
			from = c.NotBefore
		}
		if !ok || c.NotAfter.Before(until) {
			until = c.NotAfter
		}
		ok = true
	}
	return from, until, ok
}
