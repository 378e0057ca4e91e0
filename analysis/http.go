package analysis

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/tlsdiag/tlsdiag/capture"
)

// HTTPResponse is the head of the first HTTP/1.x response the server sent
// where the capture can read it: in the clear (a plaintext server, or a
// TLS server answering a plaintext request), or inside TLS that a key log
// opened. It names the server software and the status, which decide
// several verdicts (a 400 for a missing client certificate) and which
// server's settings a fix names. Text fields are cut short and made
// printable; they are still network text.
type HTTPResponse struct {
	Frame capture.Frame
	// Decrypted is set when the response was read from decrypted TLS.
	Decrypted bool
	Status    int
	Reason    string
	// Server is the Server header's value, "" when absent.
	Server string
	// KeepAlive, Connection and PoweredBy are the values of the
	// Keep-Alive, Connection and X-Powered-By headers, "" when absent:
	// servers without a Server header are told by them (Node.js), and
	// Keep-Alive states the server's idle timeout ("timeout=5").
	KeepAlive, Connection, PoweredBy string
	// Title is the HTML page's <title>, and Body the first bytes of the
	// body (both as far as the bytes kept reach).
	Title, Body string
}

// httpHeadMax bounds the bytes of a stream kept to read a response head.
const httpHeadMax = 1024

// httpFieldMax bounds each text field of an HTTPResponse.
const httpFieldMax = 120

// parseHTTPResponse reads a response head from the first bytes of a
// stream; nil when they are not an HTTP/1.x response.
func parseHTTPResponse(b []byte) *HTTPResponse {
	b = b[:min(len(b), httpHeadMax)]
	if !bytes.HasPrefix(b, []byte("HTTP/1.")) {
		return nil
	}
	head, body, _ := bytes.Cut(b, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	// Status line: HTTP/1.1 SP 3DIGIT SP reason (RFC 9112, Section 4).
	_, rest, ok := strings.Cut(lines[0], " ")
	if !ok || len(rest) < 3 {
		return nil
	}
	status, err := strconv.Atoi(rest[:3])
	if err != nil || status < 100 || status > 999 {
		return nil
	}
	r := &HTTPResponse{Status: status, Reason: printable(strings.TrimSpace(rest[3:]))}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		var field *string
		switch name = strings.TrimSpace(name); {
		case strings.EqualFold(name, "server"):
			field = &r.Server
		case strings.EqualFold(name, "keep-alive"):
			field = &r.KeepAlive
		case strings.EqualFold(name, "connection"):
			field = &r.Connection
		case strings.EqualFold(name, "x-powered-by"):
			field = &r.PoweredBy
		default:
			continue
		}
		if *field == "" {
			*field = printable(strings.TrimSpace(value))
		}
	}
	if i := bytes.Index(bytes.ToLower(body), []byte("<title>")); i >= 0 {
		t := body[i+len("<title>"):]
		if j := bytes.Index(bytes.ToLower(t), []byte("</title>")); j >= 0 {
			t = t[:j]
		}
		r.Title = printable(strings.TrimSpace(string(t)))
	}
	r.Body = printable(strings.TrimSpace(string(body)))
	return r
}

// printable replaces control and non-ASCII bytes with '.', folds line
// breaks to spaces and cuts the text to httpFieldMax bytes.
func printable(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s) && sb.Len() < httpFieldMax; i++ {
		c := s[i]
		switch {
		case c == '\r' || c == '\n' || c == '\t':
			c = ' '
		case c < 0x20 || c > 0x7e:
			c = '.'
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// plaintextResponse reads the server's plaintext answer, when it was an
// HTTP response, from the bytes kept of its stream.
func (t *tracker) plaintextResponse() {
	c := t.c
	if c.Response != nil || c.ServerSide.NonTLS == nil || t.dirs == nil {
		return
	}
	for cd := range t.dirs {
		if t.dir(capture.Direction(cd)) != capture.ServerToClient {
			continue
		}
		if r := parseHTTPResponse(t.dirs[cd].head); r != nil {
			r.Frame = c.ServerSide.NonTLS.Frame
			c.Response = r
		}
	}
}
