//go:build linux

package probe

import (
	"net"
	"testing"
	"time"
)

// loopbackPair returns the two ends of a TCP connection on loopback; the
// client's end is watched.
func loopbackPair(t *testing.T) (*closeWatch, net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &closeWatch{Conn: c}, s
}

func TestCloseWatch(t *testing.T) {
	t.Run("nothing queued", func(t *testing.T) {
		c, s := loopbackPair(t)
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 5)
		if _, err := s.Read(buf); err != nil {
			t.Fatal(err)
		}
		waitAcked(t, c)
		c.Close()
		if !c.closedAtOnce() {
			t.Error("a connection closed with every byte acknowledged sends its FIN at once")
		}
	})
	t.Run("unread bytes", func(t *testing.T) {
		c, s := loopbackPair(t)
		if _, err := s.Write([]byte("unread")); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if _, unread, _ := socketQueues(c.Conn); unread > 0 {
				break
			}
		}
		c.Close()
		if !c.closedAtOnce() {
			t.Error("a connection closed with unread bytes sends a RST at once")
		}
	})
	t.Run("peer not reading", func(t *testing.T) {
		// The server never reads: its receive buffer fills, its window
		// closes, and the client's send queue keeps what it cannot send.
		c, _ := loopbackPair(t)
		c.Conn.(*net.TCPConn).SetWriteBuffer(64 << 10)
		c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		chunk := make([]byte, 64<<10)
		for {
			if _, err := c.Write(chunk); err != nil {
				break
			}
		}
		if unsent, _, _ := socketQueues(c.Conn); unsent == 0 {
			t.Fatal("the send queue is empty after writing until the window closed")
		}
		c.Close()
		if c.closedAtOnce() {
			t.Error("a connection closed with bytes queued sends its FIN only after them")
		}
	})
}

// waitAcked waits until the peer acknowledged everything c sent.
func waitAcked(t *testing.T, c *closeWatch) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if unsent, _, ok := socketQueues(c.Conn); ok && unsent == 0 {
			return
		}
	}
	t.Fatal("the peer acknowledged nothing in 5 s")
}
