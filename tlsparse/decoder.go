package tlsparse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// ItemKind says what a decoder Item holds.
type ItemKind uint8

const (
	KindHandshake          ItemKind = iota + 1 // one plaintext handshake message
	KindChangeCipherSpec                       // one change_cipher_spec record
	KindAlert                                  // one alert record
	KindApplicationData                        // one application_data record (payload skipped)
	KindEncryptedHandshake                     // one handshake record sent after change_cipher_spec
	KindHeartbeat                              // one heartbeat record
	KindSSLv2ClientHello                       // an SSLv2-compatible ClientHello record
	KindSSLv2ServerHello                       // an SSLv2 SERVER-HELLO record: the server speaks SSLv2 only
	KindSSLv2Record                            // a later SSLv2 record of an SSLv2 session (payload skipped)
	KindNonTLS                                 // the stream does not start with TLS
	KindMalformed                              // bytes that could not be decoded; see Item.Err
	KindProxyHeader                            // a PROXY protocol header at the stream's start; see Item.Body
)

func (k ItemKind) String() string {
	switch k {
	case KindHandshake:
		return "handshake"
	case KindChangeCipherSpec:
		return "change_cipher_spec"
	case KindAlert:
		return "alert"
	case KindApplicationData:
		return "application_data"
	case KindEncryptedHandshake:
		return "encrypted_handshake"
	case KindHeartbeat:
		return "heartbeat"
	case KindSSLv2ClientHello:
		return "sslv2_client_hello"
	case KindSSLv2ServerHello:
		return "sslv2_server_hello"
	case KindSSLv2Record:
		return "sslv2_record"
	case KindNonTLS:
		return "non_tls"
	case KindMalformed:
		return "malformed"
	case KindProxyHeader:
		return "proxy_header"
	}
	return "item_kind(" + strconv.Itoa(int(k)) + ")"
}

// Item is one unit the Decoder found in the stream.
type Item struct {
	Kind ItemKind
	// Start and End are stream offsets of the item's first byte and one past
	// its last. A handshake message spans its own 4-byte header and body,
	// even across records; a record item spans the record with its header.
	Start, End int64
	// Record is the header of the record that carried the item's last byte,
	// and RecordEnd the stream offset one past that record's last byte.
	// Wireshark shows a handshake message in the frame holding RecordEnd-1:
	// it dissects a record once the whole record is reassembled. RecordEnd
	// may lie beyond the bytes fed so far.
	Record    RecordHeader
	RecordEnd int64

	// KindHandshake: the message type and body (without the 4-byte header).
	// KindApplicationData after KeepPayloads: the record's payload.
	// KindSSLv2ClientHello, KindSSLv2ServerHello: Body is the SSLv2
	// message, from its type byte.
	// KindSSLv2Record: Body is at most the first 4 bytes of the record's
	// body (enough for the message type and cipher kind of a plaintext
	// CLIENT-MASTER-KEY); the rest is skipped. The item is reported at the
	// record's start: End is the end of the bytes read, RecordEnd the end of
	// the record.
	// Body aliases the decoder's input or buffer: it is valid only until the
	// next call to Feed or Next.
	HandshakeType HandshakeType
	Body          []byte

	// KindAlert: the alert, unless Encrypted (the record is not 2 bytes long,
	// as after change_cipher_spec in TLS ≤ 1.2), in which case Alert is zero.
	// KindHeartbeat: Encrypted when the sender had sent change_cipher_spec;
	// otherwise Heartbeat is the message's header (zero when the record is
	// shorter than 3 bytes).
	Alert     Alert
	Encrypted bool
	Heartbeat HeartbeatHeader

	// KindNonTLS: what the bytes look like, printable, at most ~60 characters.
	NonTLS string

	// KindMalformed: what was wrong.
	// KindProxyHeader: Body holds the header (at most its first 488
	// bytes; a longer version 2 header is passed over by its length),
	// for ParseProxyHeader; Err is set when it is malformed, and the
	// decoder then reads on from where it stopped.
	Err error

	// Missing is, for a ClientHello that a gap in the stream cut short
	// (Kind KindHandshake), the number of body bytes lost: Body then holds
	// only the message's first bytes, for ParseClientHelloPrefix. It is zero
	// for a whole message.
	Missing int

	// Unconfirmed is set on the items of a record that a
	// resynchronisation found (Resync, Gap, or a malformed record), until
	// the header of the record after it is read, unless the record begins
	// as a hello, a plaintext alert or a change_cipher_spec does: in bytes
	// that are not TLS (an SSH or SMB session whose start the capture
	// missed) five bytes pass for a record header by chance, two in a row
	// hardly ever. When what follows such a record is no plausible header,
	// the decoder resynchronises again without a KindMalformed item.
	Unconfirmed bool
}

type decoderState uint8

