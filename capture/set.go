package capture

import (
	"cmp"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Set reads several capture files as one continuous capture: the files a
// capture was rotated into (tcpdump -C/-G/-W, dumpcap's ring buffer), one
// after the other in the order of their first frames. A connection that
// runs from one file into the next is one connection; frames are numbered
// through the set, as in the file `mergecap -a` would make of it.
type Set struct {
	paths []string // in reading order
	i     int      // the file being read
	cur   *File
	// firsts[i] is the set's number of the first frame of paths[i], for
	// the files opened so far.
	firsts []int64
	frames int64 // frames of the files before cur
	start  time.Time

	read     int64     // bytes of the files before cur
	lastRead int64     // bytes of cur
	done     fileFacts // what the files before cur said of themselves
	progress func(int64)

	onSecrets func(DecryptionSecrets)
	problems  []string // the secrets problems of the files before cur
}

// OpenSet opens files as one capture. They are read in the order of
// their first frames' times (files without frames last, in the order
// given), so that a ring buffer that wrapped is read oldest first. Every
// file is opened once here to read that time: a file that is not a
// capture fails now, not halfway.
func OpenSet(paths []string) (*Set, error) {
	if len(paths) == 0 {
		return nil, errors.New("capture: an empty set of files")
	}
	type entry struct {
		path  string
		first time.Time
	}
	es := make([]entry, len(paths))
	for i, p := range paths {
		if p == "-" {
			return nil, errors.New("capture: standard input cannot be part of a set of files")
		}
		f, err := OpenFile(p)
		if err != nil {
			return nil, err
		}
		_, ci, err := f.ReadPacketData()
		f.Close()
		if err != nil && err != io.EOF {
			return nil, err
		}
		es[i] = entry{p, ci.Timestamp}
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].first, es[j].first
		switch {
		case a.IsZero() || b.IsZero():
			return !a.IsZero() && b.IsZero()
		}
		return a.Before(b)
	})
	s := &Set{paths: make([]string, len(es))}
	for i, e := range es {
		s.paths[i] = e.path
	}
	f, err := OpenFile(s.paths[0])
	if err != nil {
		return nil, err
	}
	s.cur, s.firsts = f, []int64{1}
	return s, nil
}

// Files returns the set's files in reading order.
func (s *Set) Files() []string { return slices.Clone(s.paths) }

// Name returns the set's first file, which names the set.
func (s *Set) Name() string { return s.paths[0] }

// FileOf returns the file holding the set's frame number n, and the
// frame's number within that file (0 for a frame not read yet).
func (s *Set) FileOf(n int64) (string, int64) {
	i := sort.Search(len(s.firsts), func(i int) bool { return s.firsts[i] > n }) - 1
	if i < 0 {
		return s.paths[0], 0
	}
	return s.paths[i], n - s.firsts[i] + 1
}

// Start returns the timestamp of the set's first frame, once it was read.
// Once a frame was handed on, it may be called on another goroutine than
// the reader's: the reader notes the start before it hands a frame on.
func (s *Set) Start() time.Time { return s.start }

// noteStart takes the set's start from the file being read, until a file
// gives one.
func (s *Set) noteStart() {
	if s.start.IsZero() {
		s.start = s.cur.Start()
	}
}

// LinkType returns the link type of the frame most recently returned.
func (s *Set) LinkType() layers.LinkType { return s.cur.LinkType() }

// ReadPacketData returns the next frame of the set. A problem in a file
// is a *ReadError naming that file and the frame's number within it.
func (s *Set) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	for {
		data, ci, err := s.cur.ReadPacketData()
		if err != io.EOF {
			s.noteStart()
			return data, ci, err
		}
		more, err := s.next()
		if err != nil {
			return nil, ci, err
		}
		if !more {
			return nil, ci, io.EOF
		}
	}
}

// next moves to the set's next file; false at the end of the last.
func (s *Set) next() (bool, error) {
	if s.i+1 >= len(s.paths) {
		return false, nil
	}
	s.noteStart()
	s.frames += s.cur.Frames()
	s.done = s.done.add(s.cur.fileFacts())
	s.read += s.lastRead
	s.lastRead = 0
	s.problems = append(s.problems, s.fileProblems()...)
	s.cur.Close()
	f, err := OpenFile(s.paths[s.i+1])
	if err != nil {
		// A file replaced since OpenSet read it.
		return false, err
	}
	s.i++
	s.cur = f
	s.firsts = append(s.firsts, s.frames+1)
	s.watch()
	return true, nil
}

// watch hands the current file what the set was asked to follow.
func (s *Set) watch() {
	if s.progress != nil {
		s.cur.Progress(func(n int64) {
			s.lastRead = n
			s.progress(s.read + n)
		})
	}
	if s.onSecrets != nil {
		s.cur.OnDecryptionSecrets(s.onSecrets)
	}
}

