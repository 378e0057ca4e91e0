package quic

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
)

// Level is an encryption level, which is also a packet number space.
type Level uint8

const (
	LevelInitial Level = iota
	LevelHandshake
	Level1RTT
	numLevels
)

var levelNames = [...]string{LevelInitial: "initial", LevelHandshake: "handshake", Level1RTT: "1rtt"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// Conn is everything the datagrams show of one QUIC connection. It is
// filled as datagrams arrive and handed over once, when it ends.
type Conn struct {
	// Client sent the first Initial; Server answered.
	Client, Server netip.AddrPort
	First, Last    capture.Frame
	// Version is the version of the client's first packet; Versions all
	// the versions its long-header packets used, in order.
	Version  Version
	Versions []Version
	// VersionNegotiation is the server's Version Negotiation packet.
	VersionNegotiation *VersionNegotiation
	Retry              *Retry
	// OriginalDCID is the Destination Connection ID of the client's first
	// Initial, which the Initial keys come from; ClientCID and ServerCID
	// are the Source Connection IDs each end chose (the server's last:
	// a Retry changes it).
	OriginalDCID, ClientCID, ServerCID []byte
	// CIDChanges counts the packets whose Destination Connection ID was
	// not the last one seen in their direction.
	CIDChanges int

	// Messages are the TLS handshake messages read from the CRYPTO
	// streams, in the order their last bytes arrived.
	Messages []HandshakeMessage
	// Closes are the CONNECTION_CLOSE frames read.
	Closes []Close
	// HandshakeDone is the server's HANDSHAKE_DONE frame (needs the 1-RTT
	// keys).
	HandshakeDone capture.Frame

	// Datagrams and Packets count per direction what was sent; Packets by
	// level, 0-RTT in Level1RTT. Undecrypted counts the packets that
	// could not be read (no keys, or they did not open).
	Datagrams   [2]int
	Packets     [2][numLevels]int
	Undecrypted [2]int
	// FirstPacket is, per direction, the first datagram; FirstShort the
	// first short-header (1-RTT) packet.
	FirstPacket, FirstShort [2]capture.Frame
	// Unreachable is the first ICMP error about the client's datagrams
	// (port unreachable: nothing listens on the server's UDP port), and
	// UnreachableFrame its frame; zero when none came.
	Unreachable      capture.ICMPError
	UnreachableFrame capture.Frame
	// Secrets is set when the key log held the handshake secrets.
	Secrets bool
	// CryptoCut counts CRYPTO bytes not read because of the bounds.
	CryptoCut int64
	// Unfinished counts, per direction, the bytes of an incomplete
	// handshake message at the end of the CRYPTO streams.
	Unfinished [2]int
	// Errors are the first packet decoding errors, with their frames.
	Errors []PacketError
	// Trace describes every datagram, as Wireshark's Info column does,
	// when Options.Trace is set.
	Trace        []TraceLine
	TraceOmitted int

	st       connState
	tracker  *Tracker
	finished bool
	touches  int
	// confirmed is set once the datagrams are known to be QUIC: only
	// confirmed connections are handed over.
	confirmed bool
}

// HandshakeMessage is a handshake message, who sent it and at which level.
type HandshakeMessage struct {
	Message
	Dir   capture.Direction
	Level Level
}

// VersionNegotiation is the server's list of versions.
type VersionNegotiation struct {
	Frame    capture.Frame
	Versions []Version
}

// Retry is a server's Retry packet.
type Retry struct {
	Frame capture.Frame
	// TagValid says whether its integrity tag checked out against the
	// client's Destination Connection ID.
	TagValid bool
	TokenLen int
}

// Close is a CONNECTION_CLOSE frame.
type Close struct {
	Frame capture.Frame
	Dir   capture.Direction
	Level Level
	// Application is set for a 0x1d frame: the code is the application's.
	Application bool
	ErrorCode   uint64
	// FrameType is the frame that caused a transport error, if known.
	FrameType uint64
	Reason    string
}

// PacketError is a packet that could not be decoded.
type PacketError struct {
	Frame capture.Frame
	Err   error
}

// TraceLine is one datagram of the connection.
type TraceLine struct {
	Frame capture.Frame
	Dir   capture.Direction
	Info  string
}

// connState is what decoding needs beyond the facts.
type connState struct {
	keys     [numLevels][2]*Keys
	keysDCID []byte // the DCID the Initial keys were derived from
	largest  [2][numLevels]int64
	streams  [2][numLevels - 1]cryptoStream
	lastDCID [2][]byte
	random   []byte
	suite    Suite
	// layout is the version whose packet layout and keys the client's
	// packets of a version this package does not know turned out to use
	// (some stacks send an unknown version with v1's).
	layout Version
	held   int // crypto bytes counted against the tracker's budget
}

const (
	maxErrors = 8
	// MaxTraceLines bounds Conn.Trace.
	MaxTraceLines = 1000
)

func (c *Conn) dir(src netip.AddrPort) capture.Direction {
	if src == c.Client {
		return capture.ClientToServer
	}
	return capture.ServerToClient
}

func (c *Conn) fail(f capture.Frame, err error) {
	if len(c.Errors) < maxErrors {
		c.Errors = append(c.Errors, PacketError{f, err})
	}
}

// datagram decodes every packet of one datagram of the connection.
func (c *Conn) datagram(d capture.Direction, b []byte, f capture.Frame) {
	c.Last = f
	c.Datagrams[d]++
	if c.FirstPacket[d].Number == 0 {
		c.FirstPacket[d] = f
	}
	var info []string
	for len(b) > 0 {
		shortLen := len(c.ServerCID)
		if d == capture.ServerToClient {
			shortLen = len(c.ClientCID)
		}
		h, size, err := parseHeader(b, shortLen, c.st.layout)
		if err != nil {
			c.fail(f, err)
			break
		}
		pkt := b[:size]
		b = b[size:]
		info = append(info, c.packet(d, &h, pkt, f))
		if h.Type == 0 || h.Type == Packet1RTT || h.Type == PacketRetry || h.Type == PacketVersionNegotiation {
			break
		}
		// RFC 9000, Section 12.2: padding after the last packet.
		if len(b) > 0 && b[0] == 0 {
			break
		}
	}
	c.trace(d, f, strings.Join(info, "; "))
}

func (c *Conn) trace(d capture.Direction, f capture.Frame, info string) {
	if c.tracker == nil || !c.tracker.opt.Trace {
		return
	}
	if len(c.Trace) >= MaxTraceLines {
		c.TraceOmitted++
		return
	}
	c.Trace = append(c.Trace, TraceLine{f, d, info})
}

// packet decodes one packet and returns its trace text.
func (c *Conn) packet(d capture.Direction, h *Header, pkt []byte, f capture.Frame) string {
	var desc strings.Builder
	switch h.Type {
	case PacketVersionNegotiation:
		if d == capture.ServerToClient && c.VersionNegotiation == nil {
			c.VersionNegotiation = &VersionNegotiation{Frame: f, Versions: h.Versions}
		}
		return h.Type.String() + cidText(h)
	case PacketRetry:
		if d == capture.ServerToClient && c.Retry == nil {
			c.Retry = &Retry{Frame: f, TagValid: RetryTagValid(h.Version, c.st.keysDCID, pkt), TokenLen: len(h.Token)}
			c.ServerCID = bytes.Clone(h.SCID)
			c.newInitialKeys(h.Version, h.SCID)
		}
		return h.Type.String() + cidText(h)
	case 0:
		c.noteVersion(d, h.Version)
		c.Undecrypted[d]++
		return "QUIC " + h.Version.String()
	}
	lvl := LevelInitial
	switch h.Type {
	case PacketHandshake:
		lvl = LevelHandshake
	case Packet0RTT, Packet1RTT:
		lvl = Level1RTT
	}
	c.Packets[d][lvl]++
	// Wireshark's wording: the packet type, the connection IDs that are
	// not empty, then (once decrypted) the packet number and the frames.
	if h.Type == Packet1RTT {
		if c.FirstShort[d].Number == 0 {
			c.FirstShort[d] = f
		}
		// The key phase bit is under header protection: Wireshark says
		// KP0 until it can remove it.
		desc.WriteString("Protected Payload (KP0)")
	} else {
		c.noteVersion(d, h.Version)
		desc.WriteString(h.Type.String())
		c.noteCIDs(d, h)
	}
	desc.WriteString(cidText(h))
	if h.Type == Packet0RTT {
		c.Undecrypted[d]++
		return desc.String()
	}
	k := c.st.keys[lvl][d]
	if k == nil {
		c.Undecrypted[d]++
		return desc.String()
	}
	pn, payload, err := Unprotect(pkt, h, k, c.st.largest[d][lvl])
	if err != nil {
		c.Undecrypted[d]++
		if lvl == LevelInitial {
			c.fail(f, err)
		}
		return desc.String()
	}
	if int64(pn) > c.st.largest[d][lvl] {
		c.st.largest[d][lvl] = int64(pn)
	}
	if h.Type == Packet1RTT && pkt[0]&0x04 != 0 {
		// The key phase is protected: known only now.
		text := strings.Replace(desc.String(), "(KP0)", "(KP1)", 1)
		desc.Reset()
		desc.WriteString(text)
	}
	desc.WriteString(", PKN: " + strconv.FormatUint(pn, 10))
	err = ParseFrames(payload, func(fr *Frame) {
		desc.WriteString(", " + fr.Name())
		c.frame(d, lvl, fr, f)
	})
	if err != nil {
		c.fail(f, err)
	}
	return desc.String()
}

func (c *Conn) noteVersion(d capture.Direction, v Version) {
	if d == capture.ClientToServer && (len(c.Versions) == 0 || c.Versions[len(c.Versions)-1] != v) && len(c.Versions) < 8 {
		c.Versions = append(c.Versions, v)
	}
}

func (c *Conn) noteCIDs(d capture.Direction, h *Header) {
	if last := c.st.lastDCID[d]; last != nil && !bytes.Equal(last, h.DCID) {
		c.CIDChanges++
	}
	c.st.lastDCID[d] = bytes.Clone(h.DCID)
	if d == capture.ClientToServer {
		if c.ClientCID == nil {
			c.ClientCID = bytes.Clone(h.SCID)
		}
	} else if c.Retry == nil || c.ServerCID == nil || h.Type != PacketRetry {
		c.ServerCID = bytes.Clone(h.SCID)
	}
}

// frame takes one decrypted frame.
func (c *Conn) frame(d capture.Direction, lvl Level, fr *Frame, f capture.Frame) {
	switch fr.Type {
	case FrameCrypto:
		if lvl == Level1RTT {
			return // NewSessionTicket and the like: not needed
		}
		c.crypto(d, lvl, fr, f)
	case FrameConnectionClose, FrameConnectionCloseApp:
		c.Closes = append(c.Closes, Close{
			Frame: f, Dir: d, Level: lvl, Application: fr.Type == FrameConnectionCloseApp,
			ErrorCode: fr.ErrorCode, FrameType: fr.ErrorFrame, Reason: string(fr.Reason),
		})
		if len(c.Closes) > 8 {
			c.Closes = c.Closes[:8]
		}
	case FrameHandshakeDone:
		if c.HandshakeDone.Number == 0 {
			c.HandshakeDone = f
		}
	}
}

func (c *Conn) crypto(d capture.Direction, lvl Level, fr *Frame, f capture.Frame) {
	s := &c.st.streams[d][lvl]
	t := c.tracker
	data := fr.Data
	if t != nil && t.held+len(data) > t.opt.maxCrypto() {
		c.CryptoCut += int64(len(data))
		t.Stats.CryptoCut += int64(len(data))
		return
	}
	before := s.Cut
	heldBefore := s.held + len(s.buf)
	n := len(c.Messages)
	msgs := s.add(fr.Offset, data, f, nil)
	for _, m := range msgs {
		c.Messages = append(c.Messages, HandshakeMessage{Message: m, Dir: d, Level: lvl})
		if t != nil {
			t.held += len(m.Body)
			c.st.held += len(m.Body)
		}
	}
	if t != nil {
		delta := s.held + len(s.buf) - heldBefore
		t.held += delta
		c.st.held += delta
	}
	c.CryptoCut += s.Cut - before
	tail, _ := s.Unfinished()
	c.Unfinished[d] = tail
	for _, m := range c.Messages[n:] {
		c.handshake(m)
	}
}

// handshake reacts to the messages that give keys: the ClientHello's
// random names the secrets in the key log, the ServerHello the suite.
func (c *Conn) handshake(m HandshakeMessage) {
	switch {
	case m.Type == 1 && m.Dir == capture.ClientToServer && c.st.random == nil && len(m.Body) >= 34:
		c.st.random = bytes.Clone(m.Body[2:34])
	case m.Type == 2 && m.Dir == capture.ServerToClient && c.st.suite == 0:
		// RFC 8446, Section 4.1.3: version, random, session ID, suite.
		b := m.Body
		if len(b) < 35 || len(b) < 35+int(b[34])+2 {
			return
		}
		i := 35 + int(b[34])
		c.st.suite = Suite(uint16(b[i])<<8 | uint16(b[i+1]))
		c.trafficKeys()
	}
}

// trafficKeys looks up the handshake and 1-RTT secrets in the key log
// (the NSS labels that TLS over TCP uses too).
func (c *Conn) trafficKeys() {
	if c.tracker == nil || c.tracker.opt.Secrets == nil || c.st.random == nil {
		return
	}
	v := c.Version
	if len(c.Versions) > 0 {
		v = c.Versions[len(c.Versions)-1]
	}
	labels := [...]struct {
		lvl   Level
		d     capture.Direction
		label string
	}{
		{LevelHandshake, capture.ClientToServer, "CLIENT_HANDSHAKE_TRAFFIC_SECRET"},
		{LevelHandshake, capture.ServerToClient, "SERVER_HANDSHAKE_TRAFFIC_SECRET"},
		{Level1RTT, capture.ClientToServer, "CLIENT_TRAFFIC_SECRET_0"},
		{Level1RTT, capture.ServerToClient, "SERVER_TRAFFIC_SECRET_0"},
	}
	for _, l := range labels {
		secret, ok := c.tracker.opt.Secrets(c.st.random, l.label)
		if !ok {
			continue
		}
		k, err := NewKeys(v, c.st.suite, secret)
		if err != nil {
			continue
		}
		c.st.keys[l.lvl][l.d] = k
		if l.lvl == LevelHandshake {
			c.Secrets = true
		}
	}
}

// newInitialKeys derives the Initial keys from dcid.
func (c *Conn) newInitialKeys(v Version, dcid []byte) bool {
	if !v.Known() && c.st.layout != 0 {
		v = c.st.layout
	}
	ck, sk, err := InitialKeys(v, dcid)
	if err != nil {
		return false
	}
	c.st.keys[LevelInitial] = [2]*Keys{ck, sk}
	c.st.keysDCID = bytes.Clone(dcid)
	return true
}

// cidText is the connection IDs of a packet as Wireshark lists them: those
// that are not empty.
func cidText(h *Header) string {
	var s string
	if len(h.DCID) > 0 {
		s += ", DCID=" + hex.EncodeToString(h.DCID)
	}
	if len(h.SCID) > 0 {
		s += ", SCID=" + hex.EncodeToString(h.SCID)
	}
	return s
}

// Duration is the capture time the connection spanned.
func (c *Conn) Duration() time.Duration { return c.Last.Time.Sub(c.First.Time) }