const (
	stateStart     decoderState = iota // first bytes of the stream: TLS, SSLv2 or something else?
	stateHeader                        // at a record boundary
	stateBody                          // inside a record body
	stateSSLv2                         // reading an SSLv2 record
	stateHunt                          // looking for a ClientHello/ServerHello or alert record after a prelude
	stateResync                        // looking for any plausible record header
	stateSSLv2Skip                     // skipping the body of a later SSLv2 record
	stateProxy                         // reading a PROXY protocol header at the stream's start
)

// preludeMax bounds the bytes of a non-TLS prelude kept to describe it.
const preludeMax = 64

// Decoder splits one direction of a TLS connection into records and
// handshake messages. It keeps only what it must across Feed calls: up to 7
// bytes of an incomplete header and the incomplete handshake message (at
// most MaxHandshakeSize bytes). Application data and encrypted records are
// never copied, only counted past. The zero value is ready to use.
type Decoder struct {
	buf []byte // current input; buf[pos:] is unread
	pos int
	la  [16]byte // lookahead bytes that straddle Feed calls; they precede buf[pos:]
	laN int
	off int64 // stream offset of the logical read position (la[0], or buf[pos] when laN == 0)

	state decoderState
	rec   RecordHeader
	recAt int64 // offset of the current record's header
	left  int   // body bytes of the current record not yet read

	// Small-record payload (alert, change_cipher_spec, heartbeat) kept for
	// the item: an alert's two bytes, a heartbeat message's type and
	// payload length.
	small  [3]byte
	smallN int

	// Handshake reassembly (RFC 8446, Section 5.1: messages may be split
	// across records and several may share one).
	hsHdr  [4]byte
	hsHdrN int
	hsLen  int
	hsAt   int64
	hsBody []byte // owned buffer, reused
	hsHave int    // body bytes collected in hsBody
	hsSkip int    // body bytes of an oversized message still to skip

	// Application data payloads, kept only after KeepPayloads.
	keepPayloads bool
	payload      []byte // owned buffer, reused

	encrypted bool // this direction has sent change_cipher_spec, or SetEncrypted
	// recPlain is set when the current record is a plaintext handshake
	// record: SetEncrypted called between its messages does not change it.
	recPlain   bool
	explicit   bool // encrypted was set by SetEncrypted
	onlyHellos bool // every handshake message so far was a Client/ServerHello
	sawMessage bool

	prelude      [preludeMax]byte
	preludeN     int
	preludeAt    int64
	nonTLSDone   bool
	describing   bool // collecting prelude bytes for the KindNonTLS item
	skipped      int64
	sslv2Len     int
	sslv2Session bool // the stream began with an SSLv2 hello
	sslv2Head    [4]byte

	// unconfirmed: the record whose header is at foundAt was found by a
	// resynchronisation, and no record header has followed it yet.
	unconfirmed bool
	foundAt     int64
	// tlsRead: a record header was read that was not found by a
	// resynchronisation, or was confirmed.
	tlsRead bool

	// cut is the start of a ClientHello that Gap cut short, waiting to be
	// returned by Next (Kind is zero when there is none).
	cut Item

	// A PROXY protocol header at the stream's start: the bytes kept of
	// it (allocated only for such a stream), its offset, its length once
	// known (0 before), its version, and whether it was read.
	proxyBuf  []byte
	proxyAt   int64
	proxyLen  int
	proxyV1   bool
	proxyDone bool
}

// Feed gives the decoder the next bytes of the stream. The decoder may keep
// referring to b until Next returns false.
func (d *Decoder) Feed(b []byte) {
	if d.pos < len(d.buf) {
		// The caller fed again before draining: keep the unread bytes. This
		// copies, but only in that misuse case.
		rest := append([]byte(nil), d.buf[d.pos:]...)
		b = append(rest, b...)
	}
	d.buf, d.pos = b, 0
}

// Reset makes d a Decoder for a new stream, as if it were a zero Decoder,
// but keeps its handshake message buffer unless that is big: a reader of
// many connections gives each a new stream's decoder, and their messages
// split across segments need about the same buffer.
func (d *Decoder) Reset() {
	body := d.hsBody
	*d = Decoder{}
	if cap(body) <= bigMessage {
		d.hsBody = body
	}
}

// InRecord reports whether the bytes fed but not yet returned as items
// belong to a TLS record: one whose header was read and whose body is
// incomplete, or one whose first bytes so far could begin a header (a
// content type, then major version 3). It is false for bytes the decoder
// is still sizing up as something else (a prelude, SSLv2 records).
func (d *Decoder) InRecord() bool {
	switch d.state {
	case stateBody:
		return true
	case stateStart, stateHeader:
		return d.laN == 0 || d.la[0]-20 <= 4 && (d.laN < 2 || d.la[1] == 3)
	}
	return false
}

