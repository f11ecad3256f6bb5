// Package deploy holds what operators run: the Dockerfile, docker-compose.yaml
// for a laptop and the Kubernetes base under k8s/. It has no Go code; these
// tests check those files offline, without Docker, a cluster or the network:
//
//   - docker-compose.yaml is loaded by compose-go, which validates it against
//     the Compose JSON schema, then checked for services, healthchecks and
//     start order;
//   - every Kubernetes manifest is decoded strictly (an unknown or duplicate
//     field fails) into the k8s.io/api types, and the CRDs (KEDA ScaledObject,
//     Prometheus Operator ServiceMonitor) into structs of the fields we use;
//     then the references between objects are checked;
//   - the arrears config files decode strictly into the binary's own root
//     Config (cmd/arrears/config) and pass its Validate, and every ARREARS_*
//     variable the files set names a config field;
//   - the Dockerfile is read for its stages, its user and its entrypoint.
//   - the Prometheus alert rules of alerts/ (alerts_test.go) name only
//     registered metrics, each has a runbook section in docs/operations.md
//     and promtool unit tests, and promtool checks and tests them.
package deploy

import (
	"net"
	"strings"
	"testing"

	"github.com/arrears/arrears/cmd/arrears/config"
)

// decodeArrearsConfig decodes an arrears config file strictly over the
// defaults (an unknown key fails), as `arrears -config` reads it, into the
// binary's own config.Config, and validates it.
func decodeArrearsConfig(t *testing.T, name, text string) config.Config {
	t.Helper()
	c, err := config.Decode([]byte(text))
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		t.Fatalf("%s: arrears config: %v", name, err)
	}
	if host, port, err := net.SplitHostPort(c.HTTP.Listen); err != nil || host != "0.0.0.0" || port != opsPort {
		t.Fatalf("%s: http.listen %q: want 0.0.0.0:%s in a container", name, c.HTTP.Listen, opsPort)
	}
	return c
}

// checkEnvName fails on an ARREARS_* variable no config field reads.
func checkEnvName(t *testing.T, where, name string) {
	t.Helper()
	if strings.HasPrefix(name, "ARREARS_") && !config.EnvNames()[name] {
		t.Errorf("%s: %s names no config field", where, name)
	}
}

// opsPort is where every arrears command serves /metrics, /healthz and /readyz.
const opsPort = "9464"

// arrearsCommands are the arrears services of the compose file and their subcommand.
var arrearsCommands = map[string][]string{
	"topics":  {"topics", "create"},
	"migrate": {"migrate"},
	"run":     {"run"},
	"sink":    {"sink"},
	"serve":   {"serve"},
}
