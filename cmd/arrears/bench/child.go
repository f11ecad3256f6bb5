package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/tlsconf"
)

// ChildMarker is set to "1" in the children's environment (a test binary
// standing in for arrears dispatches on it, see cmd/arrears/bench_test.go).
const ChildMarker = "ARREARS_BENCH_CHILD"

// child is a started `arrears run` or `arrears sink`.
type child struct {
	name   string
	cmd    *exec.Cmd
	listen string
	log    string
	exited chan error
}

// start launches `arrears name -config FILE` for this stack, FILE being
// the stack's Config with the ops endpoint on a free loopback port, and
// waits for /readyz. The child reads its whole configuration from FILE: its
// environment is the bench's without ARREARS_* variables, plus the secrets
// the file leaves out.
func (s *stack) start(ctx context.Context, name string) (*child, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cfg := s.cfg
	cfg.HTTP.Listen = l.Addr().String()
	cfg.HTTP.TLS = tlsconf.Server{} // bench scrapes its children over plain http on loopback
	l.Close()
	base := filepath.Join(s.o.WorkDir, s.id+"-"+name)
	secrets, err := cfg.WriteFile(base + ".yaml")
	if err != nil {
		return nil, err
	}
	lf, err := os.Create(base + ".log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.o.Bin, name, "-config", base+".yaml")
	cmd.Env = append(append(config.ChildEnv(os.Environ()), secrets...), ChildMarker+"=1")
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s %s: %w", s.o.Bin, name, err)
	}
	c := &child{name: name, cmd: cmd, listen: cfg.HTTP.Listen, log: base + ".log", exited: make(chan error, 1)}
	go func() { c.exited <- cmd.Wait(); lf.Close() }()
	if err := c.waitReady(ctx, 2*time.Minute); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func (c *child) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		res, err := http.Get("http://" + c.listen + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-c.exited:
			c.exited <- err
			return fmt.Errorf("arrears %s exited before it was ready (%v); log: %s", c.name, err, c.log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("arrears %s not ready after %s; log: %s", c.name, timeout, c.log)
		}
	}
}

// get is GET path on the child's ops endpoint; the caller closes the body.
func (c *child) get(ctx context.Context, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.listen+path, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return nil, fmt.Errorf("arrears %s %s: %s", c.name, path, res.Status)
	}
	return res.Body, nil
}

// peakRSSMB is the child's high-water resident set (VmHWM), in MB.
func (c *child) peakRSSMB() float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// saveProfile fetches /debug/pprof/NAME into path (best effort: a failed
// profile is reported in the file's place, the bench goes on).
func (c *child) saveProfile(ctx context.Context, name, path string) {
	err := func() error {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		body, err := c.get(ctx, "/debug/pprof/"+name)
		if err != nil {
			return err
		}
		defer body.Close()
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, body); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}()
	if err != nil {
		_ = os.WriteFile(path+".error", []byte(err.Error()+"\n"), 0o644)
	}
}

// stop sends SIGTERM and waits (SIGKILL after 30 s).
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}
