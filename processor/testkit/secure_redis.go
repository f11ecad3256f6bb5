package testkit

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/arrears/arrears/sinks/redisstore"
	"github.com/arrears/arrears/tlsconf"
)

// SecureDir is where deploy/local/secure-common.sh keeps the CA, the server
// and client certificates and the generated passwords of the secured Redis
// and ClickHouse (make redis-secure-up, make clickhouse-secure-up).
var SecureDir = env("ARREARS_SECURE_DIR", "/tmp/arrears-secure")

// SecureRedisAddr, SecureRedisCluster and SecureRedisPrefix are where the
// secured Redis of deploy/local/redis-secure.sh listens (TLS only) and the
// key prefix its ACL user arrears is limited to.
var (
	SecureRedisAddr    = env("ARREARS_TEST_SECURE_REDIS", "127.0.0.1:6390")
	SecureRedisCluster = strings.Split(env("ARREARS_TEST_SECURE_REDIS_CLUSTER", "127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102"), ",")
	SecureRedisPrefix  = env("ARREARS_REDIS_SECURE_PREFIX", "arrears")
)

// SecurePassword reads the generated password of user on service (redis,
// clickhouse).
func SecurePassword(t testing.TB, service, user string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(SecureDir, service, user+".password"))
	if err != nil {
		t.Fatalf("password of %s user %s: %v", service, user, err)
	}
	return strings.TrimSpace(string(b))
}

// SecureTLS is the TLS block trusting the local CA.
func SecureTLS() tlsconf.Config {
	return tlsconf.Config{Enabled: true, CAFile: filepath.Join(SecureDir, "ca.pem")}
}

// SecureClientCert is the client certificate and key the local CA signed
// (mutual TLS).
func SecureClientCert() (certFile, keyFile string) {
	return filepath.Join(SecureDir, "client.pem"), filepath.Join(SecureDir, "client.key")
}

// localScript is the path of a deploy/local script.
func localScript(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "deploy", "local", name)
}

var secureStarts sync.Map // script+op -> *sync.Once result

// EnsureSecure runs `bash deploy/local/SCRIPT OP` (which starts a secured
// server unless it already runs) once per test binary; it fails the test
// with the script's output when that fails. Under -short it skips.
func EnsureSecure(t testing.TB, script, op string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("integration test: needs the server of %s %s; skipped with -short", script, op)
	}
	type result struct {
		once sync.Once
		out  []byte
		err  error
	}
	v, _ := secureStarts.LoadOrStore(script+" "+op, &result{})
	r := v.(*result)
	r.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		r.out, r.err = exec.CommandContext(ctx, "bash", localScript(script), op).CombinedOutput()
	})
	if r.err != nil {
		t.Fatalf("%s %s: %v\n%s", script, op, r.err, r.out)
	}
}

// SecureRedis starts the secured standalone Redis (or the TLS cluster) if
// needed and returns the config of its ACL user arrears with a key prefix
// unique to this test inside the user's ~PREFIX:* pattern, and an admin
// client; the test's keys are deleted at the end.
func SecureRedis(t testing.TB, cluster bool) (redisstore.Config, redis.UniversalClient) {
	t.Helper()
	op := "start"
	c := redisstore.Defaults()
	c.Addrs = []string{SecureRedisAddr}
	if cluster {
		op, c.Addrs, c.Cluster = "cluster-start", SecureRedisCluster, true
	}
	EnsureSecure(t, "redis-secure.sh", op)
	c.Username, c.Password, c.TLS = "arrears", SecurePassword(t, "redis", "arrears"), SecureTLS()
	c.Prefix = SecureRedisPrefix + ":t" + ID()
	admin := c
	admin.Username, admin.Password = "admin", SecurePassword(t, "redis", "admin")
	rdb := redisstore.NewClient(admin)
	t.Cleanup(func() { DeletePrefix(rdb, c.Prefix); rdb.Close() })
	return c, rdb
}

// CheckRedacted fails the test when fmt (%v, %+v, of the value and of a
// pointer to it) or slog's JSON handler print secret, or leave out want.
func CheckRedacted[T any](t testing.TB, v T, secret, want string) {
	t.Helper()
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "config", v)
	for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%+v", v), fmt.Sprintf("%v", &v), b.String()} {
		if strings.Contains(s, secret) || !strings.Contains(s, want) {
			t.Errorf("printed %q: want %q and not the secret", s, want)
		}
	}
}
