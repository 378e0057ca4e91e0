package decrypt

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Key log labels (NSS key log format, as written by NSS, OpenSSL, BoringSSL,
// GnuTLS and Go's crypto/tls Config.KeyLogWriter).
const (
	LabelClientRandom             = "CLIENT_RANDOM" // TLS 1.2 and earlier: the 48-byte master secret
	LabelClientEarlyTraffic       = "CLIENT_EARLY_TRAFFIC_SECRET"
	LabelClientHandshakeTraffic   = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	LabelServerHandshakeTraffic   = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	LabelClientApplicationTraffic = "CLIENT_TRAFFIC_SECRET_0"
	LabelServerApplicationTraffic = "SERVER_TRAFFIC_SECRET_0"
	LabelExporter                 = "EXPORTER_SECRET"
)

// labels are the labels a KeyLog keeps; the index is the stored label.
var labels = [...]string{
	LabelClientRandom,
	LabelClientEarlyTraffic,
	LabelClientHandshakeTraffic,
	LabelServerHandshakeTraffic,
	LabelClientApplicationTraffic,
	LabelServerApplicationTraffic,
	LabelExporter,
}

// ignoredLabels are well-formed key log labels this package has no use for:
// skipped without complaint, unlike a misspelt label.
var ignoredLabels = map[string]bool{
	"EARLY_EXPORTER_SECRET": true,
	"RSA":                   true, // TLS 1.2 RSA key exchange: encrypted premaster prefix
	"ECH_SECRET":            true,
	"ECH_CONFIG":            true,
}

func labelIndex(label string) (uint8, bool) {
	for i, l := range labels {
		if l == label {
			return uint8(i), true
		}
	}
	return 0, false
}

const (
	// MaxKeyLogEntries bounds the secrets a KeyLog holds. An entry costs
	// about 200 bytes (the map slot, the secret and its place in the
	// eviction order), so a full KeyLog holds about 200 MB. A key log is
	// one line per secret: one per TLS 1.2 connection, five per TLS 1.3
	// connection. Past the bound the oldest entries are dropped: an
	// SSLKEYLOGFILE is appended to, so the newest lines are the ones a
	// recent capture needs.
	MaxKeyLogEntries = 1_000_000
	// maxLineLen bounds one key log line; the longest valid line is under
	// 200 bytes.
	maxLineLen      = 1024
	clientRandomLen = 32
)

// ErrTooManyEntries is wrapped by the error ParseKeyLog and Parse return
// when the key log held more than MaxKeyLogEntries secrets and the oldest
// were dropped. It is a warning: the KeyLog holds the newest entries.
var ErrTooManyEntries = errors.New("key log holds too many entries")

// bom is the UTF-8 byte-order mark some Windows editors put at the start
// of a text file.
const bom = "\xef\xbb\xbf"

// A LineError is a malformed key log line. ParseKeyLog skips such a line
// and goes on with the next one.
type LineError struct {
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("key log line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

type entryKey struct {
	label        uint8
	clientRandom [clientRandomLen]byte
}

// A KeyLog holds secrets by client random and label. The zero value is an
// empty KeyLog ready to use; it is safe for concurrent use.
type KeyLog struct {
	mu      sync.RWMutex
	limit   int // 0 means MaxKeyLogEntries
	entries map[entryKey][]byte
	// order holds the keys in the order they were first added, as a ring
	// once it is full: order[next] is the oldest. dropped counts the
	// entries evicted to stay within the limit.
	order   []entryKey
	next    int
	dropped int
}

// ParseKeyLog reads an NSS key log: lines "LABEL <client random hex>
// <secret hex>", blank lines and "#" comments. Leading and trailing white
// space and CRLF line ends are accepted. Labels this package has no use for
// (EARLY_EXPORTER_SECRET, RSA, ECH_SECRET, ECH_CONFIG) are skipped; when a
// secret appears twice for the same client random and label, the later one
// wins.
//
// A UTF-8 byte-order mark before the first line is ignored.
//
// Malformed lines are skipped, so one bad line does not hide the rest. The
// returned KeyLog is never nil and holds every well-formed line read, even
// when err is not nil. err reports, in this order and joined: the malformed
// lines (their count and the first as a *LineError), a read error, and that
// more than MaxKeyLogEntries secrets were read (wrapping ErrTooManyEntries:
// the oldest were dropped, the newest kept). A caller that wants a strict
// parse treats any error as fatal; a lenient one warns and uses the KeyLog.
func ParseKeyLog(r io.Reader) (*KeyLog, error) {
	return parseKeyLog(r, MaxKeyLogEntries)
}

func parseKeyLog(r io.Reader, limit int) (*KeyLog, error) {
	k := &KeyLog{limit: limit}
	return k, k.Parse(r)
}

// Parse adds the secrets of an NSS key log to k, as ParseKeyLog reads them:
// a Decryption Secrets Block of a pcapng file holds such a key log.
func (k *KeyLog) Parse(r io.Reader) error {
	br := bufio.NewReaderSize(r, maxLineLen)
	var (
		firstBad *LineError
		bad      int
		stop     error
	)
	k.mu.RLock()
	dropped := k.dropped
	k.mu.RUnlock()
	for lineNo := 1; ; lineNo++ {
		line, tooLong, readErr := readLine(br)
		if readErr != nil && readErr != io.EOF {
			stop = fmt.Errorf("reading line %d: %w", lineNo, readErr)
			break
		}
		if lineNo == 1 {
			line = bytes.TrimPrefix(line, []byte(bom))
		}
		if tooLong {
			if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
				bad++
				if firstBad == nil {
					firstBad = &LineError{lineNo, fmt.Errorf("longer than %d bytes", maxLineLen)}
				}
			}
		} else if err := k.addLine(line); err != nil {
			bad++
			if firstBad == nil {
				firstBad = &LineError{lineNo, err}
			}
		}
		if readErr == io.EOF {
			break
		}
	}
	var errs []error
	if bad > 0 {
		errs = append(errs, fmt.Errorf("decrypt: %d malformed key log lines skipped, the first: %w", bad, firstBad))
	}
	if stop != nil {
		errs = append(errs, fmt.Errorf("decrypt: key log: %w", stop))
	}
	k.mu.RLock()
	dropped = k.dropped - dropped
	k.mu.RUnlock()
	if dropped > 0 {
		errs = append(errs, fmt.Errorf("decrypt: key log: %w: kept the newest %d, dropped the %d oldest",
			ErrTooManyEntries, k.capacity(), dropped))
	}
	return errors.Join(errs...)
}

// readLine returns the next line without its line end. A line longer than
// the reader's buffer is consumed to its end; tooLong is set and line holds
// its first bytes. err is io.EOF after the last line.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	line, err = br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		tooLong = true
		line = bytes.Clone(line)
		for err == bufio.ErrBufferFull {
			_, err = br.ReadSlice('\n')
		}
	}
	return bytes.TrimRight(line, "\r\n"), tooLong, err
}

