package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/tlsconf/tlstest"
)

// secureRoles: each arrears service of the secure profile, its command and
// the principals it runs as (Kafka, ClickHouse; "" none).
var secureRoles = map[string]struct {
	cmd               []string
	kafka, clickhouse string
}{
	"topics-secure":  {[]string{"topics", "create"}, "admin", ""},
	"acls-secure":    {[]string{"topics", "acls", "-apply"}, "admin", ""},
	"migrate-secure": {[]string{"migrate"}, "", "migrate"},
	"run-secure":     {[]string{"run"}, "processor", ""},
	"sink-secure":    {[]string{"sink"}, "sink", "sink"},
	"serve-secure":   {[]string{"serve"}, "serve", "serve"},
}

// TestComposeSecure: the secure profile runs the secured servers and the
// pipeline with each role as its own principal: every service's effective
// arrears configuration (the arrears-secure config and its variables, with
// the volume's files made locally) validates and verifies Kafka, Redis and
// ClickHouse over TLS; passwords come only from files secure-init makes;
// serve speaks https; ports are published on loopback only.
func TestComposeSecure(t *testing.T) {
	p := loadCompose(t)
	initScript := p.Configs["secure-init"].Content
	for _, name := range []string{"secure-init", "kafka-secure", "redis-secure", "clickhouse-secure"} {
		s, ok := p.Services[name]
		if !ok {
			t.Fatalf("service %s is missing", name)
		}
		if !slices.Equal(s.Profiles, []string{"secure"}) {
			t.Errorf("service %s: want only in profile secure, have %v", name, s.Profiles)
		}
		if name != "secure-init" && (s.HealthCheck == nil || len(s.HealthCheck.Test) == 0) {
			t.Errorf("service %s: healthcheck wanted", name)
		}
	}
	for _, want := range []string{"--add-scram", "StandardAuthorizer", "allow.everyone.if.no.acl.found=false", "listeners=SASL_SSL://:9094,CONTROLLER://localhost:9095"} {
		if !strings.Contains(p.Configs["kafka-secure"].Content, want) {
			t.Errorf("kafka-secure: %q wanted", want)
		}
	}
	if cmd := strings.Join(p.Services["redis-secure"].Command, " "); !strings.Contains(cmd, "--port 0 --tls-port 6380") || !strings.Contains(cmd, "--aclfile") {
		t.Errorf("redis-secure: TLS only with an ACL file wanted, have %s", cmd)
	}
	if !strings.Contains(initScript, "user default off") || !strings.Contains(initScript, "~arrears:*") {
		t.Error("secure-init: the Redis ACL must turn the default user off and keep user arrears to arrears:*")
	}
	// user arrears may send every command the shipped local ACL (the one the
	// secured tests run against) grants: the two lists must not drift apart
	shipped, err := os.ReadFile("local/redis-secure.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ARREARS_ACL='([^']*)'`).FindSubmatch(shipped)
	if m == nil {
		t.Fatal("local/redis-secure.sh: no ARREARS_ACL")
	}
	line := regexp.MustCompile(`user arrears on [^\\]*`).FindString(initScript)
	for _, cmd := range strings.Fields(string(m[1])) {
		if !slices.Contains(strings.Fields(line), cmd) {
			t.Errorf("secure-init: user arrears lacks %s, which local/redis-secure.sh grants", cmd)
		}
	}
	if ch := p.Configs["clickhouse-secure"].Content; !strings.Contains(ch, `<tcp_port remove="remove"/>`) || !strings.Contains(ch, "<tcp_port_secure>9440") {
		t.Error("clickhouse-secure: TLS only (tcp_port removed, tcp_port_secure 9440) wanted")
	}
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("service %s publishes %s on %q, want 127.0.0.1 only", name, port.Published, port.HostIP)
			}
		}
	}

	dir := t.TempDir()
	ca := tlstest.NewCA(t, "compose")
	cert, key := ca.Leaf(t, "server", "serve-secure")
	local := func(v string) string { return strings.ReplaceAll(v, "/secure/", dir+"/") }
	for f, from := range map[string]string{"ca.pem": ca.File, "server.pem": cert, "server-key.pem": key} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfgFile := filepath.Join(dir, "arrears.yaml")
	if err := os.WriteFile(cfgFile, []byte(local(p.Configs["arrears-secure"].Content)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, want := range secureRoles {
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("service %s is missing", name)
			continue
		}
		if !slices.Equal([]string(s.Command), want.cmd) || !slices.Equal(s.Profiles, []string{"secure"}) {
			t.Errorf("service %s: command %q profiles %v, want %q in profile secure", name, s.Command, s.Profiles, want.cmd)
		}
		if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
			t.Errorf("service %s: read-only root and no capabilities wanted", name)
		}
		var env []string
		for k, v := range s.Environment {
			checkEnvName(t, "service "+name, k)
			if v == nil {
				continue
			}
			if strings.HasSuffix(k, "_PASSWORD") {
				t.Errorf("service %s: %s is a literal; read it from a file", name, k)
			}
			if strings.HasSuffix(k, "_PASSWORD_FILE") {
				base := strings.TrimSuffix(filepath.Base(*v), ".password")
				if !strings.HasPrefix(*v, "/secure/") || !strings.Contains(initScript, " "+base+" ") && !strings.Contains(initScript, " "+base+";") {
					t.Errorf("service %s: %s=%s is not a password secure-init makes", name, k, *v)
				}
				if err := os.WriteFile(local(*v), []byte("pw\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env = append(env, k+"="+local(*v))
		}
		cfg, err := config.Read(cfgFile, env)
		if err != nil {
			t.Errorf("service %s: %v", name, err)
			continue
		}
		if !cfg.Kafka.TLS.Enabled || !cfg.Redis.TLS.Enabled || !cfg.ClickHouse.TLS.Enabled || cfg.Kafka.TLS.CAFile == "" {
			t.Errorf("service %s: TLS to Kafka %v, Redis %v, ClickHouse %v: want all on", name, cfg.Kafka.TLS.Enabled, cfg.Redis.TLS.Enabled, cfg.ClickHouse.TLS.Enabled)
		}
		if cfg.Kafka.SASL.Username != want.kafka || want.kafka != "" && cfg.Kafka.SASL.Password == "" {
			t.Errorf("service %s: kafka as %q, want %q with a password", name, cfg.Kafka.SASL.Username, want.kafka)
		}
		if want.clickhouse != "" && (cfg.ClickHouse.Username != want.clickhouse || cfg.ClickHouse.Password == "") {
			t.Errorf("service %s: clickhouse as %q, want %q with a password", name, cfg.ClickHouse.Username, want.clickhouse)
		}
		if name == "run-secure" && (cfg.Redis.Username != "arrears" || cfg.Redis.Password == "") {
			t.Errorf("service %s: redis as %q, want arrears with a password", name, cfg.Redis.Username)
		}
		if name == "serve-secure" && (cfg.API.RedisUsername != "arrears_serve" || cfg.API.RedisPassword == "" || cfg.Redis.Password != "") {
			t.Errorf("service %s: redis as %q (api.redis_username), want its own user arrears_serve with a password, not arrears'", name, cfg.API.RedisUsername)
		}
		if name == "sink-secure" && cfg.Sink.Migrate {
			t.Errorf("service %s: sink.migrate on, but user sink may not CREATE", name)
		}
		if cfg.HTTP.TLS.Enabled() != (name == "serve-secure") {
			t.Errorf("service %s: http.tls %v, want https on serve only", name, cfg.HTTP.TLS.Enabled())
		}
	}
	deps := map[string]string{"run-secure": "acls-secure", "sink-secure": "migrate-secure", "acls-secure": "topics-secure", "topics-secure": "kafka-secure"}
	for svc, dep := range deps {
		if c := p.Services[svc].DependsOn[dep].Condition; c != types.ServiceConditionCompletedSuccessfully && c != types.ServiceConditionHealthy {
			t.Errorf("service %s must wait for %s, has condition %q", svc, dep, c)
		}
	}
}
