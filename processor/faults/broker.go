package faults

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Broker is a private single-node Kafka (deploy/local/kafka-private.sh):
// own ports and data directory, so a test may SIGKILL and restart it.
type Broker struct {
	t     testing.TB
	dir   string
	env   []string
	Addr  string // direct listener, advertised as itself
	Proxy *Proxy // when started with a proxied listener: the fault proxy in front of it
}

// StartBroker starts a private broker. With proxied, it gets a second
// listener advertised at a fault proxy's address (the proxy is started
// here), so clients bootstrapping through Proxy.Addr stay behind the proxy.
func StartBroker(t testing.TB, proxied bool) *Broker {
	t.Helper()
	port, cport := FreePort(t), FreePort(t)
	b := &Broker{t: t, dir: t.TempDir(), Addr: "127.0.0.1:" + strconv.Itoa(port)}
	b.env = append(os.Environ(), "ARREARS_PK_PORT="+strconv.Itoa(port), "ARREARS_PK_CONTROLLER_PORT="+strconv.Itoa(cport))
	if proxied {
		inner := FreePort(t)
		b.Proxy = NewProxy(t, "kafka-"+strconv.Itoa(port), "127.0.0.1:0", "127.0.0.1:"+strconv.Itoa(inner))
		b.env = append(b.env, "ARREARS_PK_PROXY_PORT="+strconv.Itoa(inner), "ARREARS_PK_PROXY_ADVERTISE="+b.Proxy.Addr)
	}
	b.ctl("start")
	t.Cleanup(func() { b.ctl("stop") })
	return b
}

func (b *Broker) ctl(op string) {
	b.t.Helper()
	cmd := exec.Command("bash", repoDir+"/deploy/local/kafka-private.sh", op, b.dir)
	cmd.Env = b.env
	if out, err := cmd.CombinedOutput(); err != nil {
		b.t.Fatalf("kafka-private.sh %s: %v\n%s\n%s", op, err, out, b.LogTail())
	}
}

// Kill SIGKILLs the broker.
func (b *Broker) Kill() { b.ctl("kill") }

// Restart starts the killed broker again on the same data and waits until
// it answers metadata requests.
func (b *Broker) Restart() { b.ctl("start") }

// LogTail is the end of the broker's log.
func (b *Broker) LogTail() string {
	out, _ := exec.Command("tail", "-n", "15", b.dir+"/kafka.log").CombinedOutput()
	return fmt.Sprintf("%s/kafka.log:\n%s", b.dir, out)
}

// since formats a duration for the summary table.
func since(d time.Duration) string { return d.Round(100 * time.Millisecond).String() }