// addLine adds one key log line; blank lines and comments add nothing.
func (k *KeyLog) addLine(line []byte) error {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] == '#' {
		return nil
	}
	fields := bytes.Fields(line)
	if len(fields) != 3 {
		return fmt.Errorf("%d fields, want 3 (label, client random, secret)", len(fields))
	}
	label := string(fields[0])
	if ignoredLabels[label] {
		return nil
	}
	cr, err := decodeHex(fields[1])
	if err != nil {
		return fmt.Errorf("%s client random: %w", label, err)
	}
	secret, err := decodeHex(fields[2])
	if err != nil {
		return fmt.Errorf("%s secret: %w", label, err)
	}
	return k.add(label, cr, secret)
}

func decodeHex(field []byte) ([]byte, error) {
	b := make([]byte, hex.DecodedLen(len(field)))
	if _, err := hex.Decode(b, field); err != nil {
		return nil, err
	}
	return b, nil
}

// Add stores secret for the connection with clientRandom under label, one
// of the Label constants, replacing any earlier one. The arguments are
// copied. The client random must be 32 bytes; a TLS 1.3 secret 32 or 48
// bytes (SHA-256 or SHA-384); a CLIENT_RANDOM master secret 48 bytes.
//
// When the KeyLog already holds MaxKeyLogEntries secrets, the oldest is
// dropped to make room.
//
// To feed a KeyLog from crypto/tls, set Config.KeyLogWriter to a
// bytes.Buffer and give the buffer to ParseKeyLog after the handshake.
func (k *KeyLog) Add(label string, clientRandom, secret []byte) error {
	if err := k.add(label, clientRandom, secret); err != nil {
		return fmt.Errorf("decrypt: key log: %w", err)
	}
	return nil
}