// Offset returns the stream offset up to which the decoder has accounted
// for bytes: everything fed except up to helloWidth bytes held to complete a
// header.
func (d *Decoder) Offset() int64 { return d.off }

// Skipped returns how many bytes were passed over while hunting for TLS
// after a non-TLS prelude or while resynchronising.
func (d *Decoder) Skipped() int64 { return d.skipped }

// SetEncrypted declares that handshake records from now on are encrypted
// (for example after a TLS 1.3 ServerHello that is not a HelloRetryRequest).
// The decoder switches itself after this direction's change_cipher_spec.
func (d *Decoder) SetEncrypted() {
	d.encrypted, d.explicit = true, true
}

// KeepPayloads makes the decoder hand out the payload of every
// application_data record, encrypted handshake record and encrypted alert
// in Item.Body (for decryption with a key log). It
// costs a copy of each such record (at most MaxRecordLength bytes are held)
// and is off by default: without it those payloads are only counted past.
func (d *Decoder) KeepPayloads() { d.keepPayloads = true }

// Confirmed reports whether the record whose header is at stream offset
// at, found by a resynchronisation, was confirmed: a record header
// followed it, or its first bytes are a hello's, an alert's or a
// change_cipher_spec's (Item.Unconfirmed).
func (d *Decoder) Confirmed(at int64) bool {
	return !d.unconfirmed && d.foundAt == at
}

// Resync declares that the stream starts (or continues) at an unknown
// position, as when a capture began mid-connection: partial state is dropped
// and decoding resumes at the next plausible record header.
func (d *Decoder) Resync() {
	d.dropPartial()
	d.nonTLSDone = true
	d.state = stateResync
}

// Gap declares that n bytes following everything fed so far were lost;
// call it once Next has returned false for the bytes before the gap.
// When the gap falls inside the body of a record the decoder is skipping
// anyway (application data, encrypted handshake) it stays in step;
// otherwise it drops partial state and resynchronises at the next plausible
// record header, or, in a stream that was not TLS before the gap, at the
// next hello or alert record. The start of a plaintext ClientHello that
// the gap cut short is not dropped: Next returns it first, with
// Item.Missing set.
func (d *Decoder) Gap(n int) {
	if n <= 0 {
		return
	}
	// Account for unread input first: it precedes the gap.
	d.off += int64(d.laN + len(d.buf) - d.pos)
	lost := d.laN + len(d.buf) - d.pos
	d.laN, d.buf, d.pos = 0, nil, 0
	if d.state == stateBody && d.skippingBody() && lost == 0 && n <= d.left {
		d.left -= n
		d.off += int64(n)
		return
	}
	if d.state == stateBody && d.recPlain && d.hsHdrN == 4 && d.hsSkip == 0 &&
		HandshakeType(d.hsHdr[0]) == HandshakeTypeClientHello && lost == 0 {
		// Keep what arrived of a cut ClientHello: its first fields (SNI,
		// versions, suites) often are all a reader wants.
		d.cut = d.hsItem(HandshakeTypeClientHello, d.hsBody[:d.hsHave:d.hsHave])
		d.cut.RecordEnd = d.cut.End
		d.cut.Missing = d.hsLen - d.hsHave
	}
	d.off += int64(n)
	d.dropPartial()
	d.nonTLSDone = true
	// A stream that was not TLS before the gap goes on hunting for a
	// hello: to the looser test of a resynchronisation, the megabytes of
	// a plain HTTP download hold a plausible record header by chance.
	if d.state != stateHunt {
		d.state = stateResync
	}
}

func (d *Decoder) skippingBody() bool {
	switch d.rec.Type {
	case ContentTypeApplicationData:
		return true
	case ContentTypeHandshake:
		return d.encrypted
	}
	return false
}

func (d *Decoder) dropPartial() {
	d.hsHdrN, d.hsHave, d.hsLen, d.hsSkip = 0, 0, 0, 0
	d.smallN = 0
	d.left = 0
	d.describing = false
}

// avail returns the number of unread bytes, lookahead included.
func (d *Decoder) avail() int { return d.laN + len(d.buf) - d.pos }

// peek returns n contiguous unread bytes without consuming them. When they
// straddle Feed calls they are copied into the lookahead (n ≤ 16); when there
// are fewer than n, all unread input moves into the lookahead and ok is false.
func (d *Decoder) peek(n int) (b []byte, ok bool) {
	if d.laN == 0 && len(d.buf)-d.pos >= n {
		return d.buf[d.pos : d.pos+n], true
	}
	if d.laN >= n {
		return d.la[:n], true
	}
	m := copy(d.la[d.laN:n], d.buf[d.pos:])
	d.laN += m
	d.pos += m
	if d.laN < n {
		return d.la[:d.laN], false
	}
	return d.la[:n], true
}

