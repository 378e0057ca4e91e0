//go:build !linux

package tlslab

import "errors"

func startFullBacklog(s *Server, addr string) error {
	return errors.New("no_tcp_answer needs Linux (a full accept queue drops SYNs only there)")
}
