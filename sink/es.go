// Package sink sends newline-delimited JSON documents to a store through
// the Elasticsearch/OpenSearch _bulk API: batched by size and time,
// gzipped, retried with backoff, held in a bounded in-memory queue that
// spills to a spool file while the store cannot take them.
package sink

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options tune an ES sink. Zero values take the defaults.
type Options struct {
	// BatchBytes sends a batch once its documents reach this size
	// (default 4 MiB).
	BatchBytes int
	// FlushInterval sends a batch this long after its first document
	// at the latest (default 1 s).
	FlushInterval time.Duration
	// QueueBytes bounds the documents held in memory (default 32 MiB);
	// beyond it, and while the store is unreachable, they go to the spool.
	QueueBytes int
	// SpoolDir holds the spool file (default the user's cache directory,
	// tlsdiag/spool). Documents left in it are sent the next time a sink
	// for the same store and index is opened.
	SpoolDir string
	// CloseTimeout is how long Close keeps trying to send what is left
	// before it writes it to the spool (default 10 s).
	CloseTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between retries (default
	// 100 ms and 30 s); the wait doubles after each failure.
	MinBackoff, MaxBackoff time.Duration
	// Client sends the requests (default a client with a 30 s timeout).
	Client *http.Client
}

func (o *Options) defaults() {
	if o.BatchBytes <= 0 {
		o.BatchBytes = 4 << 20
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = 32 << 20
	}
	if o.QueueBytes < o.BatchBytes {
		o.QueueBytes = o.BatchBytes
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 10 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(30*time.Second, o.MinBackoff)
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
}

// MaxDocBytes is the largest document the sink takes: a line longer than
// this is refused rather than held.
const MaxDocBytes = 16 << 20

// Stats count what a sink did.
type Stats struct {
	Sent     int64 // documents the store accepted
	Rejected int64 // documents the store refused for good (a 4xx: mapping, bad request)
	Retries  int64 // requests that failed and were tried again
	Spooled  int64 // documents written to the spool file
	Replayed int64 // documents read back from the spool and sent
}

// ES sends documents to an Elasticsearch-compatible _bulk endpoint. Write
// takes newline-delimited JSON documents, one per line; each document's
// event.id, when it has one, is its _id, so a document sent twice is
// stored once. It is safe for one writer; Close must be called.
type ES struct {
	bulkURL string // the _bulk endpoint, with the user's query
	index   string
	opts    Options

	mu      sync.Mutex
	cond    *sync.Cond
	queue   [][]byte // documents in memory, oldest first
	queued  int      // their bytes
	partial []byte   // a line not yet ended by Write
	closing bool
	stats   Stats
	fatal   error // a permanent refusal, reported by Close

	spool      *os.File
	spoolPath  string
	spoolRead  int64 // offset of the first document in the spool not yet sent
	spoolBytes int64 // size of the spool
	spooling   bool  // new documents go to the spool, after the ones there

	done chan struct{}
}

// Open parses a sink address and starts the sender. The address is
// es+http://HOST:PORT/INDEX or es+https://…; path segments before the
// index are a prefix of the _bulk endpoint (es+http://host:9428/insert/
// elasticsearch/tlsdiag posts to /insert/elasticsearch/_bulk, index
// tlsdiag), and a query is passed on to every request.
func Open(address string, opts Options) (*ES, error) {
	u, err := url.Parse(address)
	if err != nil {
		return nil, fmt.Errorf("sink address %q: %w", address, err)
	}
	scheme, ok := strings.CutPrefix(u.Scheme, "es+")
	if !ok || scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("sink address %q: want es+http://HOST:PORT/INDEX or es+https://…", address)
	}
	dir, index := path.Split(strings.TrimSuffix(u.Path, "/"))
	if index == "" || u.Host == "" {
		return nil, fmt.Errorf("sink address %q: no host or no index (es+http://HOST:PORT/INDEX)", address)
	}
	if strings.ToLower(index) != index || strings.ContainsAny(index, `\/*?"<>| ,#:`) {
		return nil, fmt.Errorf("sink address %q: index %q must be lower case without \\ / * ? \" < > | , # : or spaces", address, index)
	}
	u.Scheme, u.Path, u.RawPath = scheme, path.Join(dir, "_bulk"), ""
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path
	}
	opts.defaults()
	s := &ES{bulkURL: u.String(), index: index, opts: opts, done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	if err := s.openSpool(u.Host); err != nil {
		return nil, err
	}
	go s.run()
	return s, nil
}

// openSpool opens (or creates) the spool file of this store and index; a
// non-empty one from an earlier run is replayed first.
func (s *ES) openSpool(host string) error {
	dir := s.opts.SpoolDir
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir = filepath.Join(cache, "tlsdiag", "spool")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sink spool: %w", err)
	}
	name := strings.NewReplacer(":", "_", "/", "_", "[", "", "]", "").Replace(host) + "-" + s.index + ".ndjson"
	s.spoolPath = filepath.Join(dir, name)
	f, err := os.OpenFile(s.spoolPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sink spool: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("sink spool: %w", err)
	}
	s.spool, s.spoolBytes = f, st.Size()
	s.spooling = s.spoolBytes > 0
	return nil
}

