package diagnose

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	_ "crypto/sha1" // the hashes of smallRSASigned
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tlsdiag/tlsdiag/fingerprint"
)

// CertProblem is one reason a server's certificate chain does not validate.
type CertProblem struct {
	// Category is one of the cert_* categories.
	Category Category
	// Cert is the index, in the chain as sent, of the certificate at fault;
	// -1 for a root of the trust store that the server did not send.
	Cert int
	// Detail is one line naming the certificate and the facts.
	Detail string
	// MissingIssuer is the subject of the issuer that was neither sent nor
	// trusted (CertIncompleteChain and CertUntrustedCA when the root was not
	// sent).
	MissingIssuer string
	// Certainty says how sure the category is: a missing issuer may be an
	// untrusted root or an intermediate the server forgot, and the wire
	// does not say which (see trustPath).
	Certainty Certainty
	// Why names what the ranking rests on; empty when the category is sure.
	Why string
	// Alternative is the other explanation when the wire cannot tell, with
	// its own fix; empty when there is none.
	Alternative string
	// Fix, when set, is what to change (the category's usual fix does not
	// fit).
	Fix string
	// Address is the server address a client that sent no SNI connected
	// to, when the certificate does not cover it (CertHostnameMismatch
	// only; see AddressProblem).
	Address string
	// Stale is the index of a sent certificate that has the name of the
	// issuer of certificate Cert but not its key: a stale or wrong
	// intermediate (CertIncompleteChain); 0 when none.
	Stale int
	// Lenient names the clients that accept the defect all the same (a
	// rule some clients enforce and others do not); empty when every
	// client refuses it.
	Lenient string
	// Unusable: the client cannot use the certificate at all (it does
	// not parse, or its key is one clients refuse), which clients may
	// say with a handshake alert rather than a certificate one.
	Unusable bool
	// Refusers says which clients refuse the defect, when not all do
	// (see Lenient for those that accept it).
	Refusers Refusers
	// RefusedSince is when widely used clients began refusing the defect
	// (or stopped trusting the root), RefusedBy who and since when; zero
	// when clients always have, or the date is not known here (era.go).
	RefusedSince time.Time
	RefusedBy    string
	// Fact is the defect without today's judgment of it, and TodayFix
	// what serves today's clients; set with RefusedSince.
	Fact, TodayFix string
	// AcceptedThen: the capture, made at CapturedAt, predates
	// RefusedSince, so the clients of the time accepted the defect and it
	// explains no failure of that connection.
	AcceptedThen bool
	CapturedAt   time.Time
	// CrossSign is the index of the sent cross-signed root through which
	// the chain reaches the certificate that expired (the cross-sign
	// itself, or the old root that signed it), 0 when none: a client that
	// trusts the new root does not use that path (crosssign.go).
	CrossSign int
}

// AddressProblem checks a leaf against the address a client connected to
// when it sent no SNI. Clients send no SNI for an IP address (RFC 6066,
// Section 3: "Literal IPv4 and IPv6 addresses are not permitted") and then
// check that address against the certificate's IP SANs (RFC 6125, Section
// 3.1.3.2; Go, OpenSSL and curl do). A client that connects by name
// without SNI checks the name instead, so the problem is likely, not
// certain. It returns nil when the leaf covers addr.
func AddressProblem(leaf *x509.Certificate, addr netip.Addr) *CertProblem {
	if leaf == nil || !addr.IsValid() {
		return nil
	}
	ip := addr.Unmap().String()
	if leaf.VerifyHostname(ip) == nil {
		return nil
	}
	var ips []string
	for _, a := range leaf.IPAddresses {
		ips = append(ips, a.String())
	}
	names := "it names " + list(leaf.DNSNames, 6)
	switch {
	case len(ips) > 0:
		names = "its IP addresses are " + list(ips, 6) + ", not " + ip
	case len(leaf.DNSNames) == 0:
		names = "it names no host"
	default:
		names = "it has no IP address among its names (" + list(leaf.DNSNames, 6) + ")"
	}
	return &CertProblem{Category: CertHostnameMismatch, Cert: 0, Address: ip,
		Detail: fmt.Sprintf("the client connected to %s by address (it sent no SNI, as clients do for an address); certificate 0 %s does not cover it: %s", ip, name(leaf), names)}
}

// Certainty is how sure a conclusion drawn from the wire is.
type Certainty uint8

const (
	Sure     Certainty = iota // the wire shows it
	Likely                    // the wire points to it; the alternative is named
	Possible                  // one of two explanations that fit equally well
)

func (c Certainty) String() string {
	switch c {
	case Likely:
		return "likely"
	case Possible:
		return "possible"
	}
	return "sure"
}

// Roots is a trust store for the chain checks: the system's roots, when
// asked for, plus the certificates of PEM inputs. The system's are loaded
// in the background from the moment LoadRoots returns, so that a
// capture's reading overlaps the milliseconds that takes; Pool and
// ForChain wait for them, and are only called for a connection with a
// chain. On Linux the system roots' files are read but a root is parsed
// only when a chain names its subject as an issuer (ForChain).
type Roots struct {
	ready  chan struct{}
	pool   *x509.CertPool // every root (built by Pool when files is set)
	err    error
	own    []*x509.Certificate // the PEM inputs' certificates
	files  *rootFiles          // the system roots, unparsed (lazySystemRoots)
	system bool                // the system's roots were asked for

	once  sync.Once // builds pool from files
	mu    sync.Mutex
	pools map[string]*x509.CertPool // ForChain's, by the chain's issuers
}

// maxChainPools bounds Roots.pools; when full it starts over.
const maxChainPools = 256

// LoadRoots returns the trust anchors: the system roots when system is
// set, plus every certificate in the PEM inputs. The caller reads the
// files; the PEM inputs are parsed before it returns, and an error names
// the input (1-based) and the PEM block that failed. An error loading the
// system roots comes from Pool, ForChain and Err.
func LoadRoots(system bool, pemInputs ...[]byte) (*Roots, error) {
	var certs []*x509.Certificate
	for i, in := range pemInputs {
		cs, err := parsePEM(in)
		if err != nil {
			return nil, fmt.Errorf("PEM input %d: %w", i+1, err)
		}
		certs = append(certs, cs...)
	}
	r := &Roots{ready: make(chan struct{}), own: certs, system: system}
	if !system {
		r.pool = addCerts(x509.NewCertPool(), certs)
		close(r.ready)
		return r, nil
	}
	go func() {
		defer close(r.ready)
		if lazySystemRoots {
			files, err := readSystemRoots()
			if err != nil {
				r.err = fmt.Errorf("loading the system roots: %w", err)
				r.pool = addCerts(x509.NewCertPool(), certs)
				return
			}
			r.files = files
			r.pools = map[string]*x509.CertPool{}
			return
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			r.err = fmt.Errorf("loading the system roots: %w", err)
			pool = x509.NewCertPool()
		}
		r.pool = addCerts(pool, certs)
	}()
	return r, nil
}

