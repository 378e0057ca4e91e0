package report

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Summary counts what a set of results shows.
//
// Field reference (the json format's "summary" object):
//
//   - connections (number): connections reported.
//   - failed (number): those whose verdict is not ok, not counting those
//     not judged.
//   - not_judged (number, omitted when 0): connections that began before
//     the capture (incomplete_capture without their start): neither ok nor
//     failed, and they do not make the exit status 1.
//   - verdicts (list of {name, count}): connections per verdict category, in
//     the order of the category list, categories with no connection left out.
//   - versions (list of {name, count}): connections per negotiated version,
//     newest first; connections that negotiated none are not counted.
//   - ciphers (list of {name, count}): connections per negotiated cipher
//     suite (IANA name), most frequent first, then by name.
//   - version_matrix (list of {offered, negotiated, count}): what clients
//     offered against what was negotiated. offered is the client's range,
//     "TLS 1.0–TLS 1.2" (en dash), or one version, "TLS 1.2"; negotiated is
//     a version or "rejected" when the handshake ended before the server
//     chose one. Rows by highest offered version first, then lowest; within
//     a row newest negotiated first, "rejected" last. Connections without a
//     ClientHello are not counted.
//   - notes (list of strings): remarks about the capture as a whole, e.g.
//     connections dropped by a cap, frames cut by the snap length, or
//     capture time that goes back (the frame where it first does and the
//     largest step: times across a step are not exact).
type Summary struct {
	Connections   int          `json:"connections"`
	Failed        int          `json:"failed"`
	NotJudged     int          `json:"not_judged,omitempty"`
	Verdicts      []Count      `json:"verdicts"`
	Versions      []Count      `json:"versions"`
	Ciphers       []Count      `json:"ciphers"`
	VersionMatrix []MatrixCell `json:"version_matrix"`
	// FailedByJA4 counts the failed connections per client JA4
	// fingerprint, most first: "14 failures, all from t12d…".
	FailedByJA4 []Count  `json:"failed_by_ja4"`
	Notes       []string `json:"notes"`
}

// Count is how many connections have a value.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// MatrixCell counts the connections whose client offered Offered and
// that negotiated Negotiated.
type MatrixCell struct {
	Offered    string `json:"offered"`
	Negotiated string `json:"negotiated"`
	Count      int    `json:"count"`
}

// Rejected is the negotiated value of the version matrix for connections
// where the server chose no version.
const Rejected = "rejected"

// Summarize counts results. It is a pure function: the same results, in
// any order, give the same Summary.
func Summarize(results []pipeline.Result) Summary {
	var t tally
	for _, r := range results {
		if r.Conn != nil {
			t.add(r)
		}
	}
	return t.summary()
}

// tally accumulates a Summary one result at a time, so that a Stream need
// not keep its results.
type tally struct {
	connections, failed, notJudged int
	// afterHandshake counts the ok connections whose request failed
	// after the handshake (a verdict with a headline).
	afterHandshake int
	verdicts       map[diagnose.Category]int
	versions       map[tlsparse.Version]int
	ciphers        map[tlsparse.CipherSuite]int
	matrix         map[matrixKey]int
	failedJA4      map[string]int
	// decryption counts connections per key log outcome; firstNoKey is
	// the number and client random of the first without a key.
	decryption       [5]int
	firstNoKey       int
	firstNoKeyRandom []byte
	// noKeyECH counts the connections without a key whose client offered
	// Encrypted Client Hello: their secrets may be under the hidden inner
	// ClientHello's random.
	noKeyECH int
}

// matrixKey is a cell of the version matrix; neg is 0 for rejected.
type matrixKey struct {
	lo, hi, neg tlsparse.Version
}

