package analysis

// Records holds connection records their reader is done with, for the
// Builders to overwrite instead of allocating new ones: a record is the
// largest allocation of a connection (1,536 bytes), a quarter of the bytes
// a read of short connections allocated, and the garbage collector ran
// that much more often. Only the record's own struct is reused; what it
// points to (hellos, certificates, alerts) is left to the collector, so
// a verdict or a summary that kept one of those stays valid.
//
// It is safe for concurrent use; a nil *Records keeps nothing.
type Records struct {
	free chan *Connection
}

// NewRecords returns a Records that holds up to n records.
func NewRecords(n int) *Records {
	return &Records{free: make(chan *Connection, n)}
}

// Done hands c back. The caller must be its last reader: nothing may read
// c, or keep a pointer to it or into it, after this call. When the
// Records is full, c is left to the collector.
func (r *Records) Done(c *Connection) {
	if r == nil || c == nil {
		return
	}
	select {
	case r.free <- c:
	default:
	}
}

// take returns a record to overwrite whole: one handed back, or a new
// one.
func (r *Records) take() *Connection {
	if r != nil {
		select {
		case c := <-r.free:
			return c
		default:
		}
	}
	return new(Connection)
}
