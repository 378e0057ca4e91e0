package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// frame is what tshark says about one captured frame: the facts the checks
// and the README need.
type frame struct {
	Number       int
	Time         time.Time
	Len          int // frame.len
	SrcPort      uint16
	DstPort      uint16
	Flags        uint16 // tcp.flags
	PayloadLen   int    // tcp.len
	ContentTypes []int  // tls.record.content_type or, for TLS 1.3 protected records, opaque_type
	Handshakes   []int  // tls.handshake.type
	Alerts       []int  // tls.alert_message.desc (plaintext alerts only)
	Payload      []byte // tcp.payload
	Certificates [][]byte
	FromServer   bool
	TTL          int  // ip.ttl
	Retransmit   bool // tcp.analysis.retransmission
	// DNS: the first question's name (dns.qry.name), whether the message
	// is an answer, its response code (dns.flags.rcode) and its A records.
	DNSName     string
	DNSResponse bool
	DNSRCode    int
	DNSA        []string
}

// tsharkFields are the fields extracted per frame, in parse order.
var tsharkFields = []string{
	"frame.number", "frame.time_epoch", "frame.len",
	"tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.len",
	"tls.record.content_type", "tls.handshake.type", "tls.alert_message.desc",
	"tcp.payload", "tls.handshake.certificate", "tls.record.opaque_type",
	"ip.ttl", "tcp.analysis.retransmission",
	"dns.qry.name", "dns.flags.response", "dns.flags.rcode", "dns.a",
}

// readFrames runs tshark on file and returns its frames; a frame is the
// server's when its source port is one of serverPorts.
func readFrames(ctx context.Context, file string, serverPorts []uint16) ([]frame, error) {
	args := []string{"-r", file, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	out, err := exec.CommandContext(ctx, "tshark", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("tshark -r %s: %w", file, err)
	}
	var frames []frame
	for line := range strings.SplitSeq(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f, err := parseFrame(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w in %q", file, err, line)
		}
		f.FromServer = slices.Contains(serverPorts, f.SrcPort)
		frames = append(frames, f)
	}
	return frames, nil
}

func parseFrame(line string) (frame, error) {
	v := strings.Split(line, "\t")
	if len(v) != len(tsharkFields) {
		return frame{}, fmt.Errorf("%d fields, want %d", len(v), len(tsharkFields))
	}
	var f frame
	var err error
	num := func(s string, base int) int64 {
		if s == "" || err != nil {
			return 0
		}
		s = strings.TrimPrefix(s, "0x")
		var n int64
		n, err = strconv.ParseInt(s, base, 64)
		return n
	}
	nums := func(s string) []int {
		var r []int
		for x := range strings.SplitSeq(s, ",") {
			if x != "" {
				r = append(r, int(num(x, 10)))
			}
		}
		return r
	}
	f.Number = int(num(v[0], 10))
	sec, frac, _ := strings.Cut(v[1], ".")
	frac = (frac + "000000000")[:9]
	f.Time = time.Unix(num(sec, 10), num(frac, 10)).UTC()
	f.Len = int(num(v[2], 10))
	f.SrcPort = uint16(num(v[3], 10))
	f.DstPort = uint16(num(v[4], 10))
	f.Flags = uint16(num(v[5], 16))
	f.PayloadLen = int(num(v[6], 10))
	f.ContentTypes = append(nums(v[7]), nums(v[12])...)
	f.Handshakes = nums(v[8])
	f.Alerts = nums(v[9])
	f.TTL = int(num(v[13], 10))
	f.Retransmit = v[14] != ""
	f.DNSName, _, _ = strings.Cut(v[15], ",")
	f.DNSResponse = v[16] == "1" || v[16] == "True"
	f.DNSRCode = int(num(v[17], 10))
	if v[18] != "" {
		f.DNSA = strings.Split(v[18], ",")
	}
	if err != nil {
		return frame{}, err
	}
	if f.Payload, err = hex.DecodeString(v[10]); err != nil {
		return frame{}, fmt.Errorf("tcp.payload: %w", err)
	}
	for c := range strings.SplitSeq(v[11], ",") {
		if c == "" {
			continue
		}
		der, err := hex.DecodeString(strings.ReplaceAll(c, ":", ""))
		if err != nil {
			return frame{}, fmt.Errorf("tls.handshake.certificate: %w", err)
		}
		f.Certificates = append(f.Certificates, der)
	}
	return f, nil
}

// TCP flag bits (RFC 9293).
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagACK = 0x10
)

// TLS numbers used by the checks (RFC 8446).
const (
	recordAlert           = 21
	recordHandshake       = 22
	recordApplicationData = 23
	recordCCS             = 20

	hsClientHello        = 1
	hsServerHello        = 2
	hsCertificate        = 11
	hsCertificateRequest = 13
)

// pred is a property of one frame.
type pred func(f frame) bool

func syn(f frame) bool    { return f.Flags&(flagSYN|flagACK) == flagSYN }
func synAck(f frame) bool { return f.Flags&(flagSYN|flagACK) == flagSYN|flagACK }
func rst(f frame) bool    { return f.Flags&flagRST != 0 }
func fin(f frame) bool    { return f.Flags&flagFIN != 0 }
func data(f frame) bool   { return f.PayloadLen > 0 }

func hs(t int) pred         { return func(f frame) bool { return slices.Contains(f.Handshakes, t) } }
func record(t int) pred     { return func(f frame) bool { return slices.Contains(f.ContentTypes, t) } }
func alert(desc int) pred   { return func(f frame) bool { return slices.Contains(f.Alerts, desc) } }
func anyAlert(f frame) bool { return len(f.Alerts) > 0 }

// encryptedAlert is an alert record tshark could not read.
func encryptedAlert(f frame) bool { return record(recordAlert)(f) && len(f.Alerts) == 0 }

func contains(s string) pred {
	return func(f frame) bool { return bytes.Contains(f.Payload, []byte(s)) }
}

func fromServer(p pred) pred { return func(f frame) bool { return f.FromServer && p(f) } }
func fromClient(p pred) pred { return func(f frame) bool { return !f.FromServer && p(f) } }

func and(ps ...pred) pred {
	return func(f frame) bool {
		for _, p := range ps {
			if !p(f) {
				return false
			}
		}
		return true
	}
}

// check says how many frames of a capture have a property. The README names
// the frames of every check.
type check struct {
	label    string
	match    pred
	min, max int // max < 0: no upper bound
}

// matching returns the numbers of the frames that match c.
func (c check) matching(frames []frame) []int {
	var nums []int
	for _, f := range frames {
		if c.match(f) {
			nums = append(nums, f.Number)
		}
	}
	return nums
}

func (c check) want() string {
	switch {
	case c.min == c.max:
		return strconv.Itoa(c.min)
	case c.max < 0:
		return "at least " + strconv.Itoa(c.min)
	}
	return fmt.Sprintf("%d to %d", c.min, c.max)
}

// verify returns an error naming every check the frames fail.
func verify(frames []frame, checks []check) error {
	var bad []string
	for _, c := range checks {
		n := len(c.matching(frames))
		if n < c.min || (c.max >= 0 && n > c.max) {
			bad = append(bad, fmt.Sprintf("%s: %d frames, want %s", c.label, n, c.want()))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("capture does not show what it must:\n  %s", strings.Join(bad, "\n  "))
	}
	return nil
}