// addCerts adds certs to pool and returns it.
func addCerts(pool *x509.CertPool, certs []*x509.Certificate) *x509.CertPool {
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}

// PoolRoots is a trust store of pool as it is; a nil pool stands for the
// system roots as crypto/x509 finds them when it verifies.
func PoolRoots(pool *x509.CertPool) *Roots {
	r := &Roots{ready: make(chan struct{}), pool: pool}
	close(r.ready)
	return r
}

// Pool returns the trust store, once the system roots are loaded. When
// loading them failed it returns the PEM inputs' certificates alone and
// the error. A nil Roots is the system roots as crypto/x509 finds them
// (a nil pool).
func (r *Roots) Pool() (*x509.CertPool, error) {
	if r == nil {
		return nil, nil
	}
	<-r.ready
	if r.files != nil {
		r.once.Do(func() {
			r.pool = x509.NewCertPool()
			r.files.add(r.pool, nil)
			addCerts(r.pool, r.own)
		})
	}
	return r.pool, r.err
}

// ForChain returns a trust store that verifies chain as Pool's does: the
// roots that can end a path from it, those whose subject is the issuer of
// one of its certificates (and the PEM inputs' certificates). The same
// issuers get the same pool, so that a ChainCache keyed by it answers
// again.
func (r *Roots) ForChain(chain []*x509.Certificate) (*x509.CertPool, error) {
	if r == nil {
		return nil, nil
	}
	<-r.ready
	if r.files == nil {
		return r.pool, r.err
	}
	// Most chains have one or two issuers: their list is on the stack.
	var issuersArr [4][]byte
	issuers := issuersArr[:0]
	for _, c := range chain {
		if c != nil && !slices.ContainsFunc(issuers, func(i []byte) bool { return bytes.Equal(i, c.RawIssuer) }) {
			issuers = append(issuers, c.RawIssuer)
		}
	}
	// DER is self-delimiting: the sorted issuers one after the other name
	// the set. The key is built on the stack and copied only when a new
	// set is remembered: most chains of a capture share their issuers.
	slices.SortFunc(issuers, bytes.Compare)
	key := make([]byte, 0, 1024)
	for _, i := range issuers {
		key = append(key, i...)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if pool, ok := r.pools[string(key)]; ok {
		return pool, nil
	}
	pool := x509.NewCertPool()
	r.files.add(pool, issuers)
	addCerts(pool, r.own)
	if len(r.pools) >= maxChainPools {
		clear(r.pools)
	}
	r.pools[string(key)] = pool
	return pool, nil
}

// bySubject returns the roots whose raw subject is subject: the system's
// (read from their files on Linux; none where crypto/x509 keeps them) and
// the PEM inputs'.
func (r *Roots) bySubject(subject []byte) []*x509.Certificate {
	if r == nil {
		return nil
	}
	<-r.ready
	var roots []*x509.Certificate
	if r.files != nil {
		roots = r.files.bySubjectParsed(subject)
	}
	for _, c := range r.own {
		if bytes.Equal(c.RawSubject, subject) {
			roots = append(roots, c)
		}
	}
	return roots
}

// Own returns the certificates of the PEM inputs: the roots the user
// named (--cacert), none for a nil Roots.
func (r *Roots) Own() []*x509.Certificate {
	if r == nil {
		return nil
	}
	return r.own
}

// FromSystem reports whether root, one a chain verified to, is one of the
// system's roots rather than a PEM input: false for a store not known to
// hold the system's (PoolRoots) and for one without them.
func (r *Roots) FromSystem(root *x509.Certificate) bool {
	if r == nil || !r.system || root == nil {
		return false
	}
	return !slices.ContainsFunc(r.own, root.Equal)
}

// Err waits for the system roots and says whether they failed to load.
func (r *Roots) Err() error {
	if r == nil {
		return nil
	}
	<-r.ready
	return r.err
}

// parsePEM returns every CERTIFICATE block of in. Other block types
// (keys bundled in the same file) are skipped; an input without any
// certificate is an error, because trusting nothing is never what the
// caller meant.
func parsePEM(in []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := in
	for {
		start := len(in) - len(rest)
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		line := 1 + bytes.Count(in[:start+bytes.Index(in[start:], []byte("-----BEGIN"))], []byte("\n"))
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d (line %d): %w", len(certs)+1, line, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	return certs, nil
}

// CheckChain validates a server's chain passively, as a client would have
// at time at (the capture's own timestamp: never the clock). chain is the
// chain as sent, leaf first; intermediates are chain[1:] in any order.
// serverName is the SNI; when empty the name check is skipped (the caller
// says so). roots nil means the system roots. The problems are ordered most
// important first (problemRank): those that hold whatever the client
// trusts (self-signed, validity periods, the name, defects), then the
// trust path (untrusted root, incomplete chain), which may be an artefact
// of roots that are not the client's; nil means the chain is valid.
//
// A zero at skips the validity-period checks rather than fall back to the
// clock, as crypto/x509 would.
func CheckChain(chain []*x509.Certificate, serverName string, at time.Time, roots *x509.CertPool) []CertProblem {
	return checkChain(chain, serverName, at, roots, nil)
}

// checkChain is CheckChain with an optional cache of verified chains.
func checkChain(chain []*x509.Certificate, serverName string, at time.Time, roots *x509.CertPool, cache *ChainCache) []CertProblem {
	return checkChainWith(chain, serverName, at, roots, cache, nil)
}

// checkChainWith is checkChain that can look up the trusted roots of a
// subject (Roots.bySubject; nil when it cannot).
func checkChainWith(chain []*x509.Certificate, serverName string, at time.Time, roots *x509.CertPool, cache *ChainCache, rootsOf *Roots) []CertProblem {
	if len(chain) == 0 || chain[0] == nil {
		return nil
	}
	ck := &checker{chain: chain, at: at, roots: roots, cache: cache, rootsOf: rootsOf}
	if at.IsZero() {
		ck.noTime = true
		ck.at = within(chain[0], time.Time{})
	}
	var probs []CertProblem
	keyProbs := ck.keyProblems()
	if !ck.verifies() {
		path, wrongKey := ck.path()
		anchor, anchorErr := ck.known.anchor, ck.known.anchorErr
		if !ck.failedBefore {
			anchor, anchorErr = ck.anchor(chain[path[len(path)-1]])
			if anchor == nil {
				if r := ck.weaklySignedBy(chain[path[len(path)-1]]); r != nil {
					anchor, anchorErr = r, nil
				}
			}
			ck.cache.learnAnchor(roots, anchor)
			ck.cache.rememberFailure(ck.key, chain, ck.at, failure{anchor, anchorErr})
		}
		probs = append(probs, ck.trust(path, wrongKey, anchor, anchorErr)...)
		ck.formerRootProblem(probs, path)
		probs = append(probs, ck.validity(path, anchor)...)
		probs = append(probs, ck.constraints(path, anchor)...)
		if len(probs) == 0 && !slices.ContainsFunc(keyProbs, func(p CertProblem) bool { return p.Cert > 0 && p.Refusers == RefusedByAll }) {
			// A CA's key under 1024 bits is why crypto/x509 failed.
			probs = append(probs, ck.verifyError())
		}
	}
	probs = append(probs, keyProbs...)
	ck.judgeEra(probs)
	if serverName != "" {
		if !cache.coversName(chain[0], serverName) {
			probs = append(probs, nameProblem(chain[0], serverName))
		}
	}
	slices.SortStableFunc(probs, byRank)
	return probs
}

// byRank orders problems by problemRank, then by certificate, -1 (the
// trust store) last.
func byRank(a, b CertProblem) int {
	if c := cmp.Compare(problemRank(a.Category), problemRank(b.Category)); c != 0 {
		return c
	}
	return cmp.Compare(uint(a.Cert), uint(b.Cert))
}

// problemRank orders problems: first those that do not depend on the trust
// store (dates, the name, a self-signed leaf, weak keys and signatures),
// which hold for every client, then those that do (an untrusted root, a
// missing intermediate), which may only mean that the roots given here are
// not the client's: the client of a private PKI trusts a root this
// analysis does not know.
func problemRank(c Category) int {
	switch c {
	case CertSelfSigned:
		return 0
	case CertExpired:
		return 1
	case CertNotYetValid:
		return 2
	case CertHostnameMismatch:
		return 3
	case CertRejected:
		return 4
	case CertUntrustedCA:
		return 5
	case CertIncompleteChain:
		return 6
	}
	return 7
}

// trustDependent reports whether a problem would go away with another
// trust store (the client's own roots, or intermediates it caches or
// fetches): a client that accepted such a chain is not necessarily
// careless.
func trustDependent(c Category) bool {
	return c == CertUntrustedCA || c == CertIncompleteChain || c == CertSelfSigned
}

// byTrust is trustDependent for one problem: also a date on a path that a
// client trusting the cross-signed root does not take.
func (p CertProblem) byTrust() bool {
	return trustDependent(p.Category) || p.CrossSign > 0
}

// checker holds one CheckChain call's inputs.
type checker struct {
	chain  []*x509.Certificate
	at     time.Time
	noTime bool
	roots  *x509.CertPool
	cache  *ChainCache
	// rootsOf looks up the trusted roots of a subject (bySubject); nil
	// when they cannot be looked up. (The method value, passed in, was
	// an allocation for every chain.)
	rootsOf *Roots
	key     chainKey // the chain's key in cache, when there is a cache
	err     error    // the full verification's error (nil when the cache answered)
	// failedBefore: the cache knew the chain fails, and known is what
	// checkChain found then.
	failedBefore bool
	known        failure
}

// verifies runs the full verification a client runs (without the name,
// checked separately). It is the authority on validity: the checks below
// only explain a failure. A sent chain with an expired cross-signed root
// that verifies through a newer trusted root is fine, for instance.
func (ck *checker) verifies() bool {
	if ck.cache != nil {
		ck.key = ck.cache.keyOf(ck.chain, ck.roots)
		if ck.cache.verified(ck.key, ck.at) {
			return true
		}
		if ck.known, ck.failedBefore = ck.cache.failedAt(ck.key, ck.chain, ck.at); ck.failedBefore {
			return false
		}
	}
	var chains [][]*x509.Certificate
	chains, ck.err = ck.verify()
	if ck.err != nil {
		return false
	}
	ck.cache.remember(ck.key, chains[0])
	return true
}

// verify runs crypto/x509's verification of the chain.
func (ck *checker) verify() ([][]*x509.Certificate, error) {
	inter := x509.NewCertPool()
	for _, c := range ck.chain[1:] {
		if c != nil {
			inter.AddCert(c)
		}
	}
	return ck.chain[0].Verify(x509.VerifyOptions{Roots: ck.roots, Intermediates: inter, CurrentTime: ck.at})
}

// path follows issuer links from the leaf through the certificates sent,
// in whatever order they were sent. It stops at a self-signed certificate
// or when no sent certificate issued the last one. wrongKey is the index
// of a sent certificate that has the issuer's name but whose key did not
// sign the last certificate of the path (a stale intermediate after a CA
// re-key), or -1.
func (ck *checker) path() (path []int, wrongKey int) {
	path, wrongKey = []int{0}, -1
	for {
		cur := ck.chain[path[len(path)-1]]
		if ck.selfSigned(cur) {
			return path, -1
		}
		next := -1
		for j, c := range ck.chain {
			if slices.Contains(path, j) || c == nil || !bytes.Equal(c.RawSubject, cur.RawIssuer) {
				continue
			}
			if ck.signedBy(cur, c) {
				next = j
				break
			}
			if wrongKey < 0 {
				wrongKey = j
			}
		}
		if next < 0 {
			return path, wrongKey
		}
		wrongKey = -1
		path = append(path, next)
	}
}

// signedBy reports whether parent's key made child's signature. SHA-1
// and MD5 signatures count here (they link the chain); constraints
// reports them. crypto/x509 refuses to check an MD5 signature at all, so
// that one is checked here: otherwise an MD5-signed leaf would read as
// one whose sent issuer has the wrong key.
func signedBy(child, parent *x509.Certificate) bool {
	if k, ok := parent.PublicKey.(*rsa.PublicKey); ok && k.N != nil && k.N.BitLen() < minRSABits {
		return smallRSASigned(child, k)
	}
	if child.SignatureAlgorithm == x509.MD5WithRSA {
		k, ok := parent.PublicKey.(*rsa.PublicKey)
		sum := md5.Sum(child.RawTBSCertificate)
		return ok && rsa.VerifyPKCS1v15(k, crypto.MD5, sum[:], child.Signature) == nil
	}
	return parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature) == nil
}

// pkcs1Hashes are the hashes of the PKCS #1 v1.5 signatures smallRSASigned
// checks, with their DigestInfo prefixes (RFC 8017, Section 9.2).
var pkcs1Hashes = map[x509.SignatureAlgorithm]struct {
	hash   crypto.Hash
	prefix []byte
}{
	x509.MD5WithRSA:    {crypto.MD5, []byte{0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00, 0x04, 0x10}},
	x509.SHA1WithRSA:   {crypto.SHA1, []byte{0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14}},
	x509.SHA256WithRSA: {crypto.SHA256, []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}},
	x509.SHA384WithRSA: {crypto.SHA384, []byte{0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30}},
	x509.SHA512WithRSA: {crypto.SHA512, []byte{0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40}},
}

