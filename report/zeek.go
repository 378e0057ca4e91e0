package report

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// The zeek and zeek-json formats write Zeek's ssl.log and x509.log: the
// same field names, types and value spellings as Zeek for the columns both
// have, then tlsdiag's own columns (verdict, Community ID). zeek is Zeek's
// tab-separated log with its # header lines; zeek-json is Zeek's JSON
// writer's form, one object per line. Logs go to the files
// Options.OpenLog opens; without it, ssl.log goes to the Stream's writer
// and x509.log is not written.

var zeekFormat = formatSpec{
	name:  FormatZeek,
	doc:   "Zeek's ssl.log and x509.log (tab-separated, with Zeek's # headers), written into a directory",
	files: true,
	tabs:  true,
	new:   func(*Stream) formatter { return &zeekFormatter{json: false} },
}

var zeekJSONFormat = formatSpec{
	name:  FormatZeekJSON,
	doc:   "Zeek's ssl.log and x509.log as Zeek's JSON writer writes them, written into a directory",
	files: true,
	json:  true,
	new:   func(*Stream) formatter { return &zeekFormatter{json: true} },
}

// The names of the Zeek formats.
const (
	FormatZeek     Format = "zeek"
	FormatZeekJSON Format = "zeek-json"
)

// zeekColumn is one field of a Zeek log: its name and Zeek type.
type zeekColumn struct{ name, typ string }

// sslColumns are ssl.log's columns as Zeek's base scripts log them, then
// tlsdiag's. ssl_history and client_cert_chain_fps are Zeek's; tlsdiag
// leaves them unset (it keeps no message history, and the client's
// certificates only as a count).
var sslColumns = []zeekColumn{
	{"ts", "time"}, {"uid", "string"}, {"id.orig_h", "addr"}, {"id.orig_p", "port"}, {"id.resp_h", "addr"}, {"id.resp_p", "port"},
	{"version", "string"}, {"cipher", "string"}, {"curve", "string"}, {"server_name", "string"}, {"resumed", "bool"},
	{"last_alert", "string"}, {"next_protocol", "string"}, {"established", "bool"}, {"ssl_history", "string"},
	{"cert_chain_fps", "vector[string]"}, {"client_cert_chain_fps", "vector[string]"}, {"sni_matches_cert", "bool"},
	{"community_id", "string"}, {"tlsdiag_verdict", "string"}, {"tlsdiag_summary", "string"}, {"tlsdiag_fix", "string"},
	{"tlsdiag_evidence_frames", "vector[count]"}, {"tlsdiag_warnings", "vector[string]"}, {"tlsdiag_ja4", "string"},
}

// x509Columns are x509.log's columns (Zeek 6 and later).
var x509Columns = []zeekColumn{
	{"ts", "time"}, {"fingerprint", "string"}, {"certificate.version", "count"}, {"certificate.serial", "string"},
	{"certificate.subject", "string"}, {"certificate.issuer", "string"},
	{"certificate.not_valid_before", "time"}, {"certificate.not_valid_after", "time"},
	{"certificate.key_alg", "string"}, {"certificate.sig_alg", "string"}, {"certificate.key_type", "string"},
	{"certificate.key_length", "count"}, {"certificate.exponent", "string"}, {"certificate.curve", "string"},
	{"san.dns", "vector[string]"}, {"san.uri", "vector[string]"}, {"san.email", "vector[string]"}, {"san.ip", "vector[addr]"},
	{"basic_constraints.ca", "bool"}, {"basic_constraints.path_len", "count"}, {"host_cert", "bool"}, {"client_cert", "bool"},
}

// maxX509Seen bounds the fingerprints remembered to log each certificate
// once, as Zeek's certificate cache does.
const maxX509Seen = 65536

type zeekFormatter struct {
	json      bool
	ssl, x509 *zeekLog
	seen      map[string]bool // certificates already in x509.log
}

// zeekLog is one log file being written.
type zeekLog struct {
	w       io.Writer
	path    string
	cols    []zeekColumn
	json    bool
	started bool
	open    time.Time // capture time of the first row, for #open
	last    time.Time // capture time of the last row, for #close
	buf     bytes.Buffer
}

