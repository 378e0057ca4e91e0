package diagnose

// A client's SYN that met an older connection between the same two ports:
// the server still held it (the client had forgotten it: its end never
// reached the server) and answered the SYN with an acknowledgment of that
// connection instead of a SYN-ACK (a challenge ACK, RFC 5961 Section 4).
// The client resets it, which ends it at the server, and sends its SYN
// again: the connection opens late by the client's wait.

import "fmt"

// stalePortWarning says that the server answered the SYN with an
// acknowledgment of an older connection between the same ports, and what
// it cost; "" when it did not.
func (d *diagnosis) stalePortWarning() string {
	p, t := d.c.Path, &d.c.TCP
	if p == nil || p.StaleACK.Number == 0 {
		return ""
	}
	w := fmt.Sprintf("the server answered the client's SYN (%s) with an acknowledgment of an older connection between the same two ports (%s: a challenge ACK, RFC 5961), which the server still held and the client no longer had",
		frameRef(t.SYN.Number), frameRef(p.StaleACK.Number))
	switch {
	case p.StaleReset.Number != 0 && t.SYNACK.Number != 0:
		w += fmt.Sprintf("; the client reset it (%s), sent its SYN again and was accepted (SYN-ACK, %s) %s after its first SYN",
			frameRef(p.StaleReset.Number), frameRef(t.SYNACK.Number), d.waitFrom(t.SYN, t.SYNACK))
	case p.StaleReset.Number != 0:
		w += fmt.Sprintf("; the client reset it (%s), and no SYN-ACK followed in the capture", frameRef(p.StaleReset.Number))
	}
	return w + ". The client's port was used again while the server kept the older connection, whose end never reached it (a reset or FIN lost on the way, a client that vanished, a NAT that gave the port to a new connection after dropping the old one's mapping); each time it happens the connection opens late by the client's wait before it sends its SYN again"
}
