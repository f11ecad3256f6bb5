package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/testkit"
)

// TestSecureCommandsStop: `arrears run` with a wrong SCRAM password (read
// from ARREARS_KAFKA_SASL_PASSWORD_FILE) and `arrears sink` as a principal
// without ACLs exit at once with an error naming kafka and the cause, and
// neither prints the password.
func TestSecureCommandsStop(t *testing.T) {
	testkit.Integration(t, "redis", "clickhouse")
	k := testkit.SecureKafka(t, "processor")
	bin := testkit.ArrearsBinary(t)
	wrong := "wrong-password-" + testkit.ID()
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nobody := testkit.SecureKafka(t, "nobody")
	for _, tc := range []struct {
		cmd, user, password string
		env                 []string
		want                []string
	}{
		{cmd: "run", user: "processor", env: []string{"ARREARS_KAFKA_SASL_PASSWORD_FILE=" + pwFile},
			want: []string{"kafka: SASL authentication failed", `user "processor"`}},
		{cmd: "sink", user: "nobody", env: []string{"ARREARS_KAFKA_SASL_PASSWORD=" + nobody.SASL.Password},
			want: []string{"kafka: not authorized", "User:nobody"}},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c := exec.CommandContext(ctx, bin, tc.cmd)
			c.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
				"ARREARS_KAFKA_BROKERS=" + k.Brokers[0], "ARREARS_KAFKA_TLS_ENABLED=true", "ARREARS_KAFKA_TLS_CA_FILE=" + k.TLS.CAFile,
				"ARREARS_KAFKA_SASL_MECHANISM=SCRAM-SHA-512", "ARREARS_KAFKA_SASL_USERNAME=" + tc.user,
				"ARREARS_REDIS_ADDRS=" + testkit.RedisAddr, "ARREARS_CLICKHOUSE_ADDRS=" + testkit.ClickHouseAddr,
				"ARREARS_HTTP_LISTEN=", "ARREARS_PROCESSOR_TICK_INTERVAL=0s"}, tc.env...)
			out, err := c.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("arrears %s still running after 60 s (retrying instead of stopping):\n%s", tc.cmd, out)
			}
			if err == nil {
				t.Fatalf("arrears %s exited 0:\n%s", tc.cmd, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, secret := range []string{wrong, nobody.SASL.Password} {
				if strings.Contains(string(out), secret) {
					t.Errorf("output shows a password:\n%s", out)
				}
			}
		})
	}
}
