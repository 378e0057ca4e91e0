package probe

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// DefaultMaxRedirects is how many redirects Follow follows at most when
// its limit is not positive: curl's --max-redirs default.
const DefaultMaxRedirects = 50

// Redirect is one request a followed redirect left behind: its URL, where
// it connected and the server's answer.
type Redirect struct {
	URL    string
	Remote netip.AddrPort
	// Status is the answer's ("HTTP/2.0 302 Found"), Location its
	// Location header as the server sent it.
	Status   string
	Location string
}

// Follow makes the probe and, as curl -L does, follows each redirect (a
// 3xx answer with a Location header) with a probe of its own, at most max
// of them (DefaultMaxRedirects when max is negative; 0 follows none but
// still reports a redirect as the limit reached, as curl's --max-redirs 0). The Result is
// the last request's, its own connection captured and judged, so a
// failure after a redirect blames the connection that failed; the earlier
// requests are in Result.Redirects. cfg.Pcap receives the last request's
// capture, whose frame numbers the report gives.
//
// Each redirect keeps the configuration, except as curl does: a 303, or a
// 301 or 302 answering a POST, is followed with GET and no body (a HEAD
// stays HEAD); Authorization, Cookie and Host headers and
// Config.ServerName are not sent to another host.
func Follow(ctx context.Context, cfg Config, max int) (*Result, error) {
	if max < 0 {
		max = DefaultMaxRedirects
	}
	pcap := cfg.Pcap
	var hops []Redirect
	for {
		var buf bytes.Buffer
		if pcap != nil {
			cfg.Pcap = &buf
		}
		res, err := Run(ctx, cfg)
		if err != nil {
			return nil, err
		}
		next, loc, ok := redirected(&cfg, res)
		if ok && len(hops) == max {
			res.RedirectLimitReached = true
			res.Correlation.Notes = append(res.Correlation.Notes, fmt.Sprintf("stopped after %d redirects, the limit: this answer is one more redirect (Location %s)", max, loc))
		}
		if n := len(hops); n > 0 && cfg.Target.Plain() && !strings.HasPrefix(hops[n-1].URL, "http://") {
			res.Correlation.Notes = append(res.Correlation.Notes, "a redirect led from https:// to plain http://: this request and its answer were not encrypted")
		}
		if !ok || len(hops) == max || ctx.Err() != nil {
			res.Redirects = hops
			if pcap != nil && buf.Len() > 0 {
				if _, err := pcap.Write(buf.Bytes()); err != nil {
					return nil, fmt.Errorf("probe: writing the capture: %w", err)
				}
			}
			return res, nil
		}
		hops = append(hops, Redirect{URL: cfg.Target.String(), Remote: res.Client.Remote, Status: res.Client.HTTP.Proto + " " + res.Client.HTTP.Status, Location: loc})
		cfg = next
	}
}

// redirected returns the configuration of the request a redirect in res
// asks for, and the Location header; ok is false when res is no redirect
// to follow (no 3xx, no Location, or one that is no http:// or https://
// URL).
func redirected(cfg *Config, res *Result) (next Config, loc string, ok bool) {
	h := res.Client.HTTP
	if res.Client.Err != nil || h == nil || h.StatusCode < 300 || h.StatusCode > 399 || h.Location == "" || cfg.Target.URL == nil {
		return Config{}, "", false
	}
	u, err := cfg.Target.URL.Parse(h.Location)
	if err != nil {
		return Config{}, h.Location, false
	}
	t, err := ParseTarget(u.String())
	if err != nil {
		return Config{}, h.Location, false
	}
	next = *cfg
	next.Target = t
	method := cfg.Method
	if method == "" && cfg.Body != nil {
		method = http.MethodPost
	}
	switch {
	case h.StatusCode == http.StatusSeeOther && method != http.MethodHead,
		(h.StatusCode == http.StatusMovedPermanently || h.StatusCode == http.StatusFound) && method == http.MethodPost:
		next.Method, next.Body = "", nil
	}
	if !strings.EqualFold(t.Host, cfg.Target.Host) {
		next.ServerName = ""
		if cfg.Header != nil {
			next.Header = cfg.Header.Clone()
			next.Header.Del("Authorization")
			next.Header.Del("Cookie")
			next.Header.Del("Host")
		}
	}
	return next, h.Location, true
}

// addrText is an address as the reports write it, "" when unknown.
func addrText(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
