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

// Scan is what the server accepts: one handshake per version, then with
// the newest version before TLS 1.3 it accepts one per cipher family, and
// one per key exchange group.
type Scan struct {
	Versions []VersionProbe
	// Families are tried with FamilyVersion, the newest TLS 1.0–1.2
	// version the server accepted (none when it accepted none).
	FamilyVersion uint16
	Families      []FamilyProbe
	// Groups are tried with GroupVersion: TLS 1.3 when the server accepts
	// it, else FamilyVersion with ECDHE suites.
	GroupVersion uint16
	Groups       []GroupProbe
	// Beyond are hand-written hellos offering what crypto/tls cannot,
	// tried when the server accepted no version from crypto/tls.
	Beyond []BeyondProbe
}

// Family is a set of TLS 1.0–1.2 cipher suites that servers and clients
// enable or drop together.
type Family string

// The families the scan tries. TLS 1.3's suites are the versions scan's
// TLS 1.3 handshake: crypto/tls cannot restrict them.
const (
	FamilyECDHE  Family = "ECDHE"            // forward-secret AEAD suites: what current clients offer first
	FamilyRSAKex Family = "RSA key exchange" // TLS_RSA_WITH_*: Go stopped offering them in 1.22
	Family3DES   Family = "3DES"             // Go stopped offering them in 1.23
	FamilyCBC    Family = "CBC"              // AES-CBC with HMAC, ECDHE or RSA
)

// familySuites are the suites of each family that crypto/tls can offer.
var familySuites = []struct {
	family Family
	suites []uint16
}{
	{FamilyECDHE, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}},
	{FamilyRSAKex, []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA256}},
	{Family3DES, []uint16{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}},
	{FamilyCBC, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA256}},
}

// scanGroups are the key exchange groups the scan tries, in crypto/tls's
// order of preference.
var scanGroups = []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}

// FamilyProbe is the scan's handshake with one cipher family.
type FamilyProbe struct {
	Family   Family
	Accepted bool
	Cipher   uint16 // the suite the server chose
}

// GroupProbe is the scan's handshake with one key exchange group.
type GroupProbe struct {
	Group    tls.CurveID
	Accepted bool
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

// Beyond is what a hand-written hello offers that crypto/tls cannot.
type Beyond string

// The offers beyond crypto/tls, tried in this order.
const (
	BeyondDHE      Beyond = "DHE suites"            // TLS 1.2 TLS_DHE_*: crypto/tls never implemented DHE
	BeyondSHA1     Beyond = "SHA-1 signatures"      // TLS 1.2 rsa_pkcs1_sha1, ecdsa_sha1: Go dropped them in 1.25
	BeyondGroups13 Beyond = "X448 and FFDHE groups" // TLS 1.3 groups crypto/tls does not implement
	BeyondCCM13    Beyond = "CCM suites"            // TLS 1.3 TLS_AES_128_CCM_*: not in crypto/tls
	// TLS 1.2 AES-256-CBC with SHA-384/SHA-256 MACs, Camellia, ARIA-GCM:
	// crypto/tls has only AES-128-CBC-SHA256 (offered by the CBC family).
	BeyondCBCSHA2 Beyond = "CBC-SHA2, Camellia, ARIA"
)

// BeyondProbe is the scan's hand-written hello with one offer beyond
// crypto/tls, and the server's answer.
type BeyondProbe struct {
	Offer   Beyond
	Version uint16
	// Accepted is set when the server answered with a ServerHello (or a
	// HelloRetryRequest) choosing from the offer.
	Accepted bool
	Cipher   uint16              // the suite the server chose
	Group    tlsparse.NamedGroup // TLS 1.3: the group it chose or asked a share for
	// Alert is the server's alert when it refused; HasAlert says there was
	// one. Err is any other failure to get an answer.
	Alert    tlsparse.AlertDescription
	HasAlert bool
	Err      error
}

// beyondHello is a hand-written hello and what it offers beyond
// crypto/tls.
type beyondHello struct {
	offer   Beyond
	version uint16
	hello   rawHello
}

// beyondHellos are the hand-written hellos, one per offer.
func beyondHellos(serverName string) []beyondHello {
	ecdhe := []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}
	tls13 := []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256}
	return []beyondHello{
		{BeyondDHE, tls.VersionTLS12, rawHello{serverName: serverName, groups: ecdhe, sigalgs: goSignatureSchemes,
			suites: []uint16{0x009E, 0x009F, 0xCCAA, 0x0067, 0x006B, 0x0033, 0x0039, 0x00A2, 0x00A3}}},
		{BeyondSHA1, tls.VersionTLS12, rawHello{serverName: serverName, groups: ecdhe, suites: allCipherSuites(),
			sigalgs: append(slices.Clone(goSignatureSchemes), tls.PKCS1WithSHA1, tls.ECDSAWithSHA1)}},
		{BeyondGroups13, tls.VersionTLS13, rawHello{serverName: serverName, tls13: true, suites: tls13, sigalgs: goSignatureSchemes,
			groups: []tls.CurveID{0x001E, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104}}}, // x448, ffdhe2048…8192
		{BeyondCCM13, tls.VersionTLS13, rawHello{serverName: serverName, tls13: true, suites: []uint16{0x1304, 0x1305}, sigalgs: goSignatureSchemes,
			groups: []tls.CurveID{tls.X25519}, x25519Share: true}},
		{BeyondCBCSHA2, tls.VersionTLS12, rawHello{serverName: serverName, groups: ecdhe, sigalgs: goSignatureSchemes,
			suites: []uint16{
				0xC024, 0xC028, 0x003D, // ECDHE-ECDSA-AES256-SHA384, ECDHE-RSA-AES256-SHA384, AES256-SHA256
				0xC05C, 0xC05D, 0xC060, 0xC061, 0xC050, 0xC051, // ARIA-GCM: ECDHE-ECDSA, ECDHE-RSA, RSA
				0xC072, 0xC073, 0xC076, 0xC077, 0x00BA, 0x00C0, 0x0041, 0x0084, // Camellia: ECDHE-ECDSA, ECDHE-RSA, RSA
			}}},
	}
}

