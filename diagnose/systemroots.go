package diagnose

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/cryptobyte"
	cryptobyte_asn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// lazySystemRoots: the systems on which crypto/x509 reads the system roots
// from the files listed in systemRootFiles and systemRootDirs. There a
// Roots reads those files itself and parses a root only when a chain
// names it as an issuer: crypto/x509 parses all of them (twice each), some
// 40 ms of CPU at every start for the one or two a capture needs.
var lazySystemRoots = runtime.GOOS == "linux"

// systemRootFiles and systemRootDirs are where crypto/x509 looks for the
// system roots on Linux (crypto/x509/root_linux.go): the first bundle
// file that can be read, then every file of every directory.
// SSL_CERT_FILE and SSL_CERT_DIR (colon-separated) replace them, as there.
var (
	systemRootFiles = []string{
		"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo
		"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
		"/etc/ssl/ca-bundle.pem",                            // OpenSUSE
		"/etc/pki/tls/cacert.pem",                           // OpenELEC
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
		"/etc/ssl/cert.pem",                                 // Alpine
	}
	systemRootDirs = []string{"/etc/ssl/certs", "/etc/pki/tls/certs"}
)

// rootFiles is a trust store read from PEM files but not parsed: each
// certificate's DER by its raw subject, the only thing a chain's path
// building looks a root up by. Roots are parsed when a chain asks for
// their subject, once each.
type rootFiles struct {
	bySubject map[string][][]byte
	subjects  [][]byte // in the order the files list them

	mu     sync.Mutex
	parsed map[string]*x509.Certificate // by DER; nil: it does not parse
}

// readSystemRoots reads the system roots' files as crypto/x509's
// loadSystemRoots does on Linux, with the same outcome: an error only when
// no root was found and a file or directory could not be read for another
// reason than not existing.
func readSystemRoots() (*rootFiles, error) {
	rf := &rootFiles{bySubject: map[string][][]byte{}, parsed: map[string]*x509.Certificate{}}
	files := systemRootFiles
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		files = []string{f}
	}
	var firstErr error
	var bundle []byte
	bundlePath := ""
	// The bundle's PEM text, split where its blocks end: Debian's is the
	// files of /etc/ssl/certs one after the other, which were decoded a
	// second time, for no root that is new.
	inBundle := map[string]bool{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err == nil {
			rf.addPEM(data, inBundle)
			bundle, bundlePath = data, filepath.Clean(file)
			break
		}
		if firstErr == nil && !errors.Is(err, fs.ErrNotExist) {
			firstErr = err
		}
	}
	dirs := systemRootDirs
	if d := os.Getenv("SSL_CERT_DIR"); d != "" {
		dirs = strings.Split(d, ":")
	}
	// Each file of the directories is read in turn into buf; a root's PEM
	// file is 1 to 3 KB.
	buf := make([]byte, 0, 32<<10)
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			if firstErr == nil && !errors.Is(err, fs.ErrNotExist) {
				firstErr = err
			}
			continue
		}
		for _, e := range entries {
			if sameDirSymlink(dir, e) {
				continue // the hashed names OpenSSL's rehash makes
			}
			// The bundle is often in a directory too (Debian's
			// /etc/ssl/certs/ca-certificates.crt): a third of the work
			// of decoding the roots again, for none that is new. Read
			// again by the same name it holds what was just read, and
			// reading its 200 KB a second time was a tenth of the time
			// of loading the roots.
			path := dir + "/" + e.Name()
			if filepath.Clean(path) == bundlePath {
				continue
			}
			var err error
			if buf, err = readInto(buf[:0], path); err == nil && !bytes.Equal(buf, bundle) && !inBundle[string(buf)] {
				rf.addPEM(buf, nil) // keeps none of buf
			}
		}
	}
	if firstErr != nil && !rf.anyParses() {
		return nil, firstErr
	}
	return rf, nil
}