// Zeek values: unset (nil), or one of these Go types.
type (
	zeekTime  time.Time
	zeekCount uint64
	zeekVec   []string // vector of strings or addresses
	zeekCnts  []int64  // vector of counts
)

func (f *zeekFormatter) logs(s *Stream) error {
	if f.ssl != nil {
		return nil
	}
	w := s.w
	var xw io.Writer
	if open := s.opts.OpenLog; open != nil {
		var err error
		if w, err = open("ssl.log"); err != nil {
			return err
		}
		if xw, err = open("x509.log"); err != nil {
			return err
		}
	}
	f.ssl = &zeekLog{w: w, path: "ssl", cols: sslColumns, json: f.json}
	if xw != nil {
		f.x509 = &zeekLog{w: xw, path: "x509", cols: x509Columns, json: f.json}
	}
	f.seen = map[string]bool{}
	return nil
}

func (f *zeekFormatter) connection(s *Stream, r pipeline.Result) error {
	if err := f.logs(s); err != nil {
		return err
	}
	c := r.Conn
	cid := connectionCommunityID(s.opts.CommunityIDSeed, c)
	if err := f.ssl.row(c.First.Time, sslRow(r, cid)); err != nil {
		return err
	}
	if f.x509 == nil {
		return nil
	}
	for i, cert := range c.Certificates {
		if cert.X509 == nil {
			continue
		}
		fp := sha256Hex(cert.DER)
		if f.seen[fp] {
			continue
		}
		if len(f.seen) >= maxX509Seen {
			f.seen = map[string]bool{}
		}
		f.seen[fp] = true
		if err := f.x509.row(c.First.Time, x509Row(c.First.Time, fp, cert.X509, i == 0)); err != nil {
			return err
		}
	}
	return nil
}