// skip consumes n unread bytes (n ≤ avail()).
func (d *Decoder) skip(n int) {
	d.off += int64(n)
	if d.laN > 0 {
		k := min(n, d.laN)
		copy(d.la[:], d.la[k:d.laN])
		d.laN -= k
		n -= k
	}
	d.pos += n
}

// readInto consumes up to len(dst) unread bytes into dst and returns how many.
func (d *Decoder) readInto(dst []byte) int {
	n := 0
	if d.laN > 0 {
		n = copy(dst, d.la[:d.laN])
		d.skip(n)
		if n == len(dst) {
			return n
		}
	}
	k := copy(dst[n:], d.buf[d.pos:])
	d.pos += k
	d.off += int64(k)
	return n + k
}

// Next returns the next complete item, or false when it needs more input.
func (d *Decoder) Next() (Item, bool) {
	if d.cut.Kind != 0 {
		it := d.cut
		d.cut = Item{}
		return it, true
	}
	for {
		var it Item
		var ok, more bool
		switch d.state {
		case stateStart:
			it, ok, more = d.start()
		case stateHeader:
			it, ok, more = d.header()
		case stateBody:
			it, ok, more = d.body()
		case stateSSLv2:
			it, ok, more = d.sslv2()
		case stateProxy:
			it, ok, more = d.proxyHeader()
		case stateHunt, stateResync:
			it, ok, more = d.scan()
		case stateSSLv2Skip:
			n := min(d.left, d.avail())
			d.skip(n)
			d.skipped += int64(n)
			d.left -= n
			if d.left == 0 {
				d.state = stateHeader
			}
			more = n > 0
		}
		if ok {
			if it.RecordEnd == 0 {
				it.RecordEnd = it.End
			}
			it.Unconfirmed = d.unconfirmed
			return it, true
		}
		if !more {
			if d.pos == len(d.buf) {
				d.buf, d.pos = nil, 0
			}
			return Item{}, false
		}
	}
}

// start decides what the stream is from its first five bytes.
func (d *Decoder) start() (it Item, ok, more bool) {
	w, got := d.peek(5)
	if !got {
		return it, false, false
	}
	switch {
	case w[0]-20 <= 4 && w[1] == 3 && w[2] <= 4:
		// A TLS record header, even if its length is wrong: header()
		// reports that as malformed rather than calling the stream non-TLS.
		d.state = stateHeader
	case plausibleSSLv2Hello(w), plausibleSSLv2ServerHello(w):
		d.state = stateSSLv2
	case !d.proxyDone && ProxyHeaderPrefix(w):
		// Checked once, at the stream's first bytes only.
		d.state, d.proxyAt, d.proxyV1 = stateProxy, d.off, w[0] == 'P'
	default:
		d.state = stateHunt
		d.describing = true
		d.preludeAt = d.off
	}
	return it, false, true
}

// proxyHeader reads a PROXY protocol header (ParseProxyHeader) at the
// stream's start: a version 1 line up to its LF, at most ProxyV1Max
// bytes; a version 2 header by its length, keeping its first proxyKeep
// bytes. Then the stream starts again after it.
func (d *Decoder) proxyHeader() (it Item, ok, more bool) {
	if d.proxyBuf == nil {
		d.proxyBuf = make([]byte, 0, proxyKeep)
	}
	b := d.proxyBuf
	if d.proxyV1 {
		for len(b) < ProxyV1Max && d.avail() > 0 && (len(b) == 0 || b[len(b)-1] != '\n') {
			var c [1]byte
			d.readInto(c[:])
			b = append(b, c[0])
		}
		d.proxyBuf = b
		if len(b) == 0 || len(b) < ProxyV1Max && b[len(b)-1] != '\n' {
			return it, false, false
		}
	} else {
		if len(b) < 16 {
			b = b[:len(b)+d.readInto(b[len(b):16])]
			d.proxyBuf = b
			if len(b) < 16 {
				return it, false, false
			}
			d.proxyLen = 16
			if _, err := parseProxyV2(b); err == nil || errors.Is(err, ErrProxyTruncated) {
				d.proxyLen = 16 + int(binary.BigEndian.Uint16(b[14:16]))
			}
		}
		for read := d.off - d.proxyAt; read < int64(d.proxyLen) && d.avail() > 0; read = d.off - d.proxyAt {
			want := int(int64(d.proxyLen) - read)
			if room := cap(b) - len(b); room > 0 {
				b = b[:len(b)+d.readInto(b[len(b):len(b)+min(room, want)])]
				d.proxyBuf = b
				continue
			}
			n := min(want, d.avail())
			d.skip(n)
		}
		if d.off-d.proxyAt < int64(d.proxyLen) {
			return it, false, false
		}
	}
	it = Item{Kind: KindProxyHeader, Start: d.proxyAt, End: d.off, Body: b[:len(b):len(b)]}
	if _, err := ParseProxyHeader(b); err != nil {
		it.Err = fmt.Errorf("tlsparse: PROXY protocol header at offset %d: %w", d.proxyAt, err)
	}
	d.proxyDone = true
	d.state = stateStart
	return it, true, true
}

