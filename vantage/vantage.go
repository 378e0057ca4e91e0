// Package vantage aligns two captures of the same connections taken at two
// points of their path — at the client and at the server, say — and says
// what changed or was lost between them.
//
// Connections are paired first by addresses, ports and the client's
// initial sequence number (the same TCP connection at both points), then
// by the ClientHello's random (a hello passed on unchanged through a
// NAT), then by server name, server port and time (a proxy that opened a
// connection of its own). Each pair is then compared: a hello that did
// not arrive, a certificate or a ClientHello that is not the one sent, a
// reset or an alert that one end sent and the other never got, or got
// without the other end sending it. It is a pure function of the records.
package vantage

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// Match says how the two records of a pair were found to be one
// connection.
type Match uint8

const (
	// MatchSame: the same client and server addresses and ports and the
	// same client initial sequence number.
	MatchSame Match = iota + 1
	// MatchSameHello: other addresses or ports, but the same ClientHello
	// random: the hello was passed on unchanged (NAT, a transparent
	// relay).
	MatchSameHello
	// MatchNameTime: the same server name and server port within
	// Window of each other (after the clock offset the other pairs
	// show), but another hello: a device opened a connection of its own.
	MatchNameTime
)

var matchNames = [...]string{MatchSame: "same_connection", MatchSameHello: "same_hello", MatchNameTime: "same_name_and_time"}

func (m Match) String() string {
	if int(m) < len(matchNames) && matchNames[m] != "" {
		return matchNames[m]
	}
	return "match(" + strconv.Itoa(int(m)) + ")"
}

// Matches is every Match, for documentation and tests.
var Matches = []Match{MatchSame, MatchSameHello, MatchNameTime}

// Kind is one kind of difference between the two sides of a pair.
type Kind uint8

const (
	// NotSeen: the connection is in one capture only.
	NotSeen Kind = iota + 1
	// HelloLost: the client's ClientHello is in the capture nearer the
	// client and not in the other.
	HelloLost
	// AnswerLost: the server's hello is in the capture nearer the server
	// and not in the other.
	AnswerLost
	// AddressesTranslated: the pair's addresses or ports differ.
	AddressesTranslated
	// SNIChanged: the two ClientHellos ask for different names.
	SNIChanged
	// JA4Changed: the two ClientHellos have different JA4 fingerprints.
	JA4Changed
	// HelloReoriginated: the same JA4 but another random: another
	// ClientHello from the same kind of stack.
	HelloReoriginated
	// CertificateChanged: the two leaves differ.
	CertificateChanged
	// NegotiationChanged: the version or cipher suite differ.
	NegotiationChanged
	// ResetOnPath: a RST in one end's name reached the other end's side,
	// but the end in whose name it came never sent it.
	ResetOnPath
	// ResetLost: an end sent a RST that never reached the other's side.
	ResetLost
	// AlertLost: an end sent an alert that never reached the other's side.
	AlertLost
)

var kindNames = [...]string{
	NotSeen: "not_seen", HelloLost: "hello_lost", AnswerLost: "server_answer_lost", AddressesTranslated: "addresses_translated",
	SNIChanged: "sni_changed", JA4Changed: "ja4_changed", HelloReoriginated: "hello_reoriginated",
	CertificateChanged: "certificate_changed", NegotiationChanged: "negotiation_changed",
	ResetOnPath: "reset_on_path", ResetLost: "reset_lost", AlertLost: "alert_lost",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "difference(" + strconv.Itoa(int(k)) + ")"
}

// Kinds is every Kind, for documentation and tests.
var Kinds = []Kind{NotSeen, HelloLost, AnswerLost, AddressesTranslated, SNIChanged, JA4Changed, HelloReoriginated,
	CertificateChanged, NegotiationChanged, ResetOnPath, ResetLost, AlertLost}

// Difference is one thing that changed or was lost between the two
// capture points, with the frames of each capture that show it.
type Difference struct {
	Kind    Kind
	Summary string
	// AFrames and BFrames are frame numbers in capture A and B.
	AFrames, BFrames []int64
}