func (f *zeekFormatter) close(s *Stream, _ Summary) error {
	if err := f.logs(s); err != nil {
		return err
	}
	if err := f.ssl.close(); err != nil {
		return err
	}
	if f.x509 != nil {
		return f.x509.close()
	}
	return nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// zeekUID is a connection's uid: Zeek's form ("C" and 17 base62-like
// characters), derived from the record ID so that it is the same on every
// run instead of random.
func zeekUID(cid string, first time.Time) string {
	id, _ := hex.DecodeString(RecordID(cid, first))
	s := base64.RawURLEncoding.EncodeToString(id)
	s = strings.NewReplacer("-", "x", "_", "z").Replace(s)
	return "C" + s[:17]
}

func sslRow(r pipeline.Result, cid string) []any {
	c := r.Conn
	row := []any{
		zeekTime(c.First.Time), zeekUID(cid, c.First.Time),
		c.Client.Addr().Unmap().String(), zeekCount(c.Client.Port()),
		c.Server.Addr().Unmap().String(), zeekCount(c.Server.Port()),
		nil, nil, nil, nil, c.Resumed, nil, nil, c.Established, nil, nil, nil, nil,
		cid, string(r.Verdict.Category), r.Verdict.Summary, r.Verdict.Fix,
		zeekCnts(r.Verdict.Evidence), zeekVec(r.Verdict.Warnings), nil,
	}
	set := func(i int, v string) {
		if v != "" {
			row[i] = v
		}
	}
	if c.Version != 0 {
		row[6] = zeekVersion(c.Version)
	}
	if c.ServerHello != nil {
		row[7] = zeekCipher(c.Cipher)
	}
	if c.Group != 0 {
		row[8] = c.Group.String()
	}
	if h := c.ClientHello; h != nil {
		set(9, h.ServerName)
	}
	for _, a := range c.Alerts {
		if !a.Encrypted || a.Decrypted {
			row[11] = a.Description.String()
		}
	}
	set(12, c.ALPN)
	if len(c.Certificates) > 0 {
		fps := make(zeekVec, len(c.Certificates))
		for i, cert := range c.Certificates {
			fps[i] = sha256Hex(cert.DER)
		}
		row[15] = fps
		if leaf := c.Certificates[0].X509; leaf != nil && c.ClientHello != nil && c.ClientHello.ServerName != "" {
			row[17] = leaf.VerifyHostname(c.ClientHello.ServerName) == nil
		}
	}
	set(24, c.Fingerprints().JA4)
	if len(r.Verdict.Evidence) == 0 {
		row[22] = zeekCnts{}
	}
	return row
}

// zeekVersion spells a version as Zeek's SSL::version_strings does.
func zeekVersion(v tlsparse.Version) string {
	switch {
	case v == 0x0002:
		return "SSLv2"
	case v == 0x0300:
		return "SSLv3"
	case v >= 0x0301 && v <= 0x0304:
		return "TLSv1" + strconv.Itoa(int(v-0x0301))
	case v == 0xfeff:
		return "DTLSv10"
	case v == 0xfefd:
		return "DTLSv12"
	case v == 0xfefc:
		return "DTLSv13"
	case v>>8 == 0x7f:
		return "TLSv13-draft" + strconv.Itoa(int(v&0xff))
	}
	return "unknown-" + strconv.Itoa(int(v))
}

// zeekCipher is the cipher suite's IANA name, "unknown-N" when it has none
// (Zeek's SSL::cipher_desc default).
func zeekCipher(cs tlsparse.CipherSuite) string {
	name := cs.String()
	if strings.HasPrefix(name, "0x") {
		return "unknown-" + strconv.Itoa(int(cs))
	}
	return name
}

func x509Row(ts time.Time, fp string, x *x509.Certificate, host bool) []any {
	row := []any{
		zeekTime(ts), fp, zeekCount(x.Version), strings.ToUpper(x.SerialNumber.Text(16)),
		x.Subject.String(), x.Issuer.String(), zeekTime(x.NotBefore), zeekTime(x.NotAfter),
		nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, host, !host,
	}
	switch k := x.PublicKey.(type) {
	case *rsa.PublicKey:
		row[8], row[10], row[11], row[12] = "rsaEncryption", "rsa", zeekCount(k.N.BitLen()), strconv.Itoa(k.E)
	case *ecdsa.PublicKey:
		row[8], row[10], row[11] = "id-ecPublicKey", "ecdsa", zeekCount(k.Curve.Params().BitSize)
		row[13] = opensslCurve(k.Curve.Params().Name)
	default:
		if x.PublicKeyAlgorithm == x509.Ed25519 {
			row[8], row[10], row[11] = "ED25519", "ed25519", zeekCount(256)
		}
	}
	if name, ok := opensslSigAlg[x.SignatureAlgorithm]; ok {
		row[9] = name
	}
	vec := func(i int, vals []string) {
		if len(vals) > 0 {
			row[i] = zeekVec(vals)
		}
	}
	vec(14, x.DNSNames)
	var uris, ips []string
	for _, u := range x.URIs {
		uris = append(uris, u.String())
	}
	for _, ip := range x.IPAddresses {
		ips = append(ips, ip.String())
	}
	vec(15, uris)
	vec(16, x.EmailAddresses)
	vec(17, ips)
	if x.BasicConstraintsValid {
		row[18] = x.IsCA
		if x.MaxPathLen > 0 || x.MaxPathLenZero {
			row[19] = zeekCount(x.MaxPathLen)
		}
	}
	return row
}

// OpenSSL's names, which Zeek logs.
var opensslSigAlg = map[x509.SignatureAlgorithm]string{
	x509.MD5WithRSA: "md5WithRSAEncryption", x509.SHA1WithRSA: "sha1WithRSAEncryption",
	x509.SHA256WithRSA: "sha256WithRSAEncryption", x509.SHA384WithRSA: "sha384WithRSAEncryption",
	x509.SHA512WithRSA: "sha512WithRSAEncryption", x509.SHA256WithRSAPSS: "rsassaPss",
	x509.SHA384WithRSAPSS: "rsassaPss", x509.SHA512WithRSAPSS: "rsassaPss",
	x509.ECDSAWithSHA1: "ecdsa-with-SHA1", x509.ECDSAWithSHA256: "ecdsa-with-SHA256",
	x509.ECDSAWithSHA384: "ecdsa-with-SHA384", x509.ECDSAWithSHA512: "ecdsa-with-SHA512",
	x509.PureEd25519: "ED25519", x509.DSAWithSHA1: "dsaWithSHA1", x509.DSAWithSHA256: "dsa_with_SHA256",
}

func opensslCurve(name string) string {
	switch name {
	case "P-256":
		return "prime256v1"
	case "P-384":
		return "secp384r1"
	case "P-521":
		return "secp521r1"
	case "P-224":
		return "secp224r1"
	}
	return name
}

// row writes one line of the log.
func (l *zeekLog) row(ts time.Time, vals []any) error {
	l.buf.Reset()
	if !l.started {
		l.started, l.open = true, ts
		l.header()
	}
	if ts.After(l.last) {
		l.last = ts
	}
	if l.json {
		l.jsonRow(vals)
	} else {
		for i, v := range vals {
			if i > 0 {
				l.buf.WriteByte('\t')
			}
			l.buf.WriteString(zeekTSV(v))
		}
		l.buf.WriteByte('\n')
	}
	_, err := l.w.Write(l.buf.Bytes())
	return err
}

// header writes the TSV log's # lines; the JSON log has none. #open and
// #close carry capture times, not the clock's, so the output is
// deterministic.
func (l *zeekLog) header() {
	if l.json {
		return
	}
	b := &l.buf
	b.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n")
	fmt.Fprintf(b, "#path\t%s\n#open\t%s\n#fields", l.path, zeekStamp(l.open))
	for _, c := range l.cols {
		b.WriteString("\t" + c.name)
	}
	b.WriteString("\n#types")
	for _, c := range l.cols {
		b.WriteString("\t" + c.typ)
	}
	b.WriteString("\n")
}

func (l *zeekLog) close() error {
	l.buf.Reset()
	if !l.started {
		l.started = true
		l.header()
	}
	if !l.json {
		fmt.Fprintf(&l.buf, "#close\t%s\n", zeekStamp(l.last))
	}
	_, err := l.w.Write(l.buf.Bytes())
	return err
}

func zeekStamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02-15-04-05")
}