// SpoolPath is the file that holds the documents the store has not taken.
func (s *ES) SpoolPath() string { return s.spoolPath }

// Stats returns what the sink has done so far.
func (s *ES) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Write queues the documents in p, one per line; a line may be split
// across calls. It never waits for the store: what the memory queue
// cannot hold goes to the spool file.
func (s *ES) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return 0, errors.New("sink: Write after Close")
	}
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(s.partial)+len(p) > MaxDocBytes {
				return n - len(p), fmt.Errorf("sink: a document longer than %d bytes", MaxDocBytes)
			}
			s.partial = append(s.partial, p...)
			break
		}
		line := append(s.partial, p[:i]...)
		s.partial, p = nil, p[i+1:]
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := s.enqueue(bytes.Clone(line)); err != nil {
			return n - len(p), err
		}
	}
	return n, nil
}

// enqueue holds doc in memory, or appends it to the spool when the queue
// is full or the spool already holds older documents (order is kept).
func (s *ES) enqueue(doc []byte) error {
	if !s.spooling && s.queued+len(doc) <= s.opts.QueueBytes {
		s.queue = append(s.queue, doc)
		s.queued += len(doc)
		s.cond.Broadcast()
		return nil
	}
	if _, err := s.spool.WriteAt(append(doc, '\n'), s.spoolBytes); err != nil {
		return fmt.Errorf("sink spool %s: %w", s.spoolPath, err)
	}
	s.spoolBytes += int64(len(doc)) + 1
	s.spooling = true
	s.stats.Spooled++
	s.cond.Broadcast()
	return nil
}

// Close sends what is queued, trying for CloseTimeout at most, then
// writes whatever the store did not take to the spool file. The error
// says what was not delivered and where it is.
func (s *ES) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return errors.New("sink: Close called twice")
	}
	if len(bytes.TrimSpace(s.partial)) > 0 {
		if err := s.enqueue(bytes.Clone(s.partial)); err != nil {
			s.fatal = errors.Join(s.fatal, err)
		}
	}
	s.partial = nil
	s.closing = true
	s.cond.Broadcast()
	s.mu.Unlock()
	<-s.done

	s.mu.Lock()
	defer s.mu.Unlock()
	// What the sender did not get to (it stopped on a refusal) is kept.
	s.spillQueued(len(s.queue))
	var errs []error
	if s.fatal != nil {
		errs = append(errs, s.fatal)
	}
	if left := s.spoolBytes - s.spoolRead; left > 0 {
		errs = append(errs, fmt.Errorf("the records %s has not taken (%d bytes) are in %s: they are sent the next time tlsdiag sends to this store and index", s.bulkURL, left, s.spoolPath))
	} else if err := s.spool.Truncate(0); err != nil {
		errs = append(errs, fmt.Errorf("sink spool %s: %w", s.spoolPath, err))
	}
	if err := s.spool.Close(); err != nil {
		errs = append(errs, fmt.Errorf("sink spool %s: %w", s.spoolPath, err))
	}
	return errors.Join(errs...)
}

