package report

import (
	"runtime"
	"sync"
)

// aheadChunk is how many connections Write encodes at once, in parallel,
// before writing them in order: enough to keep every core busy, few
// enough that their text need not all be held at once.
const aheadChunk = 256

// encoded is one connection's JSON, encoded ahead.
type encoded struct {
	b   []byte
	err error
}

// encodeAhead encodes the JSON of rs with every core and queues it for
// jsonConnection and ndjsonConnection, which take it in order. Encoding
// was most of the time of writing a capture of many short connections.
func (s *Stream) encodeAhead(rs []Result) {
	prefix := "    "
	if s.f == FormatNDJSON {
		prefix = ""
	}
	out := make([]encoded, len(rs))
	workers := min(runtime.GOMAXPROCS(0), len(rs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(rs); i += workers {
				if rs[i].Conn == nil {
					continue // Connection reports it
				}
				out[i].b, out[i].err = appendJSON(nil, s.newConnection(rs[i]), prefix)
			}
		})
	}
	wg.Wait()
	s.ahead = out
}

// takeAhead returns the next connection's JSON if it was encoded ahead.
func (s *Stream) takeAhead() (encoded, bool) {
	if len(s.ahead) == 0 {
		return encoded{}, false
	}
	e := s.ahead[0]
	s.ahead = s.ahead[1:]
	return e, true
}

// newConnection is NewConnection with the Stream's memory of certificates.
func (s *Stream) newConnection(r Result) Connection { return newConnection(r, &s.certs) }