func (d *Decoder) header() (it Item, ok, more bool) {
	w, got := d.peek(5)
	if !got {
		return it, false, false
	}
	if d.sslv2Session && !plausibleHeader(w) {
		// A client that spoke SSLv2 and got an SSLv2 answer goes on with
		// SSLv2 records (CLIENT-MASTER-KEY, …), and so does the server:
		// report each, then pass over it by length. Their header is 2
		// bytes with the high bit set, or 3 bytes (the third is the
		// padding length) without it.
		hdr := 2
		n := int(w[0]&0x7f)<<8 | int(w[1])
		if w[0]&0x80 == 0 {
			hdr = 3
			n = int(w[0]&0x3f)<<8 | int(w[1])
		}
		head, got := d.peek(hdr + min(n, 4))
		if !got {
			return it, false, false
		}
		k := copy(d.sslv2Head[:], head[hdr:])
		// Reported at its start, as an oversized handshake message is: End
		// is the end of the bytes read, RecordEnd the end of the record.
		it = Item{Kind: KindSSLv2Record, Start: d.off, End: d.off + int64(hdr+k), RecordEnd: d.off + int64(hdr+n),
			Record: RecordHeader{Version: VersionSSL20, Length: n}, Body: d.sslv2Head[:k:k]}
		d.skip(hdr)
		d.skipped += int64(hdr)
		d.left = n
		d.state = stateSSLv2Skip
		if n == 0 {
			d.state = stateHeader
		}
		return it, true, true
	}
	if d.unconfirmed && d.off == d.foundAt {
		// A hello, a plaintext alert or a change_cipher_spec record is
		// its own confirmation: their first bytes hardly ever occur by
		// chance (a capture that missed the SYN begins with a hello).
		if n := anchorWidth(w[0]); n > 0 && n <= 5+(int(w[3])<<8|int(w[4])) {
			a, got := d.peek(n)
			if !got {
				return it, false, false
			}
			d.unconfirmed = !plausibleAnchor(a)
		}
	}
	// next is the header after a record that a resynchronisation found.
	next := d.unconfirmed && d.off != d.foundAt
	h, err := ParseRecordHeader(w)
	if err != nil || h.Length == 0 && h.Type != ContentTypeApplicationData {
		if next {
			// The record before was found by chance: these bytes are
			// not TLS, nor malformed TLS.
			d.skip(1)
			d.skipped++
			d.dropPartial()
			d.state = stateResync
			return it, false, true
		}
		if err == nil {
			err = fmt.Errorf("tlsparse: record at offset %d: empty %s record", d.off, h.Type)
		} else {
			err = fmt.Errorf("%w (offset %d, bytes % x)", err, d.off, w)
		}
		it = Item{Kind: KindMalformed, Start: d.off, End: d.off + 5, Record: h, Err: err}
		d.skip(1)
		d.skipped++
		// Record framing is lost: a handshake message in progress cannot
		// be completed from whatever the resynchronisation finds.
		d.dropPartial()
		d.state = stateResync
		return it, true, true
	}
	if next {
		d.unconfirmed = false
	}
	d.tlsRead = d.tlsRead || !d.unconfirmed
	if h.Type == ContentTypeHandshake && d.encrypted && !d.explicit && d.onlyHellos && h.Length >= 4 {
		// TLS 1.3 middlebox compatibility (RFC 8446, Appendix D.4): a client
		// sends change_cipher_spec before its second ClientHello and a server
		// after its HelloRetryRequest, and the hello that follows is plaintext.
		// TLS ≤ 1.2 abbreviated handshakes send an encrypted Finished here.
		w9, got := d.peek(9)
		if !got {
			return it, false, false
		}
		if plaintextHello(w9[5:], h.Length) {
			d.encrypted = false
		}
	}
	d.skip(5)
	d.rec, d.recAt, d.left, d.smallN = h, d.off-5, h.Length, 0
	d.recPlain = h.Type == ContentTypeHandshake && !d.encrypted
	d.state = stateBody
	if h.Type != ContentTypeHandshake && d.hsPartial() {
		if d.hsHdrN == 0 {
			// The rest of an oversized message, which was reported at its
			// header: forget it.
			d.dropPartial()
			return it, false, true
		}
		// A record of another type in the middle of a handshake message
		// violates RFC 8446, Section 5.1; report and forget the fragment.
		it = d.hsMalformed(fmt.Errorf("tlsparse: handshake message at offset %d interrupted by a %s record at offset %d", d.hsAt, h.Type, d.recAt))
		return it, true, true
	}
	return it, false, true
}

