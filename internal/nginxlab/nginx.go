// Package nginxlab runs a real nginx for tests: its own prefix directory,
// configuration, pid file, logs and temporary paths, listening on loopback
// ports only, never touching the system's configuration.
package nginxlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a running nginx.
type Server struct {
	Dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	stderr bytes.Buffer
}

// Config wraps server blocks (text) into a complete configuration whose
// every path is inside dir.
func Config(dir string, servers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pid %s;\nerror_log %s info;\nworker_processes 1;\nevents { worker_connections 64; }\n",
		filepath.Join(dir, "nginx.pid"), filepath.Join(dir, "error.log"))
	b.WriteString("http {\n")
	fmt.Fprintf(&b, "  access_log %s;\n", filepath.Join(dir, "access.log"))
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "  %s_temp_path %s;\n", t, filepath.Join(dir, "tmp-"+t))
	}
	b.WriteString("  default_type text/plain;\n")
	for _, s := range servers {
		b.WriteString("  server {\n" + s + "\n  }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// Available reports why nginx cannot run here, or nil.
func Available() error {
	_, err := exec.LookPath("nginx")
	return err
}

// Start writes conf into dir/nginx.conf, starts nginx in the foreground
// with dir as its prefix, and returns once every address in ports accepts
// TCP connections.
func Start(ctx context.Context, dir, conf string, addrs ...string) (*Server, error) {
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("nginxlab: %w", err)
	}
	s := &Server{Dir: dir, exited: make(chan struct{})}
	s.cmd = exec.Command("nginx", "-p", dir+"/", "-c", path, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
	s.cmd.Stderr = &lockedWriter{s}
	s.cmd.Stdout = &lockedWriter{s}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("nginxlab: start nginx: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	for _, a := range addrs {
		if err := s.await(ctx, a); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) await(ctx context.Context, addr string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("nginxlab: nginx exited: %s%s", s.output(), s.errorLog())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nginxlab: %s does not accept connections: %w (%s)", addr, err, s.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

func (s *Server) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "error.log"))
	return string(b)
}

// ErrorLog is what nginx logged, for a failing test's message.
func (s *Server) ErrorLog() string { return s.output() + s.errorLog() }

// Close stops nginx (SIGQUIT, then SIGKILL after two seconds).
func (s *Server) Close() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	s.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.exited:
		return nil
	case <-time.After(2 * time.Second):
	}
	s.cmd.Process.Kill()
	<-s.exited
	return errors.New("nginxlab: nginx did not stop on SIGQUIT")
}

type lockedWriter struct{ s *Server }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.stderr.Write(p)
}