// smallRSASigned checks a PKCS #1 v1.5 signature by an RSA key under 1024
// bits, which crypto/rsa refuses to use since Go 1.24: without it, a CA
// with such a key would read as a stale intermediate rather than as the
// weak key it is. The key is public and the check a public operation, so
// plain arithmetic will do.
func smallRSASigned(child *x509.Certificate, k *rsa.PublicKey) bool {
	h, ok := pkcs1Hashes[child.SignatureAlgorithm]
	if !ok || !h.hash.Available() || k.E < 2 {
		return false
	}
	size := (k.N.BitLen() + 7) / 8
	if len(child.Signature) != size {
		return false
	}
	sig := new(big.Int).SetBytes(child.Signature)
	if sig.Cmp(k.N) >= 0 {
		return false
	}
	em := sig.Exp(sig, big.NewInt(int64(k.E)), k.N).FillBytes(make([]byte, size))
	hw := h.hash.New()
	hw.Write(child.RawTBSCertificate)
	t := append(append([]byte{}, h.prefix...), hw.Sum(nil)...)
	if size < len(t)+11 {
		return false
	}
	want := make([]byte, size)
	want[1] = 1
	for i := 2; i < size-len(t)-1; i++ {
		want[i] = 0xff
	}
	copy(want[size-len(t):], t)
	return bytes.Equal(em, want)
}