// beyond tries each hand-written hello with a version the server did not
// refuse with protocol_version.
func (c *client) beyond(ctx context.Context, p *dialPlan, s *Scan) []BeyondProbe {
	var out []BeyondProbe
	for _, b := range beyondHellos(c.serverName()) {
		if !s.mayAccept(b.version) {
			continue
		}
		bp := BeyondProbe{Offer: b.offer, Version: b.version}
		a := c.tryRaw(ctx, p, &b.hello)
		switch {
		case a.hello != nil:
			bp.Accepted, bp.Cipher, bp.Group = true, uint16(a.hello.CipherSuite), a.hello.KeyShare
		case a.err != nil:
			bp.Err = a.err
		default:
			bp.Alert, bp.HasAlert = a.alert, true
		}
		out = append(out, bp)
	}
	return out
}

// mayAccept reports whether the version scan left v possible: the server
// refused it with another reason than protocol_version.
func (s *Scan) mayAccept(v uint16) bool {
	for _, vp := range s.Versions {
		if vp.Version == v {
			d, isAlert := vp.Class.Alert()
			return !isAlert || (d != tlsparse.AlertProtocolVersion && d != tlsparse.AlertInappropriateFallback)
		}
	}
	return false
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
	for _, vp := range s.Versions {
		if vp.Accepted && vp.Version < tls.VersionTLS13 {
			s.FamilyVersion = vp.Version
		}
	}
	if s.FamilyVersion != 0 {
		for _, f := range familySuites {
			accepted, cipher := c.tryHandshake(ctx, p, func(tc *tls.Config) {
				tc.MinVersion, tc.MaxVersion, tc.CipherSuites = s.FamilyVersion, s.FamilyVersion, f.suites
			})
			s.Families = append(s.Families, FamilyProbe{Family: f.family, Accepted: accepted, Cipher: cipher})
		}
	}
	if slices.Contains(s.Accepted(), tls.VersionTLS13) {
		s.GroupVersion = tls.VersionTLS13
	} else if slices.ContainsFunc(s.Families, func(f FamilyProbe) bool { return f.Family == FamilyECDHE && f.Accepted }) {
		s.GroupVersion = s.FamilyVersion
	}
	if s.GroupVersion != 0 {
		for _, g := range scanGroups {
			if g == tls.X25519MLKEM768 && s.GroupVersion != tls.VersionTLS13 {
				continue // a TLS 1.3 group
			}
			accepted, _ := c.tryHandshake(ctx, p, func(tc *tls.Config) {
				tc.MinVersion, tc.MaxVersion, tc.CurvePreferences = s.GroupVersion, s.GroupVersion, []tls.CurveID{g}
				if s.GroupVersion < tls.VersionTLS13 {
					tc.CipherSuites = familySuites[0].suites
				}
			})
			s.Groups = append(s.Groups, GroupProbe{Group: g, Accepted: accepted})
		}
	}
	if len(s.Accepted()) == 0 {
		s.Beyond = c.beyond(ctx, p, s)
	}
	return s
}