func (t *tally) add(r pipeline.Result) {
	if t.verdicts == nil {
		t.verdicts = map[diagnose.Category]int{}
		t.versions = map[tlsparse.Version]int{}
		t.ciphers = map[tlsparse.CipherSuite]int{}
		t.matrix = map[matrixKey]int{}
		t.failedJA4 = map[string]int{}
	}
	c := r.Conn
	t.connections++
	if r.Verdict.NotJudged {
		t.notJudged++
	}
	if r.Verdict.Failed() {
		t.failed++
		if ja4 := c.Fingerprints().JA4; ja4 != "" {
			t.failedJA4[ja4]++
		}
	}
	if r.Verdict.Category == diagnose.OK && r.Verdict.Headline != "" {
		t.afterHandshake++
	}
	t.verdicts[r.Verdict.Category]++
	dec := c.Decryption
	if c.Proxy != nil && c.Proxy.TLS != nil {
		// The key log opened the TLS to an https:// proxy: the
		// connection's. Whether it also held the target's handshake in
		// the tunnel, the verdict tells.
		dec = analysis.DecryptionDecrypted
	}
	if int(dec) < len(t.decryption) {
		t.decryption[dec]++
	}
	if dec == analysis.DecryptionNoKey && t.firstNoKey == 0 && c.ClientHello != nil {
		t.firstNoKey, t.firstNoKeyRandom = t.connections, c.ClientHello.Random
	}
	if dec == analysis.DecryptionNoKey && c.ClientHello != nil && c.ClientHello.ECH {
		t.noKeyECH++
	}
	if c.Version != 0 {
		t.versions[c.Version]++
		if c.ServerHelloSSLv2 == nil { // SSLv2 cipher kinds are no TLS suites
			t.ciphers[c.Cipher]++
		}
	}
	if offered := c.OfferedVersions(); len(offered) > 0 {
		k := matrixKey{lo: offered[0], hi: offered[0], neg: c.Version}
		for _, v := range offered {
			if versionRank(v) < versionRank(k.lo) {
				k.lo = v
			}
			if versionRank(v) > versionRank(k.hi) {
				k.hi = v
			}
		}
		t.matrix[k]++
	}
}

func (t *tally) summary() Summary {
	s := Summary{
		Connections:   t.connections,
		Failed:        t.failed,
		NotJudged:     t.notJudged,
		Verdicts:      []Count{},
		Versions:      []Count{},
		Ciphers:       []Count{},
		VersionMatrix: []MatrixCell{},
		FailedByJA4:   []Count{},
		Notes:         []string{},
	}
	if n := t.afterHandshake; n > 0 {
		s.Notes = append(s.Notes, prose.Plural(n,
			"1 connection completed its TLS handshake, then a request on it went unanswered or was cut short by a close: its verdict stays ok, and its row says which",
			fmt.Sprintf("%d connections completed their TLS handshakes, then a request on each went unanswered or was cut short by a close: their verdicts stay ok, and each row says which", n)))
	}
	for ja4, n := range t.failedJA4 {
		s.FailedByJA4 = append(s.FailedByJA4, Count{ja4, n})
	}
	sortCounts(s.FailedByJA4)
	for _, cat := range diagnose.Categories {
		if n := t.verdicts[cat]; n > 0 {
			s.Verdicts = append(s.Verdicts, Count{string(cat), n})
		}
	}
	// Categories newer than this package's list still count, after the
	// known ones, by name.
	var unknown []Count
	for cat, n := range t.verdicts {
		if !slices.Contains(diagnose.Categories, cat) {
			unknown = append(unknown, Count{string(cat), n})
		}
	}
	slices.SortFunc(unknown, func(a, b Count) int { return cmp.Compare(a.Name, b.Name) })
	s.Verdicts = append(s.Verdicts, unknown...)

	versions := make([]tlsparse.Version, 0, len(t.versions))
	for v := range t.versions {
		versions = append(versions, v)
	}
	slices.SortFunc(versions, func(a, b tlsparse.Version) int { return cmp.Compare(versionRank(b), versionRank(a)) })
	for _, v := range versions {
		s.Versions = append(s.Versions, Count{v.String(), t.versions[v]})
	}

	for cs, n := range t.ciphers {
		s.Ciphers = append(s.Ciphers, Count{cs.String(), n})
	}
	sortCounts(s.Ciphers)

	keys := make([]matrixKey, 0, len(t.matrix))
	for k := range t.matrix {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b matrixKey) int {
		if c := cmp.Compare(versionRank(b.hi), versionRank(a.hi)); c != 0 {
			return c
		}
		if c := cmp.Compare(versionRank(b.lo), versionRank(a.lo)); c != 0 {
			return c
		}
		return cmp.Compare(negRank(b.neg), negRank(a.neg))
	})
	for _, k := range keys {
		s.VersionMatrix = append(s.VersionMatrix, MatrixCell{Offered: offeredRange(k.lo, k.hi), Negotiated: negotiatedName(k.neg), Count: t.matrix[k]})
	}
	return s
}