// SelfSigned reports whether c names itself as issuer and its own key
// verifies its signature. (x509's CheckSignatureFrom would refuse a
// self-signed leaf that is not a CA, the usual test-server certificate.)
func SelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && signedBy(c, c)
}

// signedBy and selfSigned are signedBy and SelfSigned, with the answers
// remembered by the cache.
func (ck *checker) signedBy(child, parent *x509.Certificate) bool {
	return ck.cache.signedBy(child, parent)
}

func (ck *checker) selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && ck.signedBy(c, c)
}

// anchor looks for a trusted root that issued (or is) last, the end of the
// path as sent. It verifies last alone, at a time inside last's own
// validity period so that dates do not hide the trust question (they are
// checked separately). It returns the root, or the last error.
func (ck *checker) anchor(last *x509.Certificate) (*x509.Certificate, error) {
	var err error
	for _, t := range []time.Time{within(last, ck.at), within(last, time.Time{})} {
		var chains [][]*x509.Certificate
		chains, err = last.Verify(x509.VerifyOptions{Roots: ck.roots, CurrentTime: t, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err == nil {
			shortest := slices.MinFunc(chains, func(a, b []*x509.Certificate) int { return cmp.Compare(len(a), len(b)) })
			return shortest[len(shortest)-1], nil
		}
	}
	return nil, err
}

// weaklySignedBy returns the trusted root that signed last with SHA-1 or
// MD5, which crypto/x509 will not check (since Go 1.18 for SHA-1): it
// reports such a root as an unknown authority, which would read as an
// untrusted root when the root is trusted and the signature is the
// problem (constraints reports it). nil when there is none.
func (ck *checker) weaklySignedBy(last *x509.Certificate) *x509.Certificate {
	if ck.rootsOf == nil || !insecureSignature(last.SignatureAlgorithm) || ck.selfSigned(last) {
		return nil
	}
	for _, r := range ck.rootsOf.bySubject(last.RawIssuer) {
		if ck.signedBy(last, r) {
			return r
		}
	}
	return nil
}

// within returns t moved inside c's validity period; a zero t gives the
// middle of the period.
func within(c *x509.Certificate, t time.Time) time.Time {
	if t.IsZero() {
		return c.NotBefore.Add(c.NotAfter.Sub(c.NotBefore) / 2)
	}
	if t.Before(c.NotBefore) {
		return c.NotBefore
	}
	if t.After(c.NotAfter) {
		return c.NotAfter
	}
	return t
}

// trust says why the path does not reach a trusted root, if it does not.
func (ck *checker) trust(path []int, wrongKey int, anchor *x509.Certificate, anchorErr error) []CertProblem {
	if anchor != nil {
		return nil
	}
	lastIdx := path[len(path)-1]
	last := ck.chain[lastIdx]
	var (
		sysErr     x509.SystemRootsError
		unknownErr x509.UnknownAuthorityError
	)
	switch {
	case errors.As(anchorErr, &sysErr):
		return []CertProblem{{Category: CertUntrustedCA, Cert: lastIdx, Detail: "no trusted roots are available (" + sysErr.Error() + ")"}}
	case !errors.As(anchorErr, &unknownErr):
		// last itself is defective (e.g. a critical extension): not a
		// trust question; constraints or verifyError explain it.
		return nil
	}
	switch {
	case ck.selfSigned(last) && len(path) == 1:
		return []CertProblem{{Category: CertSelfSigned, Cert: 0,
			Detail: fmt.Sprintf("the certificate %s is self-signed and not trusted", name(last))}}
	case ck.selfSigned(last):
		return []CertProblem{{Category: CertUntrustedCA, Cert: lastIdx,
			Detail: fmt.Sprintf("the chain ends at the self-signed root %s (certificate %d), which is not trusted", name(last), lastIdx)}}
	case wrongKey >= 0:
		return []CertProblem{{Category: CertIncompleteChain, Cert: lastIdx, MissingIssuer: issuerName(last), Stale: wrongKey,
			Detail: fmt.Sprintf("certificate %d %s has the name of the issuer of certificate %d %s but not its key: the server sends a stale or wrong intermediate",
				wrongKey, name(ck.chain[wrongKey]), lastIdx, name(last))}}
	}
	return []CertProblem{unknownIssuer(last, lastIdx, len(path) > 1)}
}

// unknownIssuer tells an untrusted root from a missing intermediate when
// the chain as sent ends at last, whose issuer was neither sent nor
// trusted. The wire cannot show the issuer, so the answer rests on what
// servers and CAs do:
//
//   - servers send their intermediates and not the root (RFC 8446, Section
//     4.4.2 allows omitting it, and every server configuration guide says
//     to): when the server sent a CA certificate, the CA that issued the
//     last one is the root, and the client does not trust it;
//   - a leaf sent alone whose issuer publishes itself (an AIA caIssuers
//     URL, which public and most enterprise CAs put in every leaf) or names
//     itself an intermediate was issued by an intermediate the server
//     forgot;
//   - a leaf sent alone whose issuer's name says root, or that carries no
//     AIA (private CAs made with openssl or mkcert sign leaves directly
//     with their root), is from an untrusted root.
//
// The last two are guesses from names: the problem says how sure it is and
// what the other explanation would be.
func unknownIssuer(last *x509.Certificate, idx int, sentCA bool) CertProblem {
	issuer := issuerName(last)
	kind := issuerKind(last.Issuer)
	aia := len(last.IssuingCertificateURL) > 0
	untrusted := CertProblem{Category: CertUntrustedCA, Cert: idx, MissingIssuer: issuer,
		Detail: fmt.Sprintf("certificate %d %s was issued by '%s', which the server did not send and which is not among the trusted roots", idx, name(last), issuer)}
	incomplete := CertProblem{Category: CertIncompleteChain, Cert: idx, MissingIssuer: issuer,
		Detail: fmt.Sprintf("certificate %d %s was issued by '%s', which the server did not send and which is not trusted", idx, name(last), issuer)}
	missingIntermediate := fmt.Sprintf("'%s' may be an intermediate the server should send", issuer)
	untrustedRoot := fmt.Sprintf("'%s' may be a private root the client must trust", issuer)
	switch {
	case sentCA && kind != issuerIntermediate:
		untrusted.Certainty = Likely
		untrusted.Why = fmt.Sprintf("the server sent the CA certificate %s, and servers send intermediates, not roots", name(last))
		if aia {
			untrusted.Alternative = missingIntermediate + fmt.Sprintf(" (certificate %d points to it at %s)", idx, last.IssuingCertificateURL[0])
		}
		return untrusted
	case sentCA:
		incomplete.Certainty = Possible
		incomplete.Why = fmt.Sprintf("the server sent the CA certificate %s, but its issuer's name says intermediate", name(last))
		incomplete.Alternative = untrustedRoot
		return incomplete
	case aia:
		incomplete.Certainty = Likely
		incomplete.Why = fmt.Sprintf("the leaf names where its issuer is published (AIA caIssuers %s), as CAs do for intermediates", last.IssuingCertificateURL[0])
		return incomplete
	case kind == issuerIntermediate:
		incomplete.Certainty = Likely
		incomplete.Why = fmt.Sprintf("the server sent its leaf alone, and the issuer's name '%s' says intermediate", issuer)
		incomplete.Alternative = untrustedRoot
		return incomplete
	case kind == issuerRoot:
		untrusted.Certainty = Likely
		untrusted.Why = fmt.Sprintf("the leaf was signed directly by '%s', whose name says root, and carries no AIA caIssuers URL", issuer)
		untrusted.Alternative = missingIntermediate
		return untrusted
	}
	untrusted.Certainty = Possible
	untrusted.Why = "the server sent its leaf alone, without an AIA caIssuers URL: the mark of a private CA signing leaves with its root"
	untrusted.Alternative = missingIntermediate
	return untrusted
}

// byOwnRoots ranks again a missing issuer that unknownIssuer could only
// guess was an untrusted root (a leaf sent alone, without AIA, whose
// issuer's name says neither root nor intermediate), when the user named
// roots of their own (own): a root of the issuer's organisation among
// them makes the issuer most likely that root's intermediate, which the
// server should send, the user having passed the root it leads to. An
// issuer whose name says root keeps its reading: two roots of one
// organisation are common. settingRoots names the flag the roots were
// given with.
func byOwnRoots(probs []CertProblem, chain []*x509.Certificate, own []*x509.Certificate, settingRoots string) {
	for i := range probs {
		p := &probs[i]
		if p.Category != CertUntrustedCA || p.Certainty != Possible || p.MissingIssuer == "" || p.Cert < 0 || p.Cert >= len(chain) || chain[p.Cert] == nil {
			continue
		}
		issuer := chain[p.Cert].Issuer
		if len(issuer.Organization) == 0 {
			continue
		}
		j := slices.IndexFunc(own, func(r *x509.Certificate) bool { return slices.Equal(r.Subject.Organization, issuer.Organization) })
		if j < 0 {
			continue
		}
		p.Category, p.Certainty = CertIncompleteChain, Likely
		p.Detail = fmt.Sprintf("certificate %d %s was issued by '%s', which the server did not send and which is not among the roots given", p.Cert, name(chain[p.Cert]), p.MissingIssuer)
		p.Why = fmt.Sprintf("the roots given with %s include %s, of the same organisation (O=%s): '%s' is most likely its intermediate", settingRoots, name(own[j]), strings.Join(issuer.Organization, ", "), p.MissingIssuer)
		p.Alternative = fmt.Sprintf("'%s' may be a root of its own, not among those given", p.MissingIssuer)
	}
}

// issuerKinds: what a CA's name says it is.
const (
	issuerUnnamed = iota
	issuerRoot
	issuerIntermediate
)

// issuerKind reads a CA's name for the words CAs use for their
// intermediates ("Intermediate", "Issuing", "Sub CA", "ICA") and roots.
func issuerKind(n pkix.Name) int {
	words := strings.Fields(strings.ToLower(strings.NewReplacer("-", " ", "_", " ", ",", " ").Replace(n.CommonName + " " + strings.Join(n.OrganizationalUnit, " "))))
	kind := issuerUnnamed
	for i, w := range words {
		switch {
		case w == "intermediate" || w == "issuing" || w == "subordinate" || w == "subca" || w == "ica" ||
			w == "sub" && i+1 < len(words) && words[i+1] == "ca":
			return issuerIntermediate
		case w == "root":
			kind = issuerRoot
		}
	}
	return kind
}

// validity checks the dates of every certificate on the path, and of the
// trusted root when it was not sent.
func (ck *checker) validity(path []int, anchor *x509.Certificate) []CertProblem {
	if ck.noTime {
		return nil
	}
	var probs []CertProblem
	check := func(c *x509.Certificate, idx int) {
		if !ck.at.After(c.NotAfter) && !ck.at.Before(c.NotBefore) {
			return // the names are printed for a problem only
		}
		what := fmt.Sprintf("certificate %d %s", idx, name(c))
		if idx < 0 {
			what = "the trusted root " + name(c)
		}
		switch {
		case ck.at.After(c.NotAfter):
			probs = append(probs, CertProblem{Category: CertExpired, Cert: idx,
				Detail: fmt.Sprintf("%s expired on %s, %s before the capture (%s)", what, stamp(c.NotAfter), span(ck.at.Sub(c.NotAfter)), stamp(ck.at))})
		case ck.at.Before(c.NotBefore):
			probs = append(probs, CertProblem{Category: CertNotYetValid, Cert: idx,
				Detail: fmt.Sprintf("%s is valid only from %s, %s after the capture (%s)", what, stamp(c.NotBefore), span(c.NotBefore.Sub(ck.at)), stamp(ck.at))})
		}
	}
	for _, i := range path {
		check(ck.chain[i], i)
	}
	if anchor != nil && ck.sentIndex(anchor) < 0 {
		check(anchor, -1)
	}
	return probs
}

// sentIndex returns the index of c in the chain as sent, or -1.
func (ck *checker) sentIndex(c *x509.Certificate) int {
	return slices.IndexFunc(ck.chain, func(s *x509.Certificate) bool { return s != nil && s.Equal(c) })
}

// constraints reports the defects besides trust and dates that make a
// client refuse a chain: a critical extension it cannot process, an issuer
// that is not a CA, a leaf or CA not meant for servers, a CA's path
// length constraint exceeded, a SHA-1 or MD5 signature.
func (ck *checker) constraints(path []int, anchor *x509.Certificate) []CertProblem {
	var probs []CertProblem
	for k, i := range path {
		c := ck.chain[i]
		if len(c.UnhandledCriticalExtensions) > 0 {
			oids := make([]string, len(c.UnhandledCriticalExtensions))
			for j, o := range c.UnhandledCriticalExtensions {
				oids[j] = o.String()
			}
			probs = append(probs, CertProblem{Category: CertRejected, Cert: i,
				Detail: fmt.Sprintf("certificate %d %s has a critical extension clients do not understand (%s)", i, name(c), strings.Join(oids, ", ")),
				Fix:    criticalFix(c, i, strings.Join(oids, ", "))})
		}
		if k > 0 && !isCA(c) {
			probs = append(probs, CertProblem{Category: CertRejected, Cert: i,
				Detail: fmt.Sprintf("certificate %d %s signed certificate %d but is not a CA (basicConstraints)", i, name(c), path[k-1]),
				Fix:    fmt.Sprintf("the CA %s must be reissued as a CA certificate (basicConstraints critical, CA:TRUE; keyUsage keyCertSign), with the same key, and the server's chain file must carry the new one; reissuing only certificate %d will not help", name(c), path[k-1])})
		}
		issuerIsRoot := k == len(path)-1 && anchor != nil && ck.sentIndex(anchor) != i
		if (k < len(path)-1 || issuerIsRoot) && insecureSignature(c.SignatureAlgorithm) {
			issuer := anchor
			if k < len(path)-1 {
				issuer = ck.chain[path[k+1]]
			}
			p := CertProblem{Category: CertRejected, Cert: i,
				Detail:  fmt.Sprintf("certificate %d %s is signed with %s, which clients reject as insecure (%s; OpenSSL 3: \"CA signature digest algorithm too weak\")", i, name(c), c.SignatureAlgorithm, goSince(c.SignatureAlgorithm)),
				Lenient: sha1Lenient(c.SignatureAlgorithm),
				Fix:     fmt.Sprintf("have the CA %s sign %s again with SHA-256 (the key can stay; for a certificate of your own, `openssl x509 -sha256` or `openssl ca -md sha256`) and install the new one on the server; Go has no setting to accept it since 1.24 (GODEBUG x509sha1 is gone), and OpenSSL clients only at security level 0 ('DEFAULT@SECLEVEL=0'), which lets every weak parameter through", name(issuer), name(c))}
			if p.Lenient != "" { // SHA-1: accepted everywhere until 2017
				p.RefusedSince, p.RefusedBy = sha1RefusedSince, sha1RefusedBy
				p.Fact = fmt.Sprintf("certificate %d %s is signed with %s", i, name(c), c.SignatureAlgorithm)
				p.TodayFix = fmt.Sprintf("for them, have %s sign it again with SHA-256", name(issuer))
			}
			probs = append(probs, p)
		}
	}
	probs = append(probs, ck.usageProblems(path, anchor)...)
	probs = append(probs, ck.pathLenProblems(path, anchor)...)
	if p, ok := ck.nameConstraints(path); ok {
		probs = append(probs, p)
	}
	return probs
}

// nameConstraints checks the leaf against the name constraints of the
// CAs on its path, whether or not the path ends at a trusted root:
// crypto/x509 reports a violation only for a chain that otherwise
// verifies, but a client that trusts the root refuses the chain for it
// all the same. The highest constrained CA stands in for the root.
func (ck *checker) nameConstraints(path []int) (CertProblem, bool) {
	top := -1
	for k := len(path) - 1; k > 0 && top < 0; k-- {
		if constrainsNames(ck.chain[path[k]]) {
			top = k
		}
	}
	if top < 0 {
		return CertProblem{}, false
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(ck.chain[path[top]])
	for _, i := range path[1:top] {
		inter.AddCert(ck.chain[i])
	}
	_, err := ck.chain[path[0]].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: ck.at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	var invalid x509.CertificateInvalidError
	if !errors.As(err, &invalid) || invalid.Reason != x509.CANotAuthorizedForThisName {
		return CertProblem{}, false
	}
	return CertProblem{Category: CertRejected, Cert: path[top], Detail: "the chain does not verify: " + err.Error(), Fix: ck.constraintFix()}, true
}

// constraintFix is the fix for a leaf outside its CA's name constraints.
func (ck *checker) constraintFix() string {
	ca := "a CA of the chain"
	if i := slices.IndexFunc(ck.chain[1:], constrainsNames); i >= 0 {
		ca = fmt.Sprintf("the CA %s (certificate %d)", name(ck.chain[i+1]), i+1)
	}
	return ca + " may issue only for the names its name constraints permit, so a certificate from it for this name will not verify, however reissued: use a name it permits, or get the certificate from a CA whose constraints allow the name"
}

// minRSABits is the smallest RSA key clients use: crypto/rsa refuses
// smaller ones since Go 1.24 (GODEBUG rsa1024min=0 allows them again), and
// OpenSSL from its security level 1, its lowest default.
const minRSABits = 1024

// secLevel2RSABits is the smallest RSA key OpenSSL accepts at security
// level 2 (112-bit security): its default since 3.2, and Debian's and
// Ubuntu's in their openssl.cnf, which curl, Python and openssl s_client
// read.
const secLevel2RSABits = 2048

// maxGoRSABits is the largest RSA key crypto/tls accepts in a server's
// certificate (GODEBUG tlsmaxrsasize raises it); OpenSSL takes up to
// 16384 bits.
const maxGoRSABits = 8192

// Refusers says which clients refuse a certificate defect that not all of
// them refuse: the rule is a library's policy, not a standard's.
type Refusers uint8

const (
	RefusedByAll     Refusers = iota // every client
	RefusedByOpenSSL                 // OpenSSL at its usual security level (curl, Python, s_client)
	RefusedByGo                      // Go's crypto/tls
)

// refuses reports whether a client on stack s refuses a defect refused
// by r: true or false when the stack is known to, ok false when the
// stack's policy is not known here (Node.js bundles its own OpenSSL
// with its own security level; browsers, Java).
func (r Refusers) refuses(s fingerprint.Stack) (refuses, ok bool) {
	switch r {
	case RefusedByAll:
		return true, true
	case RefusedByOpenSSL:
		switch s {
		case fingerprint.StackOpenSSL, fingerprint.StackCurl, fingerprint.StackPython:
			return true, true
		case fingerprint.StackGo, fingerprint.StackGnuTLS:
			return false, true
		}
	case RefusedByGo:
		switch s {
		case fingerprint.StackGo:
			return true, true
		case fingerprint.StackOpenSSL, fingerprint.StackCurl, fingerprint.StackPython:
			return false, true
		}
	}
	return false, false
}

// keyProblems reports the RSA keys of the certificates sent that some
// or all clients refuse for their size: a leaf under 1024 bits (every
// current client), a leaf or CA under 2048 bits (OpenSSL at security
// level 2: "EE certificate key too weak", "CA certificate key too
// weak"), and any certificate over 8192 bits (Go). crypto/x509 accepts
// all of these in a chain (it checks the issuers' signatures, not the
// leaf's key).
func (ck *checker) keyProblems() []CertProblem {
	var probs []CertProblem
	// The issuing path matters only for a CA's small RSA key: finding it
	// for every chain was most of what checking one allocated.
	var path []int
	onPath := func(i int) bool {
		if path == nil {
			path, _ = ck.path()
		}
		return slices.Contains(path, i)
	}
	for i, c := range ck.chain {
		if c == nil {
			continue
		}
		k, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok || k.N == nil {
			continue
		}
		bits := k.N.BitLen()
		switch {
		case i == 0 && bits < minRSABits:
			probs = append(probs, CertProblem{Category: CertRejected, Cert: 0, Unusable: true,
				Detail:  fmt.Sprintf("certificate 0 %s has a %d-bit RSA key, which Go (1.24 and later) and OpenSSL (curl) refuse: they want %d bits or more (OpenSSL at security level 2, its default from 3.2 and Debian's, 2048)", name(c), bits, minRSABits),
				Fix:     "reissue the certificate with a 2048-bit RSA or a P-256 ECDSA key; as a stop-gap, run Go clients with GODEBUG=rsa1024min=0",
				Lenient: "Go before 1.24 and OpenSSL at security level 0 accept such a key"})
		case bits < secLevel2RSABits && (i == 0 || onPath(i) && !ck.selfSigned(c)):
			// Only the CAs that issued the leaf count; a root the
			// server sends is not checked: clients take theirs from
			// their trust store.
			probs = append(probs, smallKeyProblem(c, i, bits))
		case bits > maxGoRSABits:
			probs = append(probs, CertProblem{Category: CertRejected, Cert: i, Refusers: RefusedByGo,
				Detail:  fmt.Sprintf("certificate %d %s has a %d-bit RSA key, which Go refuses in any certificate a server sends (\"tls: server sent certificate containing RSA key larger than %d bits\", alert bad_certificate)", i, name(c), bits, maxGoRSABits),
				Fix:     fmt.Sprintf("reissue %s with a 2048- to 4096-bit RSA or a P-256 ECDSA key; as a stop-gap, run Go clients with GODEBUG=tlsmaxrsasize=%d (Go 1.21.1 and later)", name(c), (bits+1023)/1024*1024),
				Lenient: "OpenSSL (curl, Python) accepts RSA keys up to 16384 bits"})
		}
	}
	return probs
}

// smallKeyProblem is a 1024- to 2047-bit RSA key in certificate i of the
// chain as sent (a leaf, or a CA), which OpenSSL refuses at security
// level 2.
func smallKeyProblem(c *x509.Certificate, i, bits int) CertProblem {
	const lower = "until then, an OpenSSL client can lower its security level to 1 (curl --ciphers 'DEFAULT@SECLEVEL=1'; Python ctx.set_ciphers('DEFAULT@SECLEVEL=1'); openssl s_client -cipher 'DEFAULT@SECLEVEL=1')"
	p := CertProblem{Category: CertRejected, Cert: i, Refusers: RefusedByOpenSSL,
		Lenient: "Go and GnuTLS accept RSA keys of 1024 bits and more, and OpenSSL at security level 1"}
	if i > 0 && bits < minRSABits {
		p.Refusers, p.Lenient = RefusedByAll, "Go before 1.24 and OpenSSL at security level 0 accept such a key"
		p.Detail = fmt.Sprintf("the CA certificate %d %s has a %d-bit RSA key, which Go (1.24 and later: \"crypto/rsa: %d-bit keys are insecure\") and OpenSSL (curl: \"CA certificate key too weak\") refuse: they want %d bits or more (OpenSSL at security level 2, %d)", i, name(c), bits, bits, minRSABits, secLevel2RSABits)
		p.Fix = fmt.Sprintf("the server must send a chain whose CAs have 2048-bit (or larger) keys: install the CA's current intermediate in place of %s, or get the certificate from a CA with such keys (reissuing the leaf under the same CA does not help)", name(c))
		return p
	}
	// The rest only OpenSSL at security level 2 refuses, since 2019.
	p.RefusedSince, p.RefusedBy = secLevel2Since, secLevel2RefusedBy
	p.Fact = fmt.Sprintf("certificate %d %s has a %d-bit RSA key", i, name(c), bits)
	p.TodayFix = "for them, reissue it with a 2048-bit (or larger) RSA or a P-256 ECDSA key"
	if i == 0 {
		p.Detail = fmt.Sprintf("certificate 0 %s has a %d-bit RSA key, which OpenSSL at security level 2 (its default since 3.2, and Debian's and Ubuntu's: curl, Python, openssl s_client) refuses with \"EE certificate key too weak\": it wants %d bits or more", name(c), bits, secLevel2RSABits)
		p.Fix = "reissue the certificate with a 2048-bit (or larger) RSA or a P-256 ECDSA key; " + lower
		return p
	}
	p.Detail = fmt.Sprintf("the CA certificate %d %s has a %d-bit RSA key, which OpenSSL at security level 2 (its default since 3.2, and Debian's and Ubuntu's: curl, Python, openssl s_client) refuses with \"CA certificate key too weak\": it wants %d bits or more", i, name(c), bits, secLevel2RSABits)
	p.Fix = fmt.Sprintf("the server must send a chain whose CAs have 2048-bit (or larger) keys: install the CA's current intermediate in place of %s, or get the certificate from a CA with such keys (reissuing the leaf under the same CA does not help); %s", name(c), lower)
	return p
}

func isCA(c *x509.Certificate) bool {
	return c.Version < 3 || c.BasicConstraintsValid && c.IsCA
}

// serverAuth reports whether c's extended key usage allows TLS servers:
// none at all, serverAuth, anyExtendedKeyUsage, or one of the old Server
// Gated Crypto usages, which crypto/x509 (for COMODO's and VeriSign's
// chains) and OpenSSL take for serverAuth.
func serverAuth(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.ContainsFunc(c.ExtKeyUsage, func(u x509.ExtKeyUsage) bool {
		switch u {
		case x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageAny, x509.ExtKeyUsageNetscapeServerGatedCrypto, x509.ExtKeyUsageMicrosoftServerGatedCrypto:
			return true
		}
		return false
	})
}

// goSince says since when Go refuses an insecure signature algorithm.
func goSince(a x509.SignatureAlgorithm) string {
	if a == x509.SHA1WithRSA || a == x509.ECDSAWithSHA1 || a == x509.DSAWithSHA1 {
		return "Go since 1.18"
	}
	return "Go"
}

// sha1Lenient names the clients that accepted a SHA-1 signature: all of
// them a few years ago, which an old capture may show.
func sha1Lenient(a x509.SignatureAlgorithm) string {
	if goSince(a) == "Go" {
		return ""
	}
	return "clients accepted SHA-1 signatures until recently: browsers until 2017, OpenSSL before 3.0 (and at security level 0), Go before 1.18"
}

func insecureSignature(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return true
	}
	return false
}

// verifyError explains a failed verification that the checks above did
// not: crypto/x509 knows more rules (name constraints, policies, path
// length) than are worth repeating here.
func (ck *checker) verifyError() CertProblem {
	err := ck.err
	if err == nil {
		_, err = ck.verify() // the cache knew it fails; the error has the time in it
	}
	if err == nil {
		err = errors.New("x509: the verification failed at first and not again")
	}
	var (
		invalid x509.CertificateInvalidError
		unknown x509.UnknownAuthorityError
		sys     x509.SystemRootsError
	)
	cat := CertRejected
	switch {
	case errors.As(err, &unknown), errors.As(err, &sys):
		cat = CertUntrustedCA
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		cat = CertExpired
	}
	idx := 0
	if errors.As(err, &invalid) && invalid.Cert != nil {
		if i := ck.sentIndex(invalid.Cert); i >= 0 {
			idx = i
		}
	}
	p := CertProblem{Category: cat, Cert: idx, Detail: "the chain does not verify: " + err.Error()}
	if errors.As(err, &invalid) && invalid.Reason == x509.CANotAuthorizedForThisName {
		p.Fix = ck.constraintFix()
	}
	return p
}

// constrainsNames reports whether c is a CA with name constraints.
func constrainsNames(c *x509.Certificate) bool {
	return c != nil && (len(c.PermittedDNSDomains) > 0 || len(c.ExcludedDNSDomains) > 0 ||
		len(c.PermittedIPRanges) > 0 || len(c.ExcludedIPRanges) > 0 ||
		len(c.PermittedEmailAddresses) > 0 || len(c.ExcludedEmailAddresses) > 0 ||
		len(c.PermittedURIDomains) > 0 || len(c.ExcludedURIDomains) > 0)
}

// nameProblem is the problem of a leaf that does not cover serverName. A
// leaf without subjectAltName whose common name is serverName is refused
// by Go (since 1.15) and browsers, but OpenSSL's host check, which curl
// uses, still falls back to the common name.
func nameProblem(leaf *x509.Certificate, serverName string) CertProblem {
	p := CertProblem{Category: CertHostnameMismatch, Cert: 0, Detail: nameDetail(leaf, serverName)}
	if cn := leaf.Subject.CommonName; cn != "" && len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0 &&
		(&x509.Certificate{DNSNames: []string{cn}}).VerifyHostname(serverName) == nil {
		p.Lenient = "OpenSSL-based clients such as curl still match the common name of a certificate without subjectAltName"
	}
	return p
}

// nameDetail says which names the leaf covers when serverName is not one.
func nameDetail(leaf *x509.Certificate, serverName string) string {
	var names []string
	names = append(names, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		if leaf.Subject.CommonName != "" {
			return fmt.Sprintf("certificate 0 %s has no subjectAltName, so it is valid for no name ('%s' is only its common name, which Go and browsers ignore; OpenSSL-based clients such as curl still match it); the client asked for '%s'",
				name(leaf), leaf.Subject.CommonName, serverName)
		}
		return fmt.Sprintf("certificate 0 %s names no host; the client asked for '%s'", name(leaf), serverName)
	}
	what := "name"
	if net.ParseIP(serverName) != nil {
		what = "address"
	}
	return fmt.Sprintf("certificate 0 %s is valid for %s, not for the %s '%s'", name(leaf), list(names, 6), what, serverName)
}

// name quotes a certificate's subject; an empty subject is named by its
// serial number.
func name(c *x509.Certificate) string {
	if n, ok := subjectNames.get(c.RawSubject); ok {
		return n
	}
	s := c.Subject.String()
	if s == "" {
		return "(empty subject, serial " + c.SerialNumber.String() + ")"
	}
	n := "'" + s + "'"
	subjectNames.put(c.RawSubject, n)
	return n
}

// subjectNames remembers, by raw subject, what name says of a certificate
// whose subject is not empty: printing a subject takes a dozen
// allocations.
var subjectNames nameMemo

// issuerName is c.Issuer.String(), remembered in issuerNames by raw
// issuer.
func issuerName(c *x509.Certificate) string {
	if n, ok := issuerNames.get(c.RawIssuer); ok {
		return n
	}
	n := c.Issuer.String()
	issuerNames.put(c.RawIssuer, n)
	return n
}

var issuerNames nameMemo

// nameMemo remembers a string per raw DER name (a certificate's subject
// or issuer), up to maxNames of them: the verdicts of a capture's
// connections name the same few certificates over and over. It is a map
// behind a lock rather than a sync.Map because indexing a map with
// string(raw) does not copy raw, and a sync.Map's key of type any did.
type nameMemo struct {
	mu sync.RWMutex
	m  map[string]string
}

const maxNames = 4096

func (m *nameMemo) get(raw []byte) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.m[string(raw)]
	return s, ok
}

func (m *nameMemo) put(raw []byte, s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]string{}
	}
	if len(m.m) < maxNames {
		m.m[string(raw)] = s
	}
}
