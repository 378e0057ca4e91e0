package capture

import (
	"encoding/binary"
	"fmt"
)

// SecretsTypeTLSKeyLog is the secrets type of a pcapng Decryption Secrets
// Block holding an NSS key log (SSLKEYLOGFILE lines), as written by
// `editcap --inject-secrets tls,keys.txt` and Wireshark.
const SecretsTypeTLSKeyLog = 0x544c534b

// DecryptionSecrets is the content of one pcapng Decryption Secrets Block
// (pcapng specification, Section 4.7).
type DecryptionSecrets struct {
	Type   uint32 // SecretsTypeTLSKeyLog, or another type the caller may ignore
	Data   []byte
	Offset int64 // of the block, in the (decompressed) file
}

// maxSecretsBlock bounds one Decryption Secrets Block kept: a key log of
// about 100,000 TLS 1.3 connections. A larger block is skipped and
// reported.
const maxSecretsBlock = 64 << 20

// maxPendingSecrets bounds the secrets held until OnDecryptionSecrets is
// called.
const maxPendingSecrets = maxSecretsBlock

// pcapng block types (pcapng specification, Section 11.1).
const (
	ngBlockSection = 0x0A0D0D0A
	ngBlockSecrets = 0x0000000A
	ngByteOrder    = 0x1A2B3C4D
)

// secretsScanner follows the pcapng block structure in the bytes that
// pass under the packet reader, which skips Decryption Secrets Blocks
// after the first packet, and keeps those blocks. It only reads: a file
// it cannot follow is the packet reader's to report.
type secretsScanner struct {
	order   binary.ByteOrder
	off     int64 // stream offset of the next byte fed
	hdr     [12]byte
	hdrN    int
	blockAt int64
	typ     uint32
	left    int64  // bytes of the current block's body still to come
	body    []byte // the current Decryption Secrets Block's body
	keep    bool   // the current block is a secrets block being kept
	stopped bool

	deliver func(DecryptionSecrets)
	pending []DecryptionSecrets
	held    int
	// Skipped describes the blocks not kept (too large, malformed).
	skipped []string
}

func (s *secretsScanner) feed(p []byte) {
	for len(p) > 0 && !s.stopped {
		if s.left == 0 {
			n := s.header(p)
			p = p[n:]
			continue
		}
		n := int(min(s.left, int64(len(p))))
		if s.keep {
			s.body = append(s.body, p[:n]...)
		}
		p = p[n:]
		s.off += int64(n)
		s.left -= int64(n)
		if s.left == 0 && s.keep {
			s.secretsBlock()
		}
	}
}

// header collects a block header and returns the bytes of p it used. The
// first 8 bytes give type and total length; a Section Header Block needs
// 4 more, its byte-order magic, before its length can be read.
func (s *secretsScanner) header(p []byte) int {
	if s.hdrN == 0 {
		s.blockAt = s.off
	}
	section := s.hdrN >= 4 && binary.LittleEndian.Uint32(s.hdr[:4]) == ngBlockSection
	need := 8
	if section {
		need = 12
	}
	n := copy(s.hdr[s.hdrN:need], p)
	s.hdrN += n
	s.off += int64(n)
	if s.hdrN < need || !section && s.hdrN >= 4 && binary.LittleEndian.Uint32(s.hdr[:4]) == ngBlockSection {
		return n // more to come (a Section Header's byte-order magic too)
	}
	if need == 12 {
		switch {
		case binary.LittleEndian.Uint32(s.hdr[8:]) == ngByteOrder:
			s.order = binary.LittleEndian
		case binary.BigEndian.Uint32(s.hdr[8:]) == ngByteOrder:
			s.order = binary.BigEndian
		default:
			s.stopped = true
			return n
		}
	}
	if s.order == nil {
		s.stopped = true // no Section Header first: not pcapng
		return n
	}
	s.typ = s.order.Uint32(s.hdr[:4])
	length := int64(s.order.Uint32(s.hdr[4:8]))
	if length < 12 || length%4 != 0 {
		s.stopped = true
		return n
	}
	s.left = length - int64(need)
	s.hdrN = 0
	s.keep = false
	if s.typ == ngBlockSecrets {
		if length > maxSecretsBlock {
			s.skipped = append(s.skipped, fmt.Sprintf("a Decryption Secrets Block of %d bytes at offset %d is over the %d MiB limit, skipped", length, s.blockAt, maxSecretsBlock>>20))
		} else {
			s.keep = true
			s.body = s.body[:0]
		}
	}
	return n
}

// secretsBlock reads a complete Decryption Secrets Block body: secrets
// type, secrets length, the secrets, padding, options and the trailing
// length.
func (s *secretsScanner) secretsBlock() {
	s.keep = false
	b := s.body
	if len(b) < 8+4 {
		s.skipped = append(s.skipped, fmt.Sprintf("a Decryption Secrets Block at offset %d is too short", s.blockAt))
		return
	}
	typ, n := s.order.Uint32(b), int64(s.order.Uint32(b[4:]))
	if n > int64(len(b)-12) {
		s.skipped = append(s.skipped, fmt.Sprintf("a Decryption Secrets Block at offset %d claims %d bytes of secrets but holds %d", s.blockAt, n, len(b)-12))
		return
	}
	ds := DecryptionSecrets{Type: typ, Data: append([]byte(nil), b[8:8+n]...), Offset: s.blockAt}
	if s.deliver != nil {
		s.deliver(ds)
		return
	}
	if s.held+len(ds.Data) > maxPendingSecrets {
		s.skipped = append(s.skipped, fmt.Sprintf("the Decryption Secrets Block at offset %d is beyond the %d MiB held before reading began, skipped", s.blockAt, maxPendingSecrets>>20))
		return
	}
	s.held += len(ds.Data)
	s.pending = append(s.pending, ds)
}

// OnDecryptionSecrets makes the File call fn with the content of every
// pcapng Decryption Secrets Block, wherever it is in the file: at once for
// those already read, then as reading reaches them, on the goroutine
// reading the File. A block is seen when the bytes holding it are read,
// which is before the packets that follow it are returned. It does nothing
// for a pcap file.
func (f *File) OnDecryptionSecrets(fn func(DecryptionSecrets)) {
	s := f.secrets
	if s == nil {
		return
	}
	for _, ds := range s.pending {
		fn(ds)
	}
	s.pending, s.held = nil, 0
	s.deliver = fn
}

// SecretsProblems describes the Decryption Secrets Blocks that were not
// kept (over the size limit, malformed), for a warning.
func (f *File) SecretsProblems() []string {
	if f.secrets == nil {
		return nil
	}
	return f.secrets.skipped
}