// offeredRange names a client's offer: "TLS 1.0–TLS 1.2", or one version.
func offeredRange(lo, hi tlsparse.Version) string {
	if lo == hi {
		return lo.String()
	}
	return lo.String() + "–" + hi.String()
}

func negotiatedName(v tlsparse.Version) string {
	if v == 0 {
		return Rejected
	}
	return v.String()
}

// negRank orders negotiated versions, newest first and rejected last when
// sorted descending.
func negRank(v tlsparse.Version) int {
	if v == 0 {
		return -1
	}
	return versionRank(v)
}

// versionRank orders versions by age. The wire values order SSL 2.0 to
// TLS 1.3 correctly, but TLS 1.3 drafts (0x7fXX, and Facebook's 0xfbXX)
// and Google's experiment versions (0x7e0X) came just before TLS 1.3, not
// after it.
func versionRank(v tlsparse.Version) int {
	switch {
	case v>>8 == 0x7f, v>>8 == 0x7e, v>>8 == 0xfb:
		return int(tlsparse.VersionTLS13)<<8 - 0x100 + int(v&0xff)
	case v <= tlsparse.VersionTLS13:
		return int(v) << 8
	}
	// Unknown values (DTLS, garbage): after everything, by value.
	return int(tlsparse.VersionTLS13)<<8 + int(v)
}

// sortCounts orders counts most first, then by name.
func sortCounts(cs []Count) {
	slices.SortFunc(cs, func(a, b Count) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
}

// keyLogNote says what a key log of secrets secrets did for the
// connections counted: "key log: 12 secrets, 3 connections opened, 1
// without a key (first: #3, client random ab12cd34…)". It is empty when
// no connection had a key log to try.
func (t *tally) keyLogNotes(secrets int) []string {
	opened, noKey := t.decryption[analysis.DecryptionDecrypted], t.decryption[analysis.DecryptionNoKey]
	unsupported, failed := t.decryption[analysis.DecryptionUnsupportedCipher], t.decryption[analysis.DecryptionFailed]
	if opened+noKey+unsupported+failed == 0 {
		return nil
	}
	note := fmt.Sprintf("key log: %s, %s opened", prose.Count(secrets, "secret"), prose.Count(opened, "connection"))
	if noKey > 0 {
		note += fmt.Sprintf(", %d without a key (first: #%d, client random %x…)", noKey, t.firstNoKey, t.firstNoKeyRandom[:min(8, len(t.firstNoKeyRandom))])
	}
	if unsupported > 0 {
		note += fmt.Sprintf(", %d with a cipher suite tlsdiag does not decrypt", unsupported)
	}
	if failed > 0 {
		note += fmt.Sprintf(", %d whose records the secrets did not open", failed)
	}
	notes := []string{note}
	if opened+unsupported+failed == 0 && t.noKeyECH < noKey {
		notes = append(notes, "this key log belongs to other connections: none of its secrets is for a client random of this capture")
	}
	if t.noKeyECH > 0 {
		notes = append(notes, fmt.Sprintf("%s without a key offered Encrypted Client Hello: where the server accepted it, the key log's secrets are under the inner ClientHello's random, which is encrypted, so tlsdiag cannot open them",
			prose.Count(t.noKeyECH, "connection")))
	}
	return notes
}
