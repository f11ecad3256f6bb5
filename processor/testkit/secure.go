package testkit

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/tlsconf"
)

// SecureKafkaAddr and SecureKafkaDir are where the secured broker of
// deploy/local/kafka-secure.sh (make kafka-secure-up) listens and keeps its
// certificates and passwords.
var (
	SecureKafkaAddr = env("ARREARS_TEST_SECURE_KAFKA", "127.0.0.1:9192")
	SecureKafkaDir  = env("ARREARS_KS_DIR", filepath.Join(os.TempDir(), "arrears-kafka-secure"))
)

// SecureKafka is a kafkax.Config for the secured broker as user (admin,
// processor, sink, serve or nobody): SASL_SSL, SCRAM-SHA-512, the local CA.
// Under -short it skips; a missing broker fails the test.
func SecureKafka(t testing.TB, user string) kafkax.Config {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the secured Kafka (make kafka-secure-up); skipped with -short")
	}
	c, err := net.DialTimeout("tcp", SecureKafkaAddr, 3*time.Second)
	if err != nil {
		t.Fatalf("secured kafka is not reachable at %s (start it with `make kafka-secure-up`): %v", SecureKafkaAddr, err)
	}
	c.Close()
	pw, err := os.ReadFile(filepath.Join(SecureKafkaDir, "secrets", user))
	if err != nil {
		t.Fatalf("secured kafka password of %s: %v (make kafka-secure-up)", user, err)
	}
	k := kafkax.Defaults()
	k.Brokers = []string{SecureKafkaAddr}
	k.TLS = tlsconf.Config{Enabled: true, CAFile: filepath.Join(SecureKafkaDir, "certs", "ca.pem")}
	k.SASL = kafkax.SASL{Mechanism: kafkax.MechanismScramSHA512, Username: user, Password: strings.TrimSpace(string(pw))}
	return k
}