// zeekTSV is a value as Zeek's ASCII writer spells it.
func zeekTSV(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case zeekTime:
		return zeekEpoch(time.Time(x))
	case zeekCount:
		return strconv.FormatUint(uint64(x), 10)
	case bool:
		if x {
			return "T"
		}
		return "F"
	case string:
		return zeekString(x, false)
	case zeekVec:
		if len(x) == 0 {
			return "(empty)"
		}
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = zeekString(s, true)
		}
		return strings.Join(parts, ",")
	case zeekCnts:
		if len(x) == 0 {
			return "(empty)"
		}
		parts := make([]string, len(x))
		for i, n := range x {
			parts[i] = strconv.FormatInt(n, 10)
		}
		return strings.Join(parts, ",")
	}
	return "-"
}

func zeekEpoch(t time.Time) string {
	us := t.UnixMicro()
	sign := ""
	if us < 0 {
		sign, us = "-", -us
	}
	return fmt.Sprintf("%s%d.%06d", sign, us/1e6, us%1e6)
}

// zeekString escapes as Zeek's ASCII writer does: bytes outside printable
// ASCII, the backslash and the separator as \xNN; in a set, the comma too;
// a value that reads as the unset or empty marker gets its first byte
// escaped.
func zeekString(s string, inSet bool) string {
	if s == "" {
		return "(empty)"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '\\' || inSet && c == ',' {
			fmt.Fprintf(&b, "\\x%02x", c)
			continue
		}
		b.WriteByte(c)
	}
	out := b.String()
	if out == "-" || out == "(empty)" {
		out = fmt.Sprintf("\\x%02x", out[0]) + out[1:]
	}
	return out
}

// jsonRow writes the row as Zeek's JSON writer does: unset fields left
// out, times as epoch seconds, sets and vectors as arrays.
func (l *zeekLog) jsonRow(vals []any) {
	b := &l.buf
	b.WriteByte('{')
	first := true
	for i, v := range vals {
		if v == nil {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		name, _ := json.Marshal(l.cols[i].name)
		b.Write(name)
		b.WriteByte(':')
		switch x := v.(type) {
		case zeekTime:
			b.WriteString(zeekEpoch(time.Time(x)))
		case zeekCnts:
			if x == nil {
				x = zeekCnts{}
			}
			j, _ := json.Marshal([]int64(x))
			b.Write(j)
		case zeekVec:
			if x == nil {
				x = zeekVec{}
			}
			j, _ := json.Marshal([]string(x))
			b.Write(j)
		default:
			j, _ := json.Marshal(x)
			b.Write(j)
		}
	}
	b.WriteString("}\n")
}
