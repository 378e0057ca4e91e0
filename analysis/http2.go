package analysis

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/tlsdiag/tlsdiag/capture"

	"golang.org/x/net/http2/hpack"
)

// http2Preface is the client's connection preface (RFC 9113, Section 3.4).
const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// HTTP/2 frame types (RFC 9113, Section 6) and HEADERS flags.
const (
	h2Data, h2Headers, h2RSTStream, h2PushPromise, h2GoAway = 0x0, 0x1, 0x3, 0x5, 0x7

	h2EndHeaders, h2Padded, h2Priority = 0x4, 0x8, 0x20
)

// h2Exchange looks at the frames that start a decrypted record of an
// HTTP/2 connection. It reports whether one belongs to a request or an
// answer (HEADERS, DATA, RST_STREAM, PUSH_PROMISE, GOAWAY) rather than to
// the connection's own housekeeping (SETTINGS, PING, WINDOW_UPDATE,
// PRIORITY), which both sides send without waiting for the other, and
// returns the first HEADERS frame's header block when it is whole. A
// frame cut by the record's end ends the look.
func h2Exchange(b []byte) (exchange bool, block []byte) {
	b = bytes.TrimPrefix(b, []byte(http2Preface))
	for len(b) >= 9 {
		n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		typ, flags := b[3], b[4]
		switch typ {
		case h2Data, h2RSTStream, h2PushPromise, h2GoAway:
			return true, nil
		case h2Headers:
			if len(b) < 9+n || flags&h2EndHeaders == 0 {
				return true, nil
			}
			p := b[9 : 9+n]
			pad := 0
			if flags&h2Padded != 0 {
				if len(p) < 1 {
					return true, nil
				}
				pad, p = int(p[0]), p[1:]
			}
			if flags&h2Priority != 0 {
				if len(p) < 5 {
					return true, nil
				}
				p = p[5:]
			}
			if pad > len(p) {
				return true, nil
			}
			return true, p[:len(p)-pad]
		}
		if len(b) < 9+n {
			return false, nil
		}
		b = b[9+n:]
	}
	return false, nil
}

// H2GoAway is an HTTP/2 GOAWAY frame a side sent, and its error code.
type H2GoAway struct {
	Frame capture.Frame
	Code  H2ErrorCode
	// LastStream is the frame's last stream ID: the highest-numbered
	// stream its sender processed or may still process; those above it
	// were not processed and may be retried elsewhere.
	LastStream uint32
}

// H2ErrorCode is an HTTP/2 error code (RFC 9113, Section 7).
type H2ErrorCode uint32

// H2InadequateSecurity is the code of a peer that refuses the TLS
// connection's parameters (RFC 9113, Section 9.2: a version or suite
// HTTP/2 forbids).
const H2InadequateSecurity H2ErrorCode = 0xc

var h2ErrorNames = [...]string{"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
	"STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
	"ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"}

func (e H2ErrorCode) String() string {
	if int(e) < len(h2ErrorNames) {
		return h2ErrorNames[e]
	}
	return "0x" + strconv.FormatUint(uint64(e), 16)
}

// h2GoAwayCode returns the error code of the first GOAWAY frame among the
// whole frames that start b (after the client's preface, if any).
func h2GoAwayCode(b []byte) (H2ErrorCode, uint32, bool) {
	b = bytes.TrimPrefix(b, []byte(http2Preface))
	for len(b) >= 9 {
		n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		if len(b) < 9+n {
			return 0, 0, false
		}
		if b[3] == h2GoAway && n >= 8 {
			last := (uint32(b[9])<<24 | uint32(b[10])<<16 | uint32(b[11])<<8 | uint32(b[12])) & 0x7fffffff
			p := b[9+4:] // after the last stream ID
			return H2ErrorCode(uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])), last, true
		}
		b = b[9+n:]
	}
	return 0, 0, false
}

// h2Line words the first header block a side sent as a request or status
// line ("GET / HTTP/2", "HTTP/2 200"), "" when it does not decode. Each
// side's first header block is decoded with an empty dynamic table, as
// the peer's decoder begins (RFC 7541, Section 2.3.2).
func h2Line(block []byte) string {
	if block == nil {
		return ""
	}
	var method, path, status string
	d := hpack.NewDecoder(4096, nil)
	d.SetMaxStringLength(MaxLineLength)
	fields, err := d.DecodeFull(block)
	if err != nil {
		return ""
	}
	for _, f := range fields {
		switch f.Name {
		case ":method":
			method = f.Value
		case ":path":
			path = f.Value
		case ":status":
			status = f.Value
		}
	}
	var line string
	switch {
	case status != "":
		line = "HTTP/2 " + status
	case method != "":
		line = strings.TrimSpace(method + " " + path + " HTTP/2")
	}
	return firstLine([]byte(line))
}

// h2MaxHeadersStream returns the highest stream ID of the HEADERS frames
// among the frames at the start of b (a decrypted record), 0 when none.
func h2MaxHeadersStream(b []byte) uint32 {
	b = bytes.TrimPrefix(b, []byte(http2Preface))
	var max uint32
	for len(b) >= 9 {
		n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		if b[3] == h2Headers {
			if id := (uint32(b[5])<<24 | uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8])) & 0x7fffffff; id > max {
				max = id
			}
		}
		if len(b) < 9+n {
			break
		}
		b = b[9+n:]
	}
	return max
}
