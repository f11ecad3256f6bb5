package deploy

import (
	"context"
	"encoding/base64"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	abs, err := filepath.Abs("docker-compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	details := types.ConfigDetails{
		WorkingDir:  filepath.Dir(abs),
		ConfigFiles: []types.ConfigFile{{Filename: abs}},
		Environment: types.Mapping{}, // only the defaults written in the file
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("arrears", true)
		o.Profiles = []string{"*"}
		o.ResourceLoaders = nil // local files only
	})
	if err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	return p
}

func TestCompose(t *testing.T) {
	p := loadCompose(t)
	for _, name := range []string{"kafka", "redis", "clickhouse", "topics", "migrate", "run", "sink", "serve", "prometheus", "grafana"} {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("service %s is missing", name)
		}
	}
	// Long-running services say when they are usable.
	for _, name := range []string{"kafka", "redis", "clickhouse", "run", "sink", "serve", "prometheus", "grafana"} {
		hc := p.Services[name].HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) == 0 || hc.Interval == nil || hc.Retries == nil {
			t.Errorf("service %s: healthcheck with test, interval and retries wanted, have %+v", name, hc)
		}
	}
	for _, name := range []string{"prometheus", "grafana"} {
		if !slices.Equal(p.Services[name].Profiles, []string{"monitoring"}) {
			t.Errorf("service %s: want only in profile monitoring, have %v", name, p.Services[name].Profiles)
		}
	}
	// Start order: the broker and databases are healthy, the one-shots have
	// completed, then the long-running services start.
	wantDeps := map[string]map[string]string{
		"topics":  {"kafka": types.ServiceConditionHealthy},
		"migrate": {"clickhouse": types.ServiceConditionHealthy},
		"run":     {"topics": types.ServiceConditionCompletedSuccessfully, "kafka": types.ServiceConditionHealthy, "redis": types.ServiceConditionHealthy},
		"sink":    {"topics": types.ServiceConditionCompletedSuccessfully, "migrate": types.ServiceConditionCompletedSuccessfully},
		"serve":   {"migrate": types.ServiceConditionCompletedSuccessfully},
		"grafana": {"prometheus": types.ServiceConditionHealthy},
	}
	for svc, deps := range wantDeps {
		for dep, cond := range deps {
			if got := p.Services[svc].DependsOn[dep].Condition; got != cond {
				t.Errorf("service %s depends_on %s: condition %q, want %q", svc, dep, got, cond)
			}
		}
	}

	// KRaft formats its storage with CLUSTER_ID: a base64url UUID.
	if id := p.Services["kafka"].Environment["CLUSTER_ID"]; id == nil {
		t.Error("service kafka: CLUSTER_ID wanted")
	} else if b, err := base64.RawURLEncoding.DecodeString(*id); err != nil || len(b) != 16 {
		t.Errorf("service kafka: CLUSTER_ID %q is not a base64url UUID (kafka-storage.sh random-uuid)", *id)
	}

	cfg := p.Configs["arrears"]
	if cfg.Content == "" {
		t.Fatal("configs.arrears: inline content wanted")
	}
	ac := decodeArrearsConfig(t, "docker-compose.yaml configs.arrears", cfg.Content)
	for _, addr := range append(slices.Clone(ac.Kafka.Brokers), ac.Redis.Addrs...) {
		host, _, _ := net.SplitHostPort(addr)
		if _, ok := p.Services[host]; !ok {
			t.Errorf("arrears config: %s is not a compose service", addr)
		}
	}
	for name, cmd := range arrearsCommands {
		s := p.Services[name]
		for env := range s.Environment {
			checkEnvName(t, "service "+name, env)
		}
		if !slices.Equal([]string(s.Command), cmd) {
			t.Errorf("service %s: command %q, want %q", name, s.Command, cmd)
		}
		if s.Build == nil || filepath.Base(s.Build.Dockerfile) != "Dockerfile" {
			t.Errorf("service %s: built from deploy/Dockerfile wanted, have %+v", name, s.Build)
		}
		path := s.Environment["ARREARS_CONFIG"]
		if path == nil || !slices.ContainsFunc(s.Configs, func(c types.ServiceConfigObjConfig) bool {
			return c.Source == "arrears" && c.Target == *path
		}) {
			t.Errorf("service %s: the arrears config must be mounted at $ARREARS_CONFIG", name)
		}
		if hc := s.HealthCheck; hc != nil && !strings.Contains(strings.Join(hc.Test, " "), "/"+opsPort+" ") {
			t.Errorf("service %s: healthcheck %q does not ask port %s", name, hc.Test, opsPort)
		}
	}
	if id := p.Services["run"].Environment["ARREARS_PROCESSOR_TRANSACTIONAL_ID"]; id == nil || *id == "" {
		t.Error("service run: a fixed ARREARS_PROCESSOR_TRANSACTIONAL_ID wanted")
	}
	prom := p.Configs["prometheus"].Content
	for _, svc := range []string{"run", "sink", "serve"} {
		if !strings.Contains(prom, svc+":"+opsPort) {
			t.Errorf("prometheus config does not scrape %s:%s", svc, opsPort)
		}
	}
}
