package probe

import (
	"net"
	"sync"
	"sync/atomic"
)

// closeWatch is the request's TCP connection. As it closes, it notes
// whether the close sends its FIN (or RST) at once, so that the capture
// can wait for that packet: not when bytes the peer has not acknowledged
// are still queued, since the FIN then waits behind them for a
// retransmission that a path which drops them never lets through.
type closeWatch struct {
	net.Conn
	once   sync.Once
	atOnce atomic.Bool
}

func (c *closeWatch) Close() error {
	c.once.Do(func() {
		unsent, unread, ok := socketQueues(c.Conn)
		// Unread bytes make Linux reset the connection at once,
		// whatever is queued to send.
		c.atOnce.Store(ok && (unsent == 0 || unread > 0))
	})
	return c.Conn.Close()
}

// closedAtOnce says whether the connection was closed with nothing left
// to send (or with unread bytes): its FIN or RST then left at the close.
func (c *closeWatch) closedAtOnce() bool { return c.atOnce.Load() }