func plaintextHello(w []byte, recLen int) bool {
	if w[0] != byte(HandshakeTypeClientHello) && w[0] != byte(HandshakeTypeServerHello) {
		return false
	}
	n := int(w[1])<<16 | int(w[2])<<8 | int(w[3])
	return n >= 38 && n <= MaxHandshakeSize && (4+n <= recLen || recLen >= 256)
}

func (d *Decoder) body() (it Item, ok, more bool) {
	if d.rec.Type == ContentTypeHandshake && d.recPlain {
		return d.handshake()
	}
	if d.keepPayloads && d.keepsPayload() {
		for d.left > 0 {
			if d.avail() == 0 {
				return it, false, false
			}
			n := len(d.payload)
			d.payload = append(d.payload, make([]byte, min(d.left, d.avail()))...)
			c := d.readInto(d.payload[n:])
			d.left -= c
		}
	}
	// Skip (or for short control records, keep the first two bytes of) the body.
	for d.left > 0 {
		if d.avail() == 0 {
			return it, false, false
		}
		if d.rec.Type == ContentTypeAlert || d.rec.Type == ContentTypeChangeCipherSpec || d.rec.Type == ContentTypeHeartbeat {
			for d.smallN < len(d.small) && d.left > 0 && d.avail() > 0 {
				d.smallN += d.readInto(d.small[d.smallN : d.smallN+1])
				d.left--
			}
		}
		n := min(d.left, d.avail())
		d.skip(n)
		d.left -= n
	}
	it = Item{Start: d.recAt, End: d.off, Record: d.rec}
	switch d.rec.Type {
	case ContentTypeChangeCipherSpec:
		it.Kind = KindChangeCipherSpec
		d.encrypted = true
	case ContentTypeAlert:
		it.Kind = KindAlert
		if d.rec.Length == 2 {
			it.Alert = Alert{AlertLevel(d.small[0]), AlertDescription(d.small[1])}
		} else {
			it.Encrypted = true
		}
	case ContentTypeApplicationData:
		it.Kind = KindApplicationData
	case ContentTypeHandshake:
		it.Kind = KindEncryptedHandshake
	case ContentTypeHeartbeat:
		it.Kind = KindHeartbeat
		it.Encrypted = d.encrypted
		if !d.encrypted && d.smallN == len(d.small) {
			it.Heartbeat = HeartbeatHeader{HeartbeatMessageType(d.small[0]), int(d.small[1])<<8 | int(d.small[2])}
		}
	}
	if d.keepPayloads && d.keepsPayload() {
		it.Body = d.payload
		d.payload = d.payload[:0]
	}
	d.state = stateHeader
	return it, true, true
}

// keepsPayload reports whether the current record's payload is handed out
// after KeepPayloads: application data, and the encrypted handshake and
// alert records of TLS ≤ 1.2 (after change_cipher_spec).
func (d *Decoder) keepsPayload() bool {
	switch d.rec.Type {
	case ContentTypeApplicationData:
		return true
	case ContentTypeHandshake:
		return !d.recPlain
	case ContentTypeAlert:
		return d.rec.Length != 2
	}
	return false
}

func (d *Decoder) hsPartial() bool { return d.hsHdrN > 0 || d.hsSkip > 0 }

func (d *Decoder) hsMalformed(err error) Item {
	it := Item{Kind: KindMalformed, Start: d.hsAt, End: d.off, Record: d.rec, Err: err}
	d.hsHdrN, d.hsHave, d.hsLen, d.hsSkip = 0, 0, 0, 0
	return it
}

// bigMessage is the size beyond which a handshake message buffer is not
// kept for the next message: a decoder per connection direction must not
// hold on to the largest message it ever saw.
const bigMessage = 16 << 10