// Progress makes the Set call fn with the number of bytes of its files
// read so far, as File.Progress does for one file.
func (s *Set) Progress(fn func(read int64)) {
	s.progress = fn
	s.watch()
}

// OnDecryptionSecrets makes the Set call fn with the content of every
// Decryption Secrets Block of its pcapng files, as reading reaches it.
func (s *Set) OnDecryptionSecrets(fn func(DecryptionSecrets)) {
	s.onSecrets = fn
	s.watch()
}

// SecretsProblems returns what was wrong with the Decryption Secrets
// Blocks of the files read so far; those of a file after the first name
// it.
func (s *Set) SecretsProblems() []string {
	return append(slices.Clone(s.problems), s.fileProblems()...)
}

func (s *Set) fileProblems() []string {
	var out []string
	for _, p := range s.cur.SecretsProblems() {
		if s.i > 0 {
			p = "in " + s.cur.Name() + ": " + p
		}
		out = append(out, p)
	}
	return out
}

// SecretsSource is a capture that may carry TLS secrets: a File, or a Set
// of files.
type SecretsSource interface {
	Source
	Name() string
	OnDecryptionSecrets(fn func(DecryptionSecrets))
	SecretsProblems() []string
}

// Close releases the file being read.
func (s *Set) Close() error { return s.cur.Close() }

// setFiller fills blocks from the set's files in turn, each with the
// filler of its own format. A block never mixes two files.
type setFiller struct {
	s   *Set
	cur filler
}

func (p *setFiller) fill(b *block) error {
	for {
		if p.cur == nil {
			p.cur = fillerFor(p.s.cur)
		}
		err := p.cur.fill(b)
		if len(b.frames) > 0 {
			// Known from here on, before the block is handed on: whoever
			// the shards hand connections to may ask for it on their
			// goroutine.
			p.s.noteStart()
		}
		if err != io.EOF {
			return err
		}
		more, err := p.s.next()
		if err != nil {
			return err
		}
		if !more {
			return io.EOF
		}
		p.cur = nil
		if len(b.frames) > 0 {
			return nil
		}
	}
}

// Rotated sets are recognised by the names the capturing tools give the
// files of one capture:
//
//	tcpdump -w NAME -C/-G/-W: NAME, NAME1, NAME2… or NAME0…NAME9, NAME00…
//	  (gzip -z: NAME1.gz…), where NAME ends in .pcap, .pcapng, .cap or .dmp
//	dumpcap/tshark -b: PREFIX_00001_20260102150405.pcapng
//
// The patterns are compiled on first use: at package initialisation they
// were a fiftieth of the start of every command.
var (
	tcpdumpName = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(.*\.(?i:pcap|pcapng|cap|dmp))([0-9]*)(?i:\.gz|\.zst|\.lz4)?$`)
	})
	dumpcapName = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(.*)_([0-9]{5,})_[0-9]{14}(\.[A-Za-z0-9]+(?i:\.gz|\.zst|\.lz4)?)?$`)
	})
)

// rotationKey returns the set a file's name puts it in ("" for none) and
// its number in the set (-1 for tcpdump's first file, which has none).
func rotationKey(path string) (string, int) {
	dir, base := filepath.Split(path)
	if m := dumpcapName().FindStringSubmatch(base); m != nil {
		n, _ := strconv.Atoi(m[2])
		return "dumpcap\x00" + dir + m[1] + "\x00" + m[3], n
	}
	if m := tcpdumpName().FindStringSubmatch(base); m != nil {
		n := -1
		if m[2] != "" {
			var err error
			if n, err = strconv.Atoi(m[2]); err != nil {
				return "", 0
			}
		}
		return "tcpdump\x00" + dir + m[1], n
	}
	return "", 0
}

// RotatedSets groups paths into captures: the files named as one rotated
// set (at least two of them) form one group, in the order of their
// numbers; every other file is a group of its own. Groups come in the
// order of their first file in paths.
func RotatedSets(paths []string) [][]string {
	type member struct {
		path string
		n    int
	}
	if len(paths) == 1 {
		return [][]string{{paths[0]}} // a set has two files at least: no name to match
	}
	byKey := map[string][]member{}
	numbered := map[string]bool{} // at least one member carries a number
	for _, p := range paths {
		if k, n := rotationKey(p); k != "" {
			byKey[k] = append(byKey[k], member{p, n})
			numbered[k] = numbered[k] || n >= 0
		}
	}
	var out [][]string
	placed := map[string]bool{}
	for _, p := range paths {
		k, _ := rotationKey(p)
		ms := byKey[k]
		if k == "" || len(ms) < 2 || !numbered[k] {
			out = append(out, []string{p})
			continue
		}
		if placed[k] {
			continue
		}
		placed[k] = true
		slices.SortStableFunc(ms, func(a, b member) int { return cmp.Compare(a.n, b.n) })
		g := make([]string, len(ms))
		for i, m := range ms {
			g[i] = m.path
		}
		out = append(out, g)
	}
	return out
}
