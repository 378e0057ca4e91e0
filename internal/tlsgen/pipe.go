package tlsgen

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// side is one end of a recorded conversation.
type side uint8

const (
	clientSide side = iota
	serverSide
)

func (s side) other() side { return 1 - s }

// chunk is what one Write of one side carried. needs is how many bytes of
// the other side's stream the writer had read before writing: the chunk
// cannot appear on the wire before them. phase orders the chunks across
// sides where reading does not (see recording.mark).
type chunk struct {
	from  side
	data  []byte
	needs int
	phase int
}

// recording is a conversation between two in-memory endpoints: every Write
// is kept as a chunk. Reads never cross a chunk boundary, so how much a
// side has read when it writes does not depend on goroutine timing.
type recording struct {
	mu     sync.Mutex
	cond   *sync.Cond
	chunks [2][]chunk // by writer
	read   [2]int     // chunks of the other side's stream fully read, by reader
	off    [2]int     // bytes read of the current chunk, by reader
	bytes  [2]int     // bytes read, by reader
	closed [2]bool    // by writer
	phase  int
}

func newRecording() *recording {
	r := &recording{}
	r.cond = sync.NewCond(&r.mu)
	return r
}

// conns returns the client's and the server's endpoint.
func (r *recording) conns() (net.Conn, net.Conn) {
	return &endpoint{r: r, s: clientSide}, &endpoint{r: r, s: serverSide}
}

// mark starts a new phase: chunks written from now on go on the wire after
// every chunk written before. Call it when both sides are idle.
func (r *recording) mark() {
	r.mu.Lock()
	r.phase++
	r.mu.Unlock()
}

// merged returns the chunks in an order a wire could show: each after the
// bytes its writer had read, phases in order, the client first when both
// could go.
func (r *recording) merged() ([]chunk, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []chunk
	var next [2]int
	var sent [2]int
	for next[0] < len(r.chunks[0]) || next[1] < len(r.chunks[1]) {
		pick := -1
		for _, s := range []side{clientSide, serverSide} {
			if next[s] >= len(r.chunks[s]) {
				continue
			}
			c := r.chunks[s][next[s]]
			o := s.other()
			if c.needs > sent[o] {
				continue
			}
			if next[o] < len(r.chunks[o]) && r.chunks[o][next[o]].phase < c.phase {
				continue
			}
			pick = int(s)
			break
		}
		if pick < 0 {
			return nil, errors.New("tlsgen: recorded conversation has no causal order")
		}
		c := r.chunks[pick][next[pick]]
		out = append(out, c)
		next[pick]++
		sent[pick] += len(c.data)
	}
	return out, nil
}

type endpoint struct {
	r *recording
	s side
}

func (e *endpoint) Write(p []byte) (int, error) {
	r := e.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed[e.s] {
		return 0, net.ErrClosed
	}
	r.chunks[e.s] = append(r.chunks[e.s], chunk{from: e.s, data: append([]byte(nil), p...), needs: r.bytes[e.s], phase: r.phase})
	r.cond.Broadcast()
	return len(p), nil
}

func (e *endpoint) Read(p []byte) (int, error) {
	r := e.r
	o := e.s.other()
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.read[e.s] >= len(r.chunks[o]) {
		if r.closed[o] || r.closed[e.s] {
			return 0, io.EOF
		}
		r.cond.Wait()
	}
	c := r.chunks[o][r.read[e.s]].data
	n := copy(p, c[r.off[e.s]:])
	r.off[e.s] += n
	r.bytes[e.s] += n
	if r.off[e.s] == len(c) {
		r.read[e.s]++
		r.off[e.s] = 0
	}
	return n, nil
}

// Close ends this side's stream: the other side reads EOF once it has read
// everything.
func (e *endpoint) Close() error {
	r := e.r
	r.mu.Lock()
	r.closed[e.s] = true
	r.cond.Broadcast()
	r.mu.Unlock()
	return nil
}

func (e *endpoint) LocalAddr() net.Addr                { return addr{} }
func (e *endpoint) RemoteAddr() net.Addr               { return addr{} }
func (e *endpoint) SetDeadline(t time.Time) error      { return nil }
func (e *endpoint) SetReadDeadline(t time.Time) error  { return nil }
func (e *endpoint) SetWriteDeadline(t time.Time) error { return nil }

type addr struct{}

func (addr) Network() string { return "memory" }
func (addr) String() string  { return "memory" }