// Pair is one connection as the two captures show it; A or B is nil
// for a connection only one of them has. AIndex and BIndex are the
// connections' 1-based positions in the lists Align was given (0 for
// none).
type Pair struct {
	A, B           *analysis.Connection
	AIndex, BIndex int
	Match          Match // zero for a connection in one capture only
	Differences    []Difference
}

// Alignment is the result of aligning two captures.
type Alignment struct {
	Pairs []Pair
	// ClientSideB is set when capture B was found nearer the client
	// than A; ClientSideBasis says from what (or that it was assumed).
	ClientSideB     bool
	ClientSideBasis string
	// Offset is how much later capture B's clock reads than A's for the
	// same moment, from the connections paired by their addresses or
	// hello (zero when there are none).
	Offset time.Duration
}

// Window is how far apart in time (after Offset) two connections may
// begin and still be paired by server name alone.
const Window = 2 * time.Second

// Align pairs the connections of capture a with those of capture b and
// compares each pair. Capture a is taken to be nearer the client unless
// the connections seen in both say otherwise: the client waits a round
// trip for the server's SYN-ACK, the server answers its SYN at once.
func Align(a, b []*analysis.Connection) Alignment {
	var al Alignment
	pairs, usedA, usedB := pairExact(a, b)
	more, ma, mb := pairByRandom(a, b, usedA, usedB)
	pairs = append(pairs, more...)
	al.Offset = offset(pairs)
	pairs = append(pairs, pairByName(a, b, ma, mb, al.Offset)...)
	al.ClientSideB, al.ClientSideBasis = clientSide(pairs)
	for i := range a {
		if !ma[i] {
			pairs = append(pairs, Pair{A: a[i], AIndex: i + 1})
		}
	}
	for j := range b {
		if !mb[j] {
			pairs = append(pairs, Pair{B: b[j], BIndex: j + 1})
		}
	}
	for i := range pairs {
		pairs[i].Differences = compare(&pairs[i], al.ClientSideB)
	}
	slices.SortStableFunc(pairs, func(x, y Pair) int {
		return cmp.Compare(pairTime(x, al.Offset), pairTime(y, al.Offset))
	})
	al.Pairs = pairs
	return al
}

// pairTime is when the pair's connection began, on A's clock.
func pairTime(p Pair, off time.Duration) int64 {
	if p.A != nil {
		return p.A.First.Time.UnixNano()
	}
	return p.B.First.Time.Add(-off).UnixNano()
}

type isnKey struct {
	client, server string
	isn            uint32
}

func keyOf(c *analysis.Connection) (isnKey, bool) {
	if c.Roles != analysis.RolesFromSYN || c.IsQUIC() {
		return isnKey{}, false
	}
	return isnKey{c.Client.String(), c.Server.String(), c.TCP.ClientISN}, true
}

func pairExact(a, b []*analysis.Connection) ([]Pair, map[int]bool, map[int]bool) {
	byKey := map[isnKey]int{}
	for j, c := range b {
		if k, ok := keyOf(c); ok {
			if _, dup := byKey[k]; !dup {
				byKey[k] = j
			}
		}
	}
	usedA, usedB := map[int]bool{}, map[int]bool{}
	var pairs []Pair
	for i, c := range a {
		k, ok := keyOf(c)
		if !ok {
			continue
		}
		if j, ok := byKey[k]; ok && !usedB[j] {
			usedA[i], usedB[j] = true, true
			pairs = append(pairs, Pair{A: c, B: b[j], AIndex: i + 1, BIndex: j + 1, Match: MatchSame})
		}
	}
	return pairs, usedA, usedB
}

func pairByRandom(a, b []*analysis.Connection, usedA, usedB map[int]bool) ([]Pair, map[int]bool, map[int]bool) {
	byRandom := map[string]int{}
	for j, c := range b {
		if !usedB[j] && c.ClientHello != nil && len(c.ClientHello.Random) == 32 {
			byRandom[string(c.ClientHello.Random)] = j
		}
	}
	var pairs []Pair
	for i, c := range a {
		if usedA[i] || c.ClientHello == nil {
			continue
		}
		if j, ok := byRandom[string(c.ClientHello.Random)]; ok && !usedB[j] {
			usedA[i], usedB[j] = true, true
			pairs = append(pairs, Pair{A: c, B: b[j], AIndex: i + 1, BIndex: j + 1, Match: MatchSameHello})
		}
	}
	return pairs, usedA, usedB
}