// tryHandshake makes one scan handshake with the scan's base
// configuration changed by mod, and reports whether the server chose its
// parameters (its hello and certificate arrived).
func (c *client) tryHandshake(ctx context.Context, p *dialPlan, mod func(*tls.Config)) (accepted bool, cipher uint16) {
	tc := c.tlsConfig(false)
	tc.CurvePreferences, tc.NextProtos, tc.InsecureSkipVerify = nil, nil, true
	tc.CipherSuites = nil
	mod(tc)
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		accepted, cipher = true, cs.CipherSuite
		return nil
	}
	hctx, cancel := context.WithTimeout(ctx, min(scanTimeout, c.cfg.MaxTime))
	defer cancel()
	var o Outcome
	if conn, err := c.connect(hctx, p, tc, &o); err == nil {
		conn.Close()
	}
	return accepted, cipher
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
		c.addNoneAccepted(s)
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
		if low := accepted[0]; low > hi {
			// The server's minimum is above the client's maximum.
			c.Fix = fmt.Sprintf("the server's minimum version (%s) is above the client's maximum (%s): raise the client's maximum (%s %s), or lower the server's minimum to %s",
				versionName(low), versionName(hi), cfg.Names.of(SettingMaxVersion), flagVersion(low), versionName(hi))
		} else {
			// The server's maximum is below the client's minimum.
			high := accepted[len(accepted)-1]
			c.Fix = fmt.Sprintf("the server's maximum version (%s) is below the client's minimum (%s): enable %s on the server (raise its maximum), or, insecurely, lower the client's minimum (%s %s)",
				versionName(high), versionName(lo), versionName(lo), cfg.Names.of(SettingMinVersion), flagVersion(high))
		}
	}
	if len(common) > 0 && (len(cfg.CipherSuites) > 0 || len(cfg.Curves) > 0) {
		note += ": the versions overlap, and the scan's handshakes (crypto/tls's default cipher suites and groups) were accepted, so the failure comes from " + cfg.Names.of(SettingCipherSuites) + " or " + cfg.Names.of(SettingCurves)
		if c.Fix == "" || len(cfg.CipherSuites) == 0 {
			c.Fix = "offer the default cipher suites and groups (drop " + pair(cfg.Names, SettingCipherSuites, SettingCurves) + "), or enable one of the client's on the server"
		}
	}
	c.Notes = append(c.Notes, note)
	c.addFamilies(s, cfg)
	for _, vp := range s.Versions {
		if !vp.Accepted || vp.Version < lo || vp.Version > hi || vp.Version == tls.VersionTLS13 || len(cfg.CipherSuites) == 0 {
			continue
		}
		if !slices.Contains(cfg.CipherSuites, vp.Cipher) {
			c.Notes = append(c.Notes, fmt.Sprintf("scan: with %s the server chose %s, which %s leaves out", versionName(vp.Version), tlsparse.CipherSuite(vp.Cipher), cfg.Names.of(SettingCipherSuites)))
		}
	}
}