// run is the sender: it takes batches from memory, then from the spool,
// and posts them until Close.
func (s *ES) run() {
	defer close(s.done)
	var deadline time.Time // set by Close: stop retrying after it
	backoff := time.Duration(0)
	for {
		batch, fromSpool, next := s.nextBatch()
		if batch == nil {
			return // closing, and nothing is left
		}
		s.mu.Lock()
		if s.closing && deadline.IsZero() {
			deadline = time.Now().Add(s.opts.CloseTimeout)
		}
		s.mu.Unlock()
		err := s.send(batch, deadline)
		if err == nil {
			backoff = 0
			s.mu.Lock()
			if fromSpool {
				s.stats.Replayed += int64(len(batch))
				s.spoolRead = next
				if s.spoolRead == s.spoolBytes {
					// Drained: new documents may stay in memory again.
					if terr := s.spool.Truncate(0); terr == nil {
						s.spoolRead, s.spoolBytes, s.spooling = 0, 0, false
					}
				}
			} else {
				s.dropQueued(len(batch))
			}
			s.mu.Unlock()
			continue
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			s.mu.Lock()
			s.fatal = errors.Join(s.fatal, err)
			if !fromSpool {
				// Keep the refused documents: once the mapping is fixed,
				// the spool sends them.
				s.spillQueued(len(batch))
			}
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		s.stats.Retries++
		// The store is down: what is in memory goes to the spool, so that
		// memory stays bounded while it stays down.
		if !fromSpool {
			s.spillQueued(len(s.queue))
		}
		closing := s.closing
		s.mu.Unlock()
		if closing && !deadline.IsZero() && time.Now().After(deadline) {
			return
		}
		backoff = min(max(2*backoff, s.opts.MinBackoff), s.opts.MaxBackoff)
		wait := backoff
		if !deadline.IsZero() {
			wait = min(wait, max(time.Until(deadline), 0))
		}
		time.Sleep(wait)
	}
}

// nextBatch waits for documents and returns a batch: from memory first
// (older than anything in the spool), then from the spool, with the spool
// offset after the batch.
func (s *ES) nextBatch() (batch [][]byte, fromSpool bool, next int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := time.Time{}
	for {
		if len(s.queue) > 0 {
			if first.IsZero() {
				first = time.Now()
			}
			if s.closing || s.queued >= s.opts.BatchBytes || time.Since(first) >= s.opts.FlushInterval || s.spooling {
				n, size := 0, 0
				for n < len(s.queue) && (n == 0 || size+len(s.queue[n]) <= s.opts.BatchBytes) {
					size += len(s.queue[n])
					n++
				}
				return s.queue[:n:n], false, 0
			}
		} else if s.spoolRead < s.spoolBytes {
			b, next, err := s.readSpool()
			if err == nil && len(b) > 0 {
				return b, true, next
			}
			if err != nil {
				s.fatal = errors.Join(s.fatal, err)
				return nil, false, 0
			}
		} else if s.closing {
			return nil, false, 0
		}
		// Wait for a document, or for the batch's time to run out.
		wake := time.AfterFunc(s.opts.FlushInterval/4+time.Millisecond, func() {
			s.mu.Lock()
			s.cond.Broadcast()
			s.mu.Unlock()
		})
		s.cond.Wait()
		wake.Stop()
	}
}

// readSpool reads up to a batch of documents from the spool.
func (s *ES) readSpool() ([][]byte, int64, error) {
	r := bufio.NewReaderSize(io.NewSectionReader(s.spool, s.spoolRead, s.spoolBytes-s.spoolRead), 64<<10)
	var batch [][]byte
	size, off := 0, s.spoolRead
	for size < s.opts.BatchBytes {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			off += int64(len(line))
			if doc := bytes.TrimSpace(line); len(doc) > 0 {
				batch = append(batch, doc)
				size += len(doc)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("sink spool %s: %w", s.spoolPath, err)
		}
	}
	return batch, off, nil
}

// dropQueued removes the first n documents from memory.
func (s *ES) dropQueued(n int) {
	for _, d := range s.queue[:n] {
		s.queued -= len(d)
	}
	s.queue = append(s.queue[:0:0], s.queue[n:]...)
	s.cond.Broadcast()
}

// spillQueued moves the first n documents in memory to the front of the
// spool's unsent part: they are older than anything already there.
func (s *ES) spillQueued(n int) {
	if n == 0 {
		return
	}
	var buf bytes.Buffer
	for _, d := range s.queue[:n] {
		buf.Write(d)
		buf.WriteByte('\n')
	}
	// Rewrite the unsent part of the spool behind them.
	rest := make([]byte, s.spoolBytes-s.spoolRead)
	if _, err := s.spool.ReadAt(rest, s.spoolRead); err != nil && !errors.Is(err, io.EOF) {
		s.fatal = errors.Join(s.fatal, fmt.Errorf("sink spool %s: %w", s.spoolPath, err))
		return
	}
	buf.Write(rest)
	if _, err := s.spool.WriteAt(buf.Bytes(), 0); err != nil {
		s.fatal = errors.Join(s.fatal, fmt.Errorf("sink spool %s: %w", s.spoolPath, err))
		return
	}
	if err := s.spool.Truncate(int64(buf.Len())); err != nil {
		s.fatal = errors.Join(s.fatal, fmt.Errorf("sink spool %s: %w", s.spoolPath, err))
		return
	}
	s.stats.Spooled += int64(n)
	s.spoolRead, s.spoolBytes, s.spooling = 0, int64(buf.Len()), true
	s.dropQueued(n)
}

// permanentError is a refusal that sending again cannot change.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// send posts one batch. A network error, a 429 or a 5xx is temporary; a
// 4xx, or items the store refused with a 4xx, is permanent. Items refused
// with a 429 or 5xx are sent again.
func (s *ES) send(batch [][]byte, deadline time.Time) error {
	for len(batch) > 0 {
		body, err := s.bulkBody(batch)
		if err != nil {
			return err
		}
		ctx := context.Background()
		if !deadline.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.bulkURL, bytes.NewReader(body))
		if err != nil {
			return &permanentError{fmt.Sprintf("sink: %v", err)}
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := s.opts.Client.Do(req)
		if err != nil {
			return fmt.Errorf("sending to %s: %w", s.bulkURL, err)
		}
		respBody, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("reading the answer of %s: %w", s.bulkURL, err)
		}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			return fmt.Errorf("%s answered %s: %s", s.bulkURL, resp.Status, excerpt(respBody))
		case resp.StatusCode >= 400:
			return &permanentError{fmt.Sprintf("%s refused the records with %s (a mapping or request error: sending again cannot help; the records are kept in %s): %s",
				s.bulkURL, resp.Status, s.spoolPath, excerpt(respBody))}
		}
		retry, refused, firstRefusal := bulkItems(respBody, len(batch))
		s.mu.Lock()
		s.stats.Sent += int64(len(batch) - len(retry) - refused)
		s.stats.Rejected += int64(refused)
		s.mu.Unlock()
		if refused > 0 {
			return &permanentError{fmt.Sprintf("%s refused %d of %d records (a mapping error: sending again cannot help): %s", s.bulkURL, refused, len(batch), firstRefusal)}
		}
		if len(retry) == 0 {
			return nil
		}
		next := make([][]byte, len(retry))
		for i, j := range retry {
			next[i] = batch[j]
		}
		batch = next
		s.mu.Lock()
		s.stats.Retries++
		s.mu.Unlock()
		time.Sleep(s.opts.MinBackoff)
	}
	return nil
}

