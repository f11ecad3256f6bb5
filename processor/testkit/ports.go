package testkit

import (
	"net"
	"sync"
	"testing"
)

// handedOut holds every address FreeAddr returned in this test process.
var handedOut sync.Map

// FreeAddr is host:port with a port nothing listens on right now and that
// no earlier call in this process returned: the kernel may give a port it
// just freed to the next bind, so two calls in a row could otherwise
// return the same one (TestSecureDemo's run and sink once got the same
// operations port, and run failed with "address already in use").
func FreeAddr(t testing.TB, host string) string {
	t.Helper()
	for {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if _, dup := handedOut.LoadOrStore(addr, true); !dup {
			return addr
		}
	}
}