// handshake reads handshake-message bytes from the current record.
func (d *Decoder) handshake() (it Item, ok, more bool) {
	for {
		if d.left == 0 {
			d.state = stateHeader
			return it, false, true
		}
		if d.avail() == 0 {
			return it, false, false
		}
		if d.hsSkip > 0 {
			n := min(d.hsSkip, d.left, d.avail())
			d.skip(n)
			d.hsSkip -= n
			d.left -= n
			continue
		}
		if d.hsHdrN == 0 {
			if cap(d.hsBody) > bigMessage {
				// The last message was unusually big (its Item is no
				// longer valid): give the memory back.
				d.hsBody = nil
			}
			d.hsAt = d.off
			// Fast path: the whole message is in this record and this input.
			if d.laN == 0 && d.left >= 4 && len(d.buf)-d.pos >= 4 {
				b := d.buf[d.pos:]
				n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
				if 4+n <= d.left && 4+n <= len(b) && n <= MaxHandshakeSize {
					d.skip(4 + n)
					d.left -= 4 + n
					return d.hsItem(HandshakeType(b[0]), b[4:4+n:4+n]), true, true
				}
			}
		}
		if d.hsHdrN < 4 {
			c := d.readInto(d.hsHdr[d.hsHdrN : d.hsHdrN+min(4-d.hsHdrN, d.left)])
			d.hsHdrN += c
			d.left -= c
			if d.hsHdrN < 4 {
				continue
			}
			d.hsLen = int(d.hsHdr[1])<<16 | int(d.hsHdr[2])<<8 | int(d.hsHdr[3])
			d.hsHave = 0
			if d.hsLen > MaxHandshakeSize {
				// Skip it by length without buffering, and say so now: the
				// rest may never arrive. End is the end of the header.
				d.hsSkip, d.hsHdrN = d.hsLen, 0
				return Item{
					Kind: KindMalformed, Start: d.hsAt, End: d.off, Record: d.rec,
					RecordEnd: d.recAt + 5 + int64(d.rec.Length), HandshakeType: HandshakeType(d.hsHdr[0]),
					Err: &OversizedError{Type: HandshakeType(d.hsHdr[0]), At: d.hsAt, Length: d.hsLen},
				}, true, true
			}
			if cap(d.hsBody) < d.hsLen {
				d.hsBody = make([]byte, d.hsLen, max(d.hsLen, 2*cap(d.hsBody)))
			}
		}
		for d.hsHave < d.hsLen && d.left > 0 && d.avail() > 0 {
			c := d.readInto(d.hsBody[d.hsHave : d.hsHave+min(d.hsLen-d.hsHave, d.left)])
			d.hsHave += c
			d.left -= c
		}
		if d.hsHave == d.hsLen {
			d.hsHdrN = 0
			return d.hsItem(HandshakeType(d.hsHdr[0]), d.hsBody[:d.hsLen:d.hsLen]), true, true
		}
	}
}

// Announced returns the handshake message whose header the decoder has
// read and whose body it is still collecting, or skipping when it is
// longer than MaxHandshakeSize: its type, the body length its header
// announces and the stream offset of that header. ok is false between
// messages. A peer that gives up on a message while it arrives leaves
// only this of it in a capture.
func (d *Decoder) Announced() (t HandshakeType, length int, at int64, ok bool) {
	if d.hsSkip > 0 || d.hsHdrN == 4 && d.hsHave < d.hsLen {
		return HandshakeType(d.hsHdr[0]), d.hsLen, d.hsAt, true
	}
	return 0, 0, 0, false
}

func (d *Decoder) hsItem(t HandshakeType, body []byte) Item {
	if t != HandshakeTypeClientHello && t != HandshakeTypeServerHello {
		d.onlyHellos = false
	} else if !d.sawMessage {
		d.onlyHellos = true
	}
	d.sawMessage = true
	return Item{Kind: KindHandshake, Start: d.hsAt, End: d.off, Record: d.rec, RecordEnd: d.recAt + 5 + int64(d.rec.Length), HandshakeType: t, Body: body}
}

// sslv2 reads the first record of an SSLv2 stream (2-byte header): an
// SSLv2-compatible CLIENT-HELLO or an SSLv2 SERVER-HELLO.
func (d *Decoder) sslv2() (it Item, ok, more bool) {
	if d.sslv2Len == 0 {
		w, got := d.peek(2)
		if !got {
			return it, false, false
		}
		d.sslv2Len = int(w[0]&0x7f)<<8 | int(w[1])
		d.recAt = d.off
		d.skip(2)
		d.hsHave = 0
		if cap(d.hsBody) < d.sslv2Len {
			d.hsBody = make([]byte, d.sslv2Len)
		}
	}
	for d.hsHave < d.sslv2Len && d.avail() > 0 {
		d.hsHave += d.readInto(d.hsBody[d.hsHave:d.sslv2Len])
	}
	if d.hsHave < d.sslv2Len {
		return it, false, false
	}
	kind, typ := KindSSLv2ClientHello, HandshakeTypeClientHello
	if d.hsBody[0] == sslv2ServerHello {
		kind, typ = KindSSLv2ServerHello, HandshakeTypeServerHello
	}
	it = Item{
		Kind: kind, Start: d.recAt, End: d.off,
		Record:        RecordHeader{Version: VersionSSL20, Length: d.sslv2Len},
		HandshakeType: typ,
		Body:          d.hsBody[:d.sslv2Len:d.sslv2Len],
	}
	d.sslv2Len, d.hsHave = 0, 0
	d.state = stateHeader
	d.sawMessage, d.onlyHellos, d.sslv2Session = true, true, true
	return it, true, true
}