// offset is the median difference of the paired connections' first
// frames: how much later B's clock reads.
func offset(pairs []Pair) time.Duration {
	var ds []time.Duration
	for _, p := range pairs {
		ds = append(ds, p.B.First.Time.Sub(p.A.First.Time))
	}
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func pairByName(a, b []*analysis.Connection, usedA, usedB map[int]bool, off time.Duration) []Pair {
	var pairs []Pair
	for i, c := range a {
		name := sni(c)
		if usedA[i] || name == "" {
			continue
		}
		best, bestGap := -1, Window+1
		for j, d := range b {
			if usedB[j] || sni(d) != name || d.Server.Port() != c.Server.Port() {
				continue
			}
			gap := d.First.Time.Sub(c.First.Time) - off
			if gap < 0 {
				gap = -gap
			}
			if gap <= Window && gap < bestGap {
				best, bestGap = j, gap
			}
		}
		if best >= 0 {
			usedA[i], usedB[best] = true, true
			pairs = append(pairs, Pair{A: c, B: b[best], AIndex: i + 1, BIndex: best + 1, Match: MatchNameTime})
		}
	}
	return pairs
}

func sni(c *analysis.Connection) string {
	if c.ClientHello == nil {
		return ""
	}
	return c.ClientHello.ServerName
}

// clientSide decides which capture is nearer the client from the pairs
// of the same TCP connection: the client's SYN-ACK comes a round trip
// after its SYN, the server's right after.
func clientSide(pairs []Pair) (bool, string) {
	var votesB, votesA int
	for _, p := range pairs {
		if p.Match != MatchSame {
			continue
		}
		ta, tb := p.A.TCP, p.B.TCP
		if ta.SYN.Number == 0 || ta.SYNACK.Number == 0 || tb.SYN.Number == 0 || tb.SYNACK.Number == 0 {
			continue
		}
		da, db := ta.SYNACK.Time.Sub(ta.SYN.Time), tb.SYNACK.Time.Sub(tb.SYN.Time)
		switch {
		case da > db:
			votesA++
		case db > da:
			votesB++
		}
	}
	switch {
	case votesB > votesA:
		return true, fmt.Sprintf("B's SYN-ACKs come later after their SYNs than A's in %d of %d connections seen in both: B waits the round trip, A is nearer the server", votesB, votesA+votesB)
	case votesA > votesB:
		return false, fmt.Sprintf("A's SYN-ACKs come later after their SYNs than B's in %d of %d connections seen in both: A waits the round trip, B is nearer the server", votesA, votesA+votesB)
	}
	return false, "assumed from the order given: no connection seen in both tells the client's side by its SYN-ACK's delay"
}

// compare lists the differences of one pair.
func compare(p *Pair, clientSideB bool) []Difference {
	near, far := p.A, p.B
	nearName, farName := "A", "B"
	if clientSideB {
		near, far = p.B, p.A
		nearName, farName = "B", "A"
	}
	var ds []Difference
	add := func(k Kind, summary string, nearFrames, farFrames []capture.Frame) {
		d := Difference{Kind: k, Summary: summary}
		nf, ff := frameNumbers(nearFrames), frameNumbers(farFrames)
		if clientSideB {
			d.AFrames, d.BFrames = ff, nf
		} else {
			d.AFrames, d.BFrames = nf, ff
		}
		ds = append(ds, d)
	}
	switch {
	case near == nil:
		add(NotSeen, fmt.Sprintf("seen only at %s, nearer the server: the capture nearer the client (%s) shows no connection like it (by addresses, hello or name)", farName, nearName),
			nil, []capture.Frame{far.First})
		return ds
	case far == nil:
		what := "nothing of it reached the capture nearer the server"
		if near.TCP.SYNACK.Number != 0 {
			what = "the server's side shows no connection like it (by addresses, hello or name): a device between answered it, or the capture there missed it"
		}
		add(NotSeen, fmt.Sprintf("seen only at %s, nearer the client: %s (%s)", nearName, what, farName), []capture.Frame{near.First}, nil)
		return ds
	}
	if p.Match != MatchSame && (near.Client != far.Client || near.Server != far.Server) {
		add(AddressesTranslated, fmt.Sprintf("the client is %s → %s at %s and %s → %s at %s: a NAT or a proxy between them", near.Client, near.Server, nearName, far.Client, far.Server, farName),
			[]capture.Frame{near.First}, []capture.Frame{far.First})
	}
	if near.ClientHello != nil && far.ClientHello == nil {
		sent := ""
		if n := near.TCP.Retransmissions; n > 0 {
			sent = fmt.Sprintf(", and %d retransmissions", n)
		}
		add(HelloLost, fmt.Sprintf("the ClientHello%s at %s (%s%s) never reached %s, which shows the connection without it: lost between the two capture points",
			forName(near), nearName, frameRef(near.ClientHelloFrame), sent, farName),
			[]capture.Frame{near.ClientHelloFrame}, []capture.Frame{far.TCP.SYNACK, far.Last})
	}
	if far.ServerHello != nil && near.ServerHello == nil && near.ClientHello != nil {
		add(AnswerLost, fmt.Sprintf("the server's hello at %s (%s) never reached %s: lost between the two capture points", farName, frameRef(far.ServerHelloFrame), nearName),
			[]capture.Frame{near.ClientHelloFrame}, []capture.Frame{far.ServerHelloFrame})
	}
	if near.ClientHello != nil && far.ClientHello != nil {
		hellos := []capture.Frame{near.ClientHelloFrame}
		farHello := []capture.Frame{far.ClientHelloFrame}
		if a, b := near.ClientHello.ServerName, far.ClientHello.ServerName; a != b {
			add(SNIChanged, fmt.Sprintf("the client asked for '%s' at %s, the server was asked for '%s' at %s", a, nearName, b, farName), hellos, farHello)
		}
		ja, jb := near.Fingerprints().JA4, far.Fingerprints().JA4
		switch {
		case ja != jb:
			add(JA4Changed, fmt.Sprintf("the ClientHello the server got (JA4 %s at %s) is not the client's (JA4 %s at %s): a device between opened a connection of its own to the server (a TLS-terminating proxy)", jb, farName, ja, nearName),
				hellos, farHello)
		case string(near.ClientHello.Random) != string(far.ClientHello.Random):
			add(HelloReoriginated, fmt.Sprintf("the ClientHello the server got (%s) has the client's JA4 but another random than the client's (%s): a device between sent a hello of its own, from the same kind of TLS stack", farName, nearName),
				hellos, farHello)
		}
	}
	if len(near.Certificates) > 0 && len(far.Certificates) > 0 {
		nl, fl := near.Certificates[0], far.Certificates[0]
		if string(nl.DER) != string(fl.DER) {
			add(CertificateChanged, fmt.Sprintf("the certificate the client received (%s at %s) is not the one the server sent (%s at %s): a device between answered in the server's name (TLS interception)",
				certText(nl), nearName, certText(fl), farName),
				[]capture.Frame{near.CertificateFrame}, []capture.Frame{far.CertificateFrame})
		}
	}
	if near.ServerHello != nil && far.ServerHello != nil && (near.Version != far.Version || near.Cipher != far.Cipher) {
		add(NegotiationChanged, fmt.Sprintf("the client negotiated %s with %s (%s), the server %s with %s (%s)", near.Version, near.Cipher, nearName, far.Version, far.Cipher, farName),
			[]capture.Frame{near.ServerHelloFrame}, []capture.Frame{far.ServerHelloFrame})
	}
	resets(near, far, nearName, farName, add)
	alerts(near, far, nearName, farName, add)
	return ds
}

// resets compares the RSTs: a RST is sent at its sender's side of the
// path and arrives at the other's.
func resets(near, far *analysis.Connection, nearName, farName string, add func(Kind, string, []capture.Frame, []capture.Frame)) {
	rst := func(c *analysis.Connection, from capture.Direction) capture.Frame {
		if c.TCP.RST.Number != 0 && c.TCP.RSTFrom == from {
			return c.TCP.RST
		}
		return capture.Frame{}
	}
	for _, from := range []capture.Direction{capture.ServerToClient, capture.ClientToServer} {
		// The sender's side and the receiver's side of the path.
		sender, receiver, sName, rName := far, near, farName, nearName
		end, other := "server", "client"
		if from == capture.ClientToServer {
			sender, receiver, sName, rName = near, far, nearName, farName
			end, other = "client", "server"
		}
		sent, got := rst(sender, from), rst(receiver, from)
		if closedByFINs(sender) || closedByFINs(receiver) {
			// A reset after both FINs ends nothing: the capture that
			// saw the FINs first stopped following the connection.
			continue
		}
		switch {
		case got.Number != 0 && sent.Number == 0 && covers(sender, got):
			frames := [2][]capture.Frame{{got}, {sender.Last}}
			if sender == near {
				frames = [2][]capture.Frame{{sender.Last}, {got}}
			}
			add(ResetOnPath, fmt.Sprintf("the %s's side (%s) got a RST in the %s's name (%s) that the %s never sent (%s shows none): a device between the two capture points reset the connection",
				other, rName, end, frameRef(got), end, sName), frames[0], frames[1])
		case sent.Number != 0 && got.Number == 0:
			frames := [2][]capture.Frame{{receiver.Last}, {sent}}
			if sender == near {
				frames = [2][]capture.Frame{{sent}, {receiver.Last}}
			}
			add(ResetLost, fmt.Sprintf("the %s reset the connection (%s at %s) and the reset never reached the %s's side (%s)", end, frameRef(sent), sName, other, rName),
				frames[0], frames[1])
		}
	}
}

// closedByFINs reports whether both ends of c sent a FIN.
func closedByFINs(c *analysis.Connection) bool {
	return c.TCP.FIN[0].Number != 0 && c.TCP.FIN[1].Number != 0
}

// covers reports whether the capture of c went on long enough to show a
// packet sent when f arrived on the other side: its connection's frames,
// or the capture, last until then (give or take a second of clocks).
func covers(c *analysis.Connection, f capture.Frame) bool {
	end := c.Last.Time
	if c.CaptureEnd.Time.After(end) {
		end = c.CaptureEnd.Time
	}
	return end.After(f.Time.Add(-time.Second))
}

// alerts reports the alerts one end sent that never reached the other
// end's side.
func alerts(near, far *analysis.Connection, nearName, farName string, add func(Kind, string, []capture.Frame, []capture.Frame)) {
	count := func(c *analysis.Connection, from capture.Direction) (int, capture.Frame) {
		n, first := 0, capture.Frame{}
		for _, a := range c.Alerts {
			if a.Sender == from {
				if n == 0 {
					first = a.Frame
				}
				n++
			}
		}
		return n, first
	}
	for _, from := range []capture.Direction{capture.ServerToClient, capture.ClientToServer} {
		sender, receiver, sName, rName, end := far, near, farName, nearName, "server"
		if from == capture.ClientToServer {
			sender, receiver, sName, rName, end = near, far, nearName, farName, "client"
		}
		ns, f := count(sender, from)
		nr, _ := count(receiver, from)
		if ns > nr {
			frames := [2][]capture.Frame{{receiver.Last}, {f}}
			if sender == near {
				frames = [2][]capture.Frame{{f}, {receiver.Last}}
			}
			add(AlertLost, fmt.Sprintf("the %s sent %d alert(s) (the first %s at %s) and %d reached the other side (%s)", end, ns, frameRef(f), sName, nr, rName),
				frames[0], frames[1])
		}
	}
}

func forName(c *analysis.Connection) string {
	if n := sni(c); n != "" {
		return fmt.Sprintf(" for '%s'", n)
	}
	return ""
}

func frameRef(f capture.Frame) string { return "frame " + strconv.FormatInt(f.Number, 10) }

// certText names a certificate by its issuer and SHA-256 fingerprint.
func certText(c analysis.Certificate) string {
	sum := sha256.Sum256(c.DER)
	fp := fmt.Sprintf("SHA-256 %x…", sum[:6])
	if c.X509 != nil {
		return fmt.Sprintf("issued by %s, %s", c.X509.Issuer.String(), fp)
	}
	return fp
}

func frameNumbers(fs []capture.Frame) []int64 {
	var ns []int64
	for _, f := range fs {
		if f.Number != 0 && !slices.Contains(ns, f.Number) {
			ns = append(ns, f.Number)
		}
	}
	slices.Sort(ns)
	return ns
}