// addNoneAccepted explains a scan in which the server chose no version.
// The versions it refused with another alert than protocol_version are
// versions it speaks: it refused there everything crypto/tls can offer
// (every suite it implements and its default groups), so it wants what
// crypto/tls lacks. Against TLS 1.3 alone that is a group or a signature
// algorithm, never RSA key exchange, which TLS 1.3 does not have.
func (c *Correlation) addNoneAccepted(s *Scan) {
	var spoken, refused []string
	var speaks13, speaksOlder bool
	for _, vp := range s.Versions {
		d, isAlert := vp.Class.Alert()
		switch {
		case isAlert && d != tlsparse.AlertProtocolVersion && d != tlsparse.AlertInappropriateFallback:
			spoken = append(spoken, fmt.Sprintf("%s (%s)", versionName(vp.Version), d))
			speaks13 = speaks13 || vp.Version == tls.VersionTLS13
			speaksOlder = speaksOlder || vp.Version < tls.VersionTLS13
		case isAlert:
			refused = append(refused, versionName(vp.Version))
		}
	}
	if len(spoken) == 0 {
		c.Notes = append(c.Notes, "scan: the server completed no handshake with any version from TLS 1.0 to TLS 1.3, even with every cipher suite crypto/tls implements: it may need a group, signature algorithm or client certificate the scan did not offer")
		return
	}
	groups := make([]string, len(scanGroups))
	for i, g := range scanGroups {
		groups[i] = g.String()
	}
	note := "scan: the server refused " + strings.Join(spoken, ", ") + " even with every cipher suite crypto/tls implements and its default groups (" + strings.Join(groups, ", ") + ")"
	if len(refused) > 0 {
		note += "; it does not speak " + strings.Join(refused, ", ") + " (protocol_version)"
	}
	c.Notes = append(c.Notes, note)
	if c.addBeyond(s) {
		return
	}
	switch {
	case speaks13 && !speaksOlder:
		c.Cause = "the server speaks only TLS 1.3 and refuses every handshake crypto/tls can make: TLS 1.3 has no RSA key exchange and every TLS 1.3 suite was offered, so it shares no key exchange group with crypto/tls (it may be limited to X448 or FFDHE groups, which crypto/tls does not implement), or no signature algorithm"
		c.Fix = "configure the server's key exchange groups to include X25519 or P-256, or enable its TLS 1.2 with ECDHE suites; the client cannot offer what crypto/tls does not implement; " +
			diagnose.ServerFix(diagnose.ChangeGroups, diagnose.ServerUnknown)
	case speaksOlder:
		c.Cause = "the server refuses every handshake crypto/tls can make, RSA key exchange included: it wants a cipher suite crypto/tls does not implement (DHE, CCM, CBC with SHA-384…), a key exchange group it lacks (X448, FFDHE) or a signature algorithm"
		c.Fix = "enable on the server ECDHE AEAD suites and the groups X25519 or P-256, or TLS 1.3; the client cannot offer what crypto/tls does not implement; " +
			diagnose.ServerFix(diagnose.ChangeCiphers, diagnose.ServerUnknown) + "; " + diagnose.ServerFix(diagnose.ChangeGroups, diagnose.ServerUnknown)
	}
}

// addBeyond states what the hand-written hellos found, and reports
// whether one explains the failure: the server accepted an offer crypto/tls
// cannot make.
func (c *Correlation) addBeyond(s *Scan) bool {
	var yes, no []string
	var causes, fixes []string
	for _, b := range s.Beyond {
		what := fmt.Sprintf("a %s hello offering %s", versionName(b.Version), b.Offer)
		switch {
		case b.Accepted && b.Offer == BeyondGroups13:
			yes = append(yes, fmt.Sprintf("%s (it asked for %s)", what, b.Group))
		case b.Accepted:
			yes = append(yes, fmt.Sprintf("%s (it chose %s)", what, tlsparse.CipherSuite(b.Cipher)))
		case b.HasAlert:
			no = append(no, fmt.Sprintf("%s (%s)", what, b.Alert))
		default:
			no = append(no, fmt.Sprintf("%s (%v)", what, b.Err))
		}
		if !b.Accepted {
			continue
		}
		switch b.Offer {
		case BeyondDHE:
			causes = append(causes, fmt.Sprintf("the server accepts only DHE suites with TLS 1.2 (it chose %s for a hand-written hello offering them), which crypto/tls does not implement", tlsparse.CipherSuite(b.Cipher)))
			fixes = append(fixes, "enable ECDHE suites on the server (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 works with its RSA certificate) or TLS 1.3: no Go client setting adds DHE; "+
				diagnose.ServerFix(diagnose.ChangeCiphers, diagnose.ServerUnknown))
		case BeyondSHA1:
			causes = append(causes, "the server can sign its TLS 1.2 key exchange only with SHA-1: it accepted a hand-written hello offering crypto/tls's signature algorithms plus rsa_pkcs1_sha1 and ecdsa_sha1, and refused crypto/tls's own; Go 1.25 and later no longer offer SHA-1 signatures")
			fixes = append(fixes, "configure the server to sign with SHA-256 or better (rsa_pss_rsae_sha256, rsa_pkcs1_sha256, ecdsa_secp256r1_sha256): a TLS stack or HSM that signs only with SHA-1 must be upgraded; "+
				"as a stop-gap, run the Go client with GODEBUG=tlssha1=1")
		case BeyondGroups13:
			causes = append(causes, fmt.Sprintf("the server's TLS 1.3 key exchange groups are ones crypto/tls does not implement: it asked for %s", b.Group))
			fixes = append(fixes, "add X25519 or P-256 to the server's key exchange groups; "+diagnose.ServerFix(diagnose.ChangeGroups, diagnose.ServerUnknown))
		case BeyondCCM13:
			causes = append(causes, fmt.Sprintf("the server's TLS 1.3 suites are only CCM ones (it chose %s), which crypto/tls does not implement", tlsparse.CipherSuite(b.Cipher)))
			fixes = append(fixes, "enable TLS_AES_128_GCM_SHA256 (TLS 1.3's mandatory suite) on the server; no Go client setting adds CCM")
		case BeyondCBCSHA2:
			chosen := tlsparse.CipherSuite(b.Cipher).String()
			causes = append(causes, fmt.Sprintf("the server's TLS 1.2 suites are ones crypto/tls does not implement: it chose %s for a hand-written hello offering AES-256-CBC with SHA-384/SHA-256 MACs, Camellia and ARIA suites, and refused every suite crypto/tls has", chosen))
			add := "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"
			if strings.Contains(chosen, "ECDSA") {
				add = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256"
			}
			fixes = append(fixes, "add to the server's suites one Go supports, e.g. "+add+", or enable TLS 1.3: no Go client setting adds "+chosen+"; "+
				diagnose.ServerFix(diagnose.ChangeCiphers, diagnose.ServerUnknown))
		}
	}
	if len(yes)+len(no) == 0 {
		return false
	}
	note := "scan, hand-written hellos offering what crypto/tls cannot: the server accepted " + orNone(yes) + "; it refused " + orNone(no)
	c.Notes = append(c.Notes, note)
	if len(causes) == 0 {
		return false
	}
	c.Cause, c.Fix = strings.Join(causes, "; and "), strings.Join(fixes, "; and ")
	return true
}