// bulkBody is the gzipped _bulk request for batch: an index action with
// the document's event.id as _id, then the document.
func (s *ES) bulkBody(batch [][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, doc := range batch {
		action := map[string]map[string]string{"index": {"_index": s.index}}
		if id := docID(doc); id != "" {
			action["index"]["_id"] = id
		}
		a, err := json.Marshal(action)
		if err != nil {
			return nil, err
		}
		zw.Write(a)
		zw.Write([]byte{'\n'})
		zw.Write(doc)
		zw.Write([]byte{'\n'})
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// docID is a document's event.id, "" when it has none.
func docID(doc []byte) string {
	var d struct {
		Event struct {
			ID string `json:"id"`
		} `json:"event"`
	}
	if json.Unmarshal(doc, &d) != nil {
		return ""
	}
	return d.Event.ID
}

// bulkItems reads a _bulk answer: the items to send again (429, 5xx), how
// many were refused for good, and the first refusal's reason. An answer
// without items (a store that does not list them) counts every document
// as taken.
func bulkItems(body []byte, n int) (retry []int, refused int, first string) {
	var r struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if json.Unmarshal(body, &r) != nil || !r.Errors {
		return nil, 0, ""
	}
	for i, item := range r.Items {
		if i >= n {
			break
		}
		for _, res := range item {
			switch {
			case res.Status == http.StatusTooManyRequests || res.Status >= 500:
				retry = append(retry, i)
			case res.Status >= 400:
				refused++
				if first == "" {
					first = excerpt(res.Error)
				}
			}
		}
	}
	return retry, refused, first
}

// excerpt is the start of a server's answer, for an error message.
func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return fmt.Sprintf("%q", s)
}
