package probe

import (
	"strconv"
	"strings"

	"github.com/tlsdiag/tlsdiag/diagnose"
)

// socksReason is why a SOCKS proxy did not open the tunnel, as the
// client's error says it.
type socksReason uint8

const (
	// socksOther: reaching or talking to the proxy failed otherwise.
	socksOther socksReason = iota
	// socksUpstream: the proxy could not reach the target (RFC 1928 reply
	// 0x01 general failure, 0x03 network unreachable, 0x04 host
	// unreachable, 0x05 connection refused, 0x06 TTL expired).
	socksUpstream
	// socksRuleset: the proxy's rules forbid the destination (0x02).
	socksRuleset
	// socksOtherRefusal: the proxy refused the request for another reason (an
	// unsupported command or address type, a code RFC 1928 does not
	// define).
	socksOtherRefusal
	// socksAuth: the proxy accepts none of the client's authentication
	// methods, or rejected its user name and password (RFC 1929).
	socksAuth
)

// socksFailure is a SOCKS proxy's refusal read from a client's error.
type socksFailure struct {
	// proxy and target are "host:port" ("" when the error does not say).
	proxy, target string
	reason        socksReason
	// detail is the client's words for the reason.
	detail string
}

// goSOCKSPattern reads the error of Go's SOCKS dialer (net/http's bundle
// of golang.org/x/net/internal/socks): a *net.OpError "socks connect tcp
// PROXY->TARGET: REASON".
var goSOCKSPattern = lazyRegexp(`socks connect tcp[46]? (\S+?)->(\S+?): (.+)$`)

// curlSOCKSPattern reads curl's refusal with the reply code: "(97) Can't
// complete SOCKS5 connection to HOST. (5)".
var curlSOCKSPattern = lazyRegexp(`(?i)can't complete socks5 connection to (\S+?)\.? \((\d+)\)`)

// socksReplies are the words Go's dialer gives the RFC 1928 reply codes
// ("unknown error " and the code's text), with what each means.
var socksReplies = []struct {
	text   string
	reason socksReason
}{
	{"general socks server failure", socksUpstream},
	{"connection not allowed by ruleset", socksRuleset},
	{"network unreachable", socksUpstream},
	{"host unreachable", socksUpstream},
	{"connection refused", socksUpstream},
	{"ttl expired", socksUpstream},
}

// socksAuthTexts are the refusals of the client's credentials: Go's
// ("no acceptable authentication methods", "username/password
// authentication failed") and curl's ("No authentication method was
// acceptable", "User was rejected by the SOCKS5 server").
var socksAuthTexts = []string{
	"no acceptable authentication methods",
	"username/password authentication failed",
	"no authentication method was acceptable",
	"user was rejected by the socks5 server",
}

// readSOCKSFailure reads a SOCKS proxy's refusal from a client's error
// message; ok is false when the message is no SOCKS error.
func readSOCKSFailure(msg string) (f socksFailure, ok bool) {
	l := strings.ToLower(msg)
	if m := goSOCKSPattern().FindStringSubmatch(msg); m != nil {
		f, ok = socksFailure{proxy: m[1], target: m[2], detail: m[3]}, true
		if rest, found := strings.CutPrefix(strings.ToLower(m[3]), "unknown error "); found {
			f.reason = socksOtherRefusal
			for _, r := range socksReplies {
				if rest == r.text {
					f.reason = r.reason
				}
			}
		}
	}
	if m := curlSOCKSPattern().FindStringSubmatch(msg); m != nil {
		f, ok = socksFailure{target: m[1], detail: "SOCKS5 reply " + m[2]}, true
		switch code, _ := strconv.Atoi(m[2]); code {
		case 1, 3, 4, 5, 6:
			f.reason = socksUpstream
		case 2:
			f.reason = socksRuleset
		default:
			f.reason = socksOtherRefusal
		}
	}
	for _, t := range socksAuthTexts {
		if strings.Contains(l, t) {
			if !ok {
				f = socksFailure{detail: msg[strings.Index(l, t):][:len(t)]}
			}
			f.reason, ok = socksAuth, true
		}
	}
	return f, ok
}

// refused reports whether the proxy answered and refused the tunnel.
func (f socksFailure) refused() bool { return f.reason != socksOther }

// category is the wire's verdict for the proxy's refusal.
func (f socksFailure) category() diagnose.Category {
	switch f.reason {
	case socksUpstream:
		return diagnose.ProxyUpstreamFailed
	case socksAuth:
		return diagnose.ProxyAuthRequired
	}
	return diagnose.ProxyRefused
}

// explain says what the proxy's refusal means and what to change; proxy
// and target name them when the error does not ("" when nothing does).
func (f socksFailure) explain(proxy, target string) (cause, fix string) {
	if f.proxy != "" {
		proxy = f.proxy
	}
	if f.target != "" {
		target = f.target
	}
	name, url := "the SOCKS proxy", "socks5://user:password@HOST:PORT"
	if proxy != "" {
		name, url = name+" "+proxy, "socks5://user:password@"+proxy
	}
	switch f.reason {
	case socksUpstream:
		return name + " could not reach " + target + ": " + f.detail,
			"the proxy's own connection to the target failed: check that the server runs and listens on that port, and that the proxy's host can reach it (its routes, firewall, DNS)"
	case socksAuth:
		return name + " refused the client's credentials: " + f.detail,
			"give the proxy the user name and password it wants (user:password@ in the proxy URL, " + url + ")"
	case socksRuleset:
		return name + " refused to open a tunnel to " + target + ": " + f.detail,
			"the proxy's rules forbid this destination: ask its administrator, or bypass it with NO_PROXY"
	}
	return name + " refused to open a tunnel to " + target + ": " + f.detail,
		"the proxy does not support what the client asked (its log says why): try another proxy, or bypass it with NO_PROXY"
}