// readInto appends the content of the file name to buf. Unlike
// os.ReadFile it does not stat the file to size a buffer of its own: the
// roots' files are a hundred or more small ones, and on a sandboxed
// kernel each system call is dear.
func readInto(buf []byte, name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return buf, err
	}
	defer f.Close()
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf)) // twice as large
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// sameDirSymlink reports whether e is a symbolic link to a file of the
// same directory, which crypto/x509 skips.
func sameDirSymlink(dir string, e fs.DirEntry) bool {
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	target, err := os.Readlink(filepath.Join(dir, e.Name()))
	return err == nil && !strings.Contains(target, "/")
}

// addPEM indexes the certificates of data that x509.CertPool's
// AppendCertsFromPEM would consider: CERTIFICATE blocks without headers.
// A certificate already there is not added twice.
//
// When segments is not nil, addPEM sets in it the text each call of
// pem.Decode took: from where the last one ended to the end of its
// block's END line. A file whose text is one of them holds that block
// alone (pem.Decode reads nothing past the line its block ends on, and
// only a line break ends one that more text follows), so after data it
// adds nothing and need not be decoded.
func (rf *rootFiles) addPEM(data []byte, segments map[string]bool) {
	for len(data) > 0 {
		var block *pem.Block
		rest := data
		block, data = pem.Decode(data)
		if block == nil {
			return
		}
		if segments != nil {
			segments[string(rest[:len(rest)-len(data)])] = true
		}
		if block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
			continue
		}
		subject, ok := rawSubject(block.Bytes)
		if !ok {
			continue // x509.ParseCertificate rejects it too
		}
		ders, seen := rf.bySubject[string(subject)]
		if !seen {
			rf.subjects = append(rf.subjects, subject)
		}
		if !slices.ContainsFunc(ders, func(d []byte) bool { return bytes.Equal(d, block.Bytes) }) {
			rf.bySubject[string(subject)] = append(ders, block.Bytes)
		}
	}
}

// rawSubject returns the subject Name of a DER certificate, as
// x509.Certificate.RawSubject holds it, without parsing the rest.
func rawSubject(der []byte) ([]byte, bool) {
	in := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	var subject cryptobyte.String
	ok := in.ReadASN1(&cert, cryptobyte_asn1.SEQUENCE) &&
		cert.ReadASN1(&tbs, cryptobyte_asn1.SEQUENCE) &&
		tbs.SkipOptionalASN1(cryptobyte_asn1.Tag(0).Constructed().ContextSpecific()) &&
		tbs.SkipASN1(cryptobyte_asn1.INTEGER) && // serial number
		tbs.SkipASN1(cryptobyte_asn1.SEQUENCE) && // signature algorithm
		tbs.SkipASN1(cryptobyte_asn1.SEQUENCE) && // issuer
		tbs.SkipASN1(cryptobyte_asn1.SEQUENCE) && // validity
		tbs.ReadASN1Element(&subject, cryptobyte_asn1.SEQUENCE)
	return subject, ok
}

// parse returns der's certificate, parsed once; nil if it does not parse.
// rf.mu is held.
func (rf *rootFiles) parse(der []byte) *x509.Certificate {
	if c, ok := rf.parsed[string(der)]; ok {
		return c
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		c = nil
	}
	rf.parsed[string(der)] = c
	return c
}

// anyParses reports whether at least one certificate parses.
func (rf *rootFiles) anyParses() bool {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	for _, ders := range rf.bySubject {
		for _, der := range ders {
			if rf.parse(der) != nil {
				return true
			}
		}
	}
	return false
}

// add adds to pool, in the files' order, the roots whose subject is one
// of subjects (all of them for nil).
func (rf *rootFiles) add(pool *x509.CertPool, subjects [][]byte) {
	if subjects == nil {
		subjects = rf.subjects
	}
	rf.mu.Lock()
	defer rf.mu.Unlock()
	for _, s := range subjects {
		for _, der := range rf.bySubject[string(s)] {
			if c := rf.parse(der); c != nil {
				pool.AddCert(c)
			}
		}
	}
}

// bySubjectParsed returns the parsed roots of subject.
func (rf *rootFiles) bySubjectParsed(subject []byte) []*x509.Certificate {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	var roots []*x509.Certificate
	for _, der := range rf.bySubject[string(subject)] {
		if c := rf.parse(der); c != nil {
			roots = append(roots, c)
		}
	}
	return roots
}