// scan passes over bytes until a plausible record header (stateResync) or
// a ClientHello/ServerHello or alert record (stateHunt) starts. Memory stays bounded:
// at most helloWidth bytes are held across Feed calls.
func (d *Decoder) scan() (it Item, ok, more bool) {
	width, match := headerWidth, plausibleHeader
	switch {
	case d.state == stateHunt:
		width, match = huntWidth, plausibleHello
	case !d.tlsRead:
		match = plausibleFirstHeader
	}
	// Candidates that begin in the lookahead are tried one byte at a time;
	// a byte is held only while it may still begin a match, so that the
	// outcome does not depend on how the stream was split into Feeds.
	for d.laN > 0 {
		w, got := d.peek(width(d.la[0]))
		if match(w) {
			if got {
				return d.found()
			}
			if d.describing && d.preludeComplete() {
				return d.emitNonTLS(), true, true
			}
			return it, false, false
		}
		d.skipPrelude(1)
	}
	b := d.buf[d.pos:]
	i, partial := findCandidate(b, width, match)
	switch {
	case i >= 0 && !partial:
		d.skipPrelude(i)
		return d.found()
	case partial:
		d.skipPrelude(i)
		d.peek(width(b[i])) // moves the tail into the lookahead
	default:
		d.skipPrelude(len(b))
	}
	if d.describing && d.preludeComplete() {
		return d.emitNonTLS(), true, true
	}
	return it, false, false
}

// headerWidth and huntWidth give how many bytes plausibleHeader and
// plausibleHello look at of a candidate that begins with b0.
func headerWidth(b0 byte) int { return 5 }

func huntWidth(b0 byte) int {
	if b0 == byte(ContentTypeAlert) {
		return alertWidth
	}
	return helloWidth
}

// findCandidate returns the index of the first full match in b, or the
// index from which b's tail might still begin a match (partial), or -1.
// match accepts windows shorter than width when they are a valid prefix.
func findCandidate(b []byte, width func(byte) int, match func([]byte) bool) (int, bool) {
	// Every header has 0x03 as its second byte: jump between those.
	for i := 0; ; i++ {
		j := bytes.IndexByte(b[i:], 3)
		if j < 0 {
			break
		}
		i += j
		if i == 0 {
			continue
		}
		s := i - 1
		n := width(b[s])
		if w := b[s:min(s+n, len(b))]; match(w) {
			return s, len(w) < n
		}
	}
	if n := len(b); n > 0 && match(b[n-1:]) {
		return n - 1, true
	}
	return -1, false
}

// skipPrelude passes over n unread bytes, keeping the first ones of a
// non-TLS prelude to describe it.
func (d *Decoder) skipPrelude(n int) {
	if d.describing && d.preludeN < preludeMax {
		k := min(n, preludeMax-d.preludeN)
		if d.laN > 0 {
			k = min(k, d.laN)
			copy(d.prelude[d.preludeN:], d.la[:k])
			d.preludeN += k
		} else {
			d.preludeN += copy(d.prelude[d.preludeN:], d.buf[d.pos:d.pos+k])
		}
	}
	d.skip(n)
	d.skipped += int64(n)
}

// Unsaid returns the bytes of a stream that is not TLS which the decoder
// kept to describe but never reported, the stream having ended before
// their description was complete (a few binary bytes, no line end), and
// the stream offset of the first. It is nil otherwise. b is the
// decoder's: copy it to keep it.
func (d *Decoder) Unsaid() (b []byte, at int64) {
	if d.state == stateProxy && len(d.proxyBuf) > 0 {
		return d.proxyBuf, d.proxyAt
	}
	if !d.describing || d.nonTLSDone || d.preludeN == 0 {
		return nil, 0
	}
	return d.prelude[:d.preludeN], d.preludeAt
}

func (d *Decoder) preludeComplete() bool {
	switch b := d.prelude[:d.preludeN]; {
	case d.preludeN >= preludeMax, http2ServerSettings(b) > 0:
		// An HTTP/2 server's SETTINGS frame is binary and short: whole,
		// it is all such a server says before the client's preface.
		return true
	case http2SettingsPrefix(b):
		return false // binary: a 0x0a in it is no line end
	}
	for _, c := range d.prelude[:d.preludeN] {
		if c == '\n' {
			return true
		}
	}
	return false
}

func (d *Decoder) emitNonTLS() Item {
	b := d.prelude[:d.preludeN]
	if n := http2ServerSettings(b); n > 0 {
		b = b[:n] // binary: a 0x0a in it is no line end
	} else if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	}
	d.describing, d.nonTLSDone = false, true
	return Item{Kind: KindNonTLS, Start: d.preludeAt, End: d.preludeAt + int64(len(b)), NonTLS: describeNonTLS(b)}
}

func (d *Decoder) found() (it Item, ok, more bool) {
	d.unconfirmed, d.foundAt = d.state == stateResync, d.off
	d.state = stateHeader
	if d.describing && d.preludeN > 0 {
		return d.emitNonTLS(), true, true
	}
	d.describing = false
	return it, false, true
}