func (k *KeyLog) add(label string, clientRandom, secret []byte) error {
	idx, ok := labelIndex(label)
	if !ok {
		return fmt.Errorf("unknown label %q", label)
	}
	if len(clientRandom) != clientRandomLen {
		return fmt.Errorf("%s client random is %d bytes, want %d", label, len(clientRandom), clientRandomLen)
	}
	switch {
	case label == LabelClientRandom && len(secret) != 48:
		return fmt.Errorf("%s master secret is %d bytes, want 48", label, len(secret))
	case label != LabelClientRandom && len(secret) != 32 && len(secret) != 48:
		return fmt.Errorf("%s secret is %d bytes, want 32 or 48", label, len(secret))
	}
	key := entryKey{label: idx}
	copy(key.clientRandom[:], clientRandom)

	k.mu.Lock()
	defer k.mu.Unlock()
	if k.entries == nil {
		k.entries = make(map[entryKey][]byte)
	}
	if _, exists := k.entries[key]; !exists {
		if limit := k.capacity(); len(k.order) < limit {
			k.order = append(k.order, key)
		} else {
			// Full: the oldest entry makes room.
			delete(k.entries, k.order[k.next])
			k.order[k.next] = key
			k.next = (k.next + 1) % limit
			k.dropped++
		}
	}
	k.entries[key] = bytes.Clone(secret)
	return nil
}

func (k *KeyLog) capacity() int {
	if k.limit <= 0 {
		return MaxKeyLogEntries
	}
	return k.limit
}

// Dropped returns the number of entries dropped, oldest first, to keep
// within MaxKeyLogEntries.
func (k *KeyLog) Dropped() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.dropped
}

// Lookup returns a copy of the secret stored for clientRandom under label.
func (k *KeyLog) Lookup(clientRandom []byte, label string) ([]byte, bool) {
	idx, ok := labelIndex(label)
	if !ok || len(clientRandom) != clientRandomLen {
		return nil, false
	}
	key := entryKey{label: idx}
	copy(key.clientRandom[:], clientRandom)
	k.mu.RLock()
	defer k.mu.RUnlock()
	secret, ok := k.entries[key]
	if !ok {
		return nil, false
	}
	return bytes.Clone(secret), true
}

// Len returns the number of secrets held.
func (k *KeyLog) Len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.entries)
}

// AppendLines appends to dst the key log lines held for clientRandom, in
// the order of the Label constants: what a Decryption Secrets Block needs
// to open that connection.
func (k *KeyLog) AppendLines(dst, clientRandom []byte) []byte {
	if len(clientRandom) != clientRandomLen {
		return dst
	}
	key := entryKey{}
	copy(key.clientRandom[:], clientRandom)
	k.mu.RLock()
	defer k.mu.RUnlock()
	for i, l := range labels {
		key.label = uint8(i)
		secret, ok := k.entries[key]
		if !ok {
			continue
		}
		dst = append(dst, l...)
		dst = append(dst, ' ')
		dst = hex.AppendEncode(dst, clientRandom)
		dst = append(dst, ' ')
		dst = hex.AppendEncode(dst, secret)
		dst = append(dst, '\n')
	}
	return dst
}
