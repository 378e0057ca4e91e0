// Command lb is the load balancer of the proxyproto captures where nginx's
// stream module cannot stand in (it sends version 1 only): a TCP proxy that
// writes a PROXY protocol version 2 header (HAProxy's proxy-protocol.txt,
// section 2.2), as HAProxy's send-proxy-v2 and an AWS NLB with
// proxy_protocol_v2.enabled do, before the client's bytes on each
// connection to the backend, then copies both ways.
//
//	go run ./lb -listen ADDR:PORT -backend ADDR:PORT [-v1]
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"os"
)

func main() {
	listen := flag.String("listen", "", "address and port to listen on")
	backend := flag.String("backend", "", "backend address and port")
	v1 := flag.Bool("v1", false, "write the text header of version 1 instead")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(c, *backend, *v1)
	}
}

func serve(c net.Conn, backend string, v1 bool) {
	defer c.Close()
	b, err := net.Dial("tcp", backend)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer b.Close()
	src := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	dst := c.LocalAddr().(*net.TCPAddr).AddrPort()
	h := header2(src, dst)
	if v1 {
		h = header1(src, dst)
	}
	if _, err := b.Write(h); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	done := make(chan struct{})
	go func() {
		io.Copy(b, c)
		b.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(c, b)
	c.(*net.TCPConn).CloseWrite()
	<-done
}

// header1 is "PROXY TCP4|TCP6 src dst sport dport\r\n".
func header1(src, dst netip.AddrPort) []byte {
	fam := "TCP4"
	if src.Addr().Unmap().Is6() {
		fam = "TCP6"
	}
	return fmt.Appendf(nil, "PROXY %s %s %s %d %d\r\n", fam, src.Addr().Unmap(), dst.Addr().Unmap(), src.Port(), dst.Port())
}

// header2 is the binary header: the signature, version 2 and PROXY,
// TCP over IPv4 or IPv6, the addresses and ports, and two TLVs as load
// balancers add them: PP2_TYPE_UNIQUE_ID and a PP2_TYPE_NOOP of padding.
func header2(src, dst netip.AddrPort) []byte {
	h := []byte("\r\n\r\n\x00\r\nQUIT\n")
	h = append(h, 0x21) // version 2, command PROXY
	var addrs []byte
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	if s.Is4() && d.Is4() {
		h = append(h, 0x11) // AF_INET, STREAM
		addrs = append(append(addrs, s.AsSlice()...), d.AsSlice()...)
	} else {
		h = append(h, 0x21) // AF_INET6, STREAM
		s16, d16 := s.As16(), d.As16()
		addrs = append(append(addrs, s16[:]...), d16[:]...)
	}
	addrs = binary.BigEndian.AppendUint16(addrs, src.Port())
	addrs = binary.BigEndian.AppendUint16(addrs, dst.Port())
	id := []byte(fmt.Sprintf("lb-%s-%d", s, src.Port()))
	addrs = append(addrs, 0x05)
	addrs = binary.BigEndian.AppendUint16(addrs, uint16(len(id)))
	addrs = append(addrs, id...)
	addrs = append(addrs, 0x04, 0, 3, 0, 0, 0)
	h = binary.BigEndian.AppendUint16(h, uint16(len(addrs)))
	return append(h, addrs...)
}