// flagVersion is a version as ParseVersion takes it: "1.3".
func flagVersion(v uint16) string {
	return strings.TrimPrefix(versionName(v), "TLS ")
}

// addFamilies states which cipher families and groups the server accepts,
// and for a client with crypto/tls's defaults whose failure is the
// server's want of ECDHE, says so and what to change.
func (c *Correlation) addFamilies(s *Scan, cfg *Config) {
	if len(s.Families) > 0 {
		var yes, no []string
		for _, f := range s.Families {
			if f.Accepted {
				yes = append(yes, fmt.Sprintf("%s (chose %s)", f.Family, tlsparse.CipherSuite(f.Cipher)))
			} else {
				no = append(no, string(f.Family))
			}
		}
		c.Notes = append(c.Notes, fmt.Sprintf("scan: with %s the server accepts %s; it refuses %s", versionName(s.FamilyVersion), orNone(yes), orNone(no)))
	}
	if len(s.Groups) > 0 {
		var yes, no []string
		for _, g := range s.Groups {
			if g.Accepted {
				yes = append(yes, g.Group.String())
			} else {
				no = append(no, g.Group.String())
			}
		}
		c.Notes = append(c.Notes, fmt.Sprintf("scan: with %s the server accepts the groups %s; it refuses %s", versionName(s.GroupVersion), orNone(yes), orNone(no)))
	}
	accepted := func(f Family) bool {
		return slices.ContainsFunc(s.Families, func(p FamilyProbe) bool { return p.Family == f && p.Accepted })
	}
	if len(s.Families) == 0 || accepted(FamilyECDHE) || slices.Contains(s.Accepted(), tls.VersionTLS13) || len(cfg.CipherSuites) > 0 {
		return
	}
	switch {
	case accepted(FamilyRSAKex):
		c.Cause = fmt.Sprintf("the server accepts only RSA key exchange suites (TLS_RSA_WITH_*) with %s, no ECDHE and no TLS 1.3; crypto/tls stopped offering RSA key exchange by default in Go 1.22", versionName(s.FamilyVersion))
		c.Fix = "enable ECDHE suites on the server (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 works with its RSA certificate) or TLS 1.3; as a stop-gap, offer an RSA suite here (" + cfg.Names.of(SettingCipherSuites) + " TLS_RSA_WITH_AES_128_GCM_SHA256) and run Go clients with GODEBUG=tlsrsakex=1"
	case accepted(Family3DES):
		c.Cause = fmt.Sprintf("the server accepts only 3DES suites with %s; crypto/tls stopped offering them by default in Go 1.23", versionName(s.FamilyVersion))
		c.Fix = "enable AES-GCM ECDHE suites on the server (3DES is broken: Sweet32); as a stop-gap, run Go clients with GODEBUG=tls3des=1"
	}
}

func orNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}
