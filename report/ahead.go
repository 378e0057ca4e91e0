package report

import (
	"io"
	"runtime"
	"sync"

	"github.com/tlsdiag/tlsdiag/pipeline"
)

// aheadChunk is how many connections Write encodes at once, in parallel,
// before writing them in order: enough to keep every core busy, few
// enough that their text need not all be held at once.
const aheadChunk = 256

// objects writes one JSON object per connection, for the formats made of
// them. Encoding was most of the time of writing a capture of many short
// connections, so objects are encoded ahead, on every core, when a
// Stream is given several connections at once.
type objects struct {
	prefix string                             // indentation of each object; "" for compact
	object func(*Stream, pipeline.Result) any // the value encoded for a connection; nil: its Connection
	ahead  []encoded                          // the next connections, encoded ahead
	buf    []byte                             // output, reused
	conn   Connection                         // converted into by append, reused
	ptrs   refs                               // what conn's pointers point to
	// workers are what each encoding worker of encodeAhead reuses.
	workers []encoder
}

// encoder is what an encoding worker reuses from one connection and one
// call of encodeAhead to the next.
type encoder struct {
	// pages hold the objects of a call, which are written before the next
	// call: a buffer per object was a third of the bytes a read
	// allocated. When one is full the next is taken, rather than the one
	// buffer grown: the objects already written keep the array they are
	// in, so growing by copying allocated the whole buffer again, a
	// quarter larger, at each step.
	pages [][]byte
	conn  Connection // converted into (see Connection.set)
	ptrs  refs       // what conn's pointers point to
}

// pageSize is the capacity of an encoder's page, and pageSpare what a
// page must have left to take the next object, most of which are
// smaller (a larger one grows the page it is written in).
const (
	pageSize  = 64 << 10
	pageSpare = 6 << 10
)

// page returns the encoder's i-th page, emptied; i is at most
// len(e.pages).
func (e *encoder) page(i int) []byte {
	if i == len(e.pages) {
		e.pages = append(e.pages, make([]byte, 0, pageSize))
	}
	return e.pages[i][:0]
}

// encoded is one connection's JSON, encoded ahead.
type encoded struct {
	b   []byte
	err error
}

// encodeAhead encodes the objects of rs with every core and queues them
// for write, which takes them in order.
func (o *objects) encodeAhead(s *Stream, rs []pipeline.Result) {
	out := make([]encoded, len(rs))
	workers := min(runtime.GOMAXPROCS(0), len(rs))
	for len(o.workers) < workers {
		o.workers = append(o.workers, encoder{})
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			e := &o.workers[w]
			page := 0
			buf := e.page(page)
			for i := w; i < len(rs); i += workers {
				if rs[i].Conn == nil {
					continue // Connection reports it
				}
				if cap(buf)-len(buf) < pageSpare && len(buf) > 0 {
					e.pages[page] = buf
					page++
					buf = e.page(page)
				}
				start := len(buf)
				var err error
				if buf, err = o.encode(buf, s, rs[i], &e.conn, &e.ptrs); err != nil {
					buf = buf[:start]
					out[i].err = err
					continue
				}
				// Earlier objects keep the array they were written in
				// when an object larger than pageSpare grows buf.
				out[i].b = buf[start:len(buf):len(buf)]
			}
			e.pages[page] = buf
		})
	}
	wg.Wait()
	o.ahead = out
}

// next takes the next object encoded ahead, if there is one.
func (o *objects) next() (encoded, bool) {
	if len(o.ahead) == 0 {
		return encoded{}, false
	}
	e := o.ahead[0]
	o.ahead = o.ahead[1:]
	return e, true
}

// write writes before, then r's object, then after. An object encoded
// ahead is written as it is, through the Stream's buffer (Connections),
// rather than copied next to before and after first: that copy moved
// every byte of a capture's report once more.
func (o *objects) write(s *Stream, r pipeline.Result, before, after string) error {
	e, ok := o.next()
	if !ok {
		b := append(o.buf[:0], before...)
		b, err := o.encode(b, s, r, &o.conn, &o.ptrs)
		if err != nil {
			return err
		}
		b = append(b, after...)
		o.buf = b
		_, err = s.w.Write(b)
		return err
	}
	if e.err != nil {
		return e.err
	}
	if _, err := io.WriteString(s.w, before); err != nil {
		return err
	}
	if _, err := s.w.Write(e.b); err != nil {
		return err
	}
	_, err := io.WriteString(s.w, after)
	return err
}

// encode appends r's object: its Connection, converted into conn (its
// pointers into ptrs), which encodes itself, or what object gives,
// through encoding/json.
func (o *objects) encode(b []byte, s *Stream, r pipeline.Result, conn *Connection, ptrs *refs) ([]byte, error) {
	if o.object == nil {
		conn.setUnformatted(r, &s.certs, ptrs)
		return conn.appendJSONOf(b, o.prefix, unformatted{conn: r.Conn, seed: s.opts.CommunityIDSeed})
	}
	return appendJSON(b, o.object(s, r), o.prefix)
}

// writeLine writes r's object and a newline.
func (o *objects) writeLine(s *Stream, r pipeline.Result) error {
	return o.write(s, r, "", "\n")
}

// newConnection is NewConnection with the Stream's memory of certificates.
func (s *Stream) newConnection(r pipeline.Result) Connection {
	return newConnection(r, &s.certs, s.opts.CommunityIDSeed)
}
