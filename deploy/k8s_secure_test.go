package deploy

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/tlsconf/tlstest"
)

// triggerAuthentication is KEDA's TriggerAuthentication, the fields we use.
type triggerAuthentication struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef"`
	} `json:"spec"`
}

// secretKeys is what each workload may read of the Secrets: its own
// principal's passwords and nothing else (least privilege).
var secretKeys = map[string][]string{
	"StatefulSet/arrears-run": {"arrears-secrets/kafka-processor-password", "arrears-secrets/redis-password", "arrears-ca"},
	"Deployment/arrears-sink": {"arrears-secrets/kafka-sink-password", "arrears-secrets/clickhouse-sink-password", "arrears-ca"},
	"Deployment/arrears-serve": {"arrears-secrets/kafka-serve-password", "arrears-secrets/clickhouse-serve-password", "arrears-secrets/redis-serve-password",
		"arrears-secrets/api-tokens", "arrears-ca", "arrears-serve-tls"},
	"Job/arrears-init": {"arrears-secrets/kafka-admin-password", "arrears-secrets/clickhouse-migrate-password", "arrears-ca"},
}

// podSecrets lists the Secret keys (secret/key, or secret for a whole
// Secret) a pod's volumes and env read, with the files they become.
func podSecrets(t *testing.T, where string, spec corev1.PodSpec) (keys []string, files map[string]string) {
	t.Helper()
	files = map[string]string{} // path under the mount -> secret/key
	mounts := map[string]string{}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		for _, m := range c.VolumeMounts {
			mounts[m.Name] = m.MountPath
		}
		for _, e := range c.Env {
			if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil {
				keys = append(keys, r.SecretKeyRef.Name+"/"+r.SecretKeyRef.Key)
			}
		}
	}
	checkMode := func(v string, mode *int32) {
		if mode == nil || *mode&0o007 != 0 {
			t.Errorf("%s volume %s: defaultMode must leave others no access", where, v)
		}
	}
	for _, v := range spec.Volumes {
		switch {
		case v.Secret != nil:
			keys = append(keys, v.Secret.SecretName)
			checkMode(v.Name, v.Secret.DefaultMode)
			files[mounts[v.Name]+"/"] = v.Secret.SecretName
		case v.Projected != nil:
			checkMode(v.Name, v.Projected.DefaultMode)
			for _, src := range v.Projected.Sources {
				if src.Secret == nil {
					t.Errorf("%s volume %s: a projected source that is not a Secret", where, v.Name)
					continue
				}
				if len(src.Secret.Items) == 0 {
					t.Errorf("%s volume %s: Secret %s projected whole; list the pod's own keys", where, v.Name, src.Secret.Name)
				}
				for _, it := range src.Secret.Items {
					keys = append(keys, src.Secret.Name+"/"+it.Key)
					files[mounts[v.Name]+"/"+it.Path] = src.Secret.Name + "/" + it.Key
				}
			}
		}
	}
	sort.Strings(keys)
	return slices.Compact(keys), files
}

// TestSecretsMounted: every workload reads its passwords from files of the
// Secret objects (ARREARS_*_PASSWORD_FILE), only its own role's, readable
// by its group only; no password or token is a literal anywhere (env
// values, ConfigMap literals); every key is documented in README.md.
func TestSecretsMounted(t *testing.T) {
	b := loadBase(t)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	secretVars := map[string]bool{}
	for _, n := range config.SecretFileNames() {
		secretVars[strings.TrimSuffix(n, config.SecretFileSuffix)] = true
	}
	for _, g := range b.kust.ConfigMapGenerator {
		for _, lit := range g.Literals {
			if name, _, _ := strings.Cut(lit, "="); secretVars[name] || secretVars[strings.TrimSuffix(name, config.SecretFileSuffix)] {
				t.Errorf("ConfigMap %s: secret %s set by a literal", g.Name, name)
			}
		}
	}
	for _, w := range b.workloads() {
		key := w.kind + "/" + w.name
		spec := w.pod.Spec
		keys, files := podSecrets(t, key, spec)
		want := slices.Clone(secretKeys[key])
		sort.Strings(want)
		if !slices.Equal(keys, want) {
			t.Errorf("%s reads secrets %v, want exactly %v", key, keys, want)
		}
		if psc := spec.SecurityContext; len(files) > 0 && (psc == nil || psc.FSGroup == nil || psc.RunAsGroup == nil || *psc.FSGroup != *psc.RunAsGroup) {
			t.Errorf("%s: fsGroup must be the pod's group, or the non-root user cannot read its secret files", key)
		}
		for _, k := range keys {
			if !bytes.Contains(readme, []byte("`"+k[strings.LastIndexByte(k, '/')+1:]+"`")) {
				t.Errorf("%s: secret key %s is not documented in README.md", key, k)
			}
		}
		for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
			where := key + " container " + c.Name
			for _, e := range c.Env {
				base := strings.TrimSuffix(e.Name, config.SecretFileSuffix)
				switch {
				case secretVars[e.Name] && e.ValueFrom == nil:
					t.Errorf("%s: %s is a literal; read it from a Secret", where, e.Name)
				case secretVars[base] && e.Name != base:
					if _, ok := files[e.Value]; !ok {
						t.Errorf("%s: %s=%s is not a file of a mounted Secret", where, e.Name, e.Value)
					}
				case strings.Contains(e.Name, "PASSWORD") || strings.Contains(e.Name, "TOKEN"):
					// a file of a mounted Secret (api.tokens_file), never a value
					if _, ok := files[e.Value]; !ok || !strings.HasSuffix(e.Name, config.SecretFileSuffix) {
						t.Errorf("%s: %s looks like a secret outside the secret variables and files", where, e.Name)
					}
				}
			}
		}
	}
	for _, ta := range all[*triggerAuthentication](b) {
		for _, r := range ta.Spec.SecretTargetRef {
			if !bytes.Contains(readme, []byte("`"+r.Key+"`")) {
				t.Errorf("TriggerAuthentication %s: secret key %s is not documented in README.md", ta.Metadata.Name, r.Key)
			}
		}
	}
}

// effectiveConfig is the configuration a container runs with: arrears.yaml,
// then the ConfigMap's variables and the container's own, its Secret files
// and the CA files replaced by local ones (the http.tls pair by a real
// certificate), read and validated by the binary's own config.Read.
func effectiveConfig(t *testing.T, b *base, spec corev1.PodSpec, c corev1.Container) (config.Config, error) {
	t.Helper()
	dir := t.TempDir()
	_, files := podSecrets(t, c.Name, spec)
	ca := tlstest.NewCA(t, "deploy")
	cert, key := ca.Leaf(t, "serve", "localhost")
	local := func(v string) string {
		for path := range files {
			if v == path || strings.HasSuffix(path, "/") && strings.HasPrefix(v, path) {
				p := filepath.Join(dir, strings.ReplaceAll(strings.TrimPrefix(v, "/"), "/", "_"))
				content := []byte("x\n")
				switch filepath.Base(v) {
				case "kafka-ca.pem", "redis-ca.pem", "clickhouse-ca.pem":
					content, _ = os.ReadFile(ca.File)
				case "tls.crt":
					content, _ = os.ReadFile(cert)
				case "tls.key":
					content, _ = os.ReadFile(key)
				}
				if err := os.WriteFile(p, content, 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
		}
		return v
	}
	var env []string
	for _, g := range b.kust.ConfigMapGenerator {
		if slices.ContainsFunc(c.EnvFrom, func(ef corev1.EnvFromSource) bool { return ef.ConfigMapRef != nil && ef.ConfigMapRef.Name == g.Name }) {
			for _, lit := range g.Literals {
				name, v, _ := strings.Cut(lit, "=")
				env = append(env, name+"="+local(v))
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+local(e.Value))
		} else if e.ValueFrom.FieldRef != nil {
			env = append(env, e.Name+"=pod-0")
		}
	}
	text, err := os.ReadFile("k8s/arrears.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "arrears.yaml")
	if err := os.WriteFile(cfgFile, text, 0o600); err != nil {
		t.Fatal(err)
	}
	return config.Read(cfgFile, env)
}

// TestSecureConnections: every container's effective configuration passes
// Validate and verifies its servers over TLS: Kafka with SASL
// SCRAM-SHA-512 as the role's own principal (every container that talks to
// Kafka), Redis as ACL user arrears (run, serve), ClickHouse as the role's
// own user (sink, serve, migrate); serve serves https and is probed so.
func TestSecureConnections(t *testing.T) {
	b := loadBase(t)
	want := map[string]struct{ kafka, clickhouse string }{
		"topics": {kafka: "admin"}, "acls": {kafka: "admin"}, "migrate": {clickhouse: "migrate"},
		"run": {kafka: "processor"}, "sink": {kafka: "sink", clickhouse: "sink"}, "serve": {kafka: "serve", clickhouse: "serve"},
	}
	seen := 0
	for _, w := range b.workloads() {
		spec := w.pod.Spec
		for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
			role := c.Name
			if role == "arrears" {
				role = c.Args[0]
			}
			where := fmt.Sprintf("%s/%s container %s", w.kind, w.name, c.Name)
			cfg, err := effectiveConfig(t, b, spec, c)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			seen++
			wr, ok := want[role]
			if !ok {
				t.Errorf("%s: no expectation for role %s", where, role)
				continue
			}
			if !cfg.Kafka.TLS.Enabled || cfg.Kafka.TLS.CAFile == "" || !cfg.Redis.TLS.Enabled || !cfg.ClickHouse.TLS.Enabled {
				t.Errorf("%s: TLS to Kafka %v, Redis %v, ClickHouse %v, want all on with a CA", where, cfg.Kafka.TLS.Enabled, cfg.Redis.TLS.Enabled, cfg.ClickHouse.TLS.Enabled)
			}
			if got := cfg.Kafka.SASL.Username; got != wr.kafka || (got != "" && (cfg.Kafka.SASL.Mechanism != "SCRAM-SHA-512" || cfg.Kafka.SASL.Password == "")) {
				t.Errorf("%s: kafka as %q (%s), want %q with SCRAM-SHA-512 and a password", where, got, cfg.Kafka.SASL.Mechanism, wr.kafka)
			}
			if wr.clickhouse != "" && (cfg.ClickHouse.Username != wr.clickhouse || cfg.ClickHouse.Password == "") {
				t.Errorf("%s: clickhouse as %q, want %q with a password", where, cfg.ClickHouse.Username, wr.clickhouse)
			}
			if role == "run" && (cfg.Redis.Username != "arrears" || cfg.Redis.Password == "") {
				t.Errorf("%s: redis as %q, want the ACL user arrears with a password", where, cfg.Redis.Username)
			}
			if role == "serve" && (cfg.API.RedisUsername != "arrears_serve" || cfg.API.RedisPassword == "" || cfg.Redis.Password != "") {
				t.Errorf("%s: serve's redis as %q (api.redis_username), want its own ACL user arrears_serve with a password and not the processor's",
					where, cfg.API.RedisUsername)
			}
			if role == "sink" && cfg.Sink.Migrate {
				t.Errorf("%s: sink.migrate on: user sink may not CREATE", where)
			}
			if tlsOn := cfg.HTTP.TLS.Enabled(); tlsOn != (role == "serve") {
				t.Errorf("%s: http.tls %v, want it on serve only (run and sink are scraped in the namespace)", where, tlsOn)
			}
			if role == "serve" {
				for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
					if p == nil || p.HTTPGet == nil || p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
						t.Errorf("%s: probes must use HTTPS", where)
					}
				}
			}
		}
	}
	if seen < len(want) {
		t.Errorf("only %d containers checked, want %d roles", seen, len(want))
	}
}

// TestNetworkPolicies: a default deny of every arrears pod's traffic, DNS
// for all, and per workload egress only to the ports its configuration
// dials (Kafka, Redis, ClickHouse) and ingress only on the ops port.
func TestNetworkPolicies(t *testing.T) {
	b := loadBase(t)
	nps := all[*networkingv1.NetworkPolicy](b)
	deny := slices.ContainsFunc(nps, func(p *networkingv1.NetworkPolicy) bool {
		return len(p.Spec.PodSelector.MatchLabels) == 0 && len(p.Spec.PodSelector.MatchExpressions) == 0 &&
			slices.Equal(p.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) &&
			len(p.Spec.Ingress) == 0 && len(p.Spec.Egress) == 0
	})
	if !deny {
		t.Fatal("no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)")
	}
	port := func(addr string) int32 {
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("address %q: %v", addr, err)
		}
		var n int32
		fmt.Sscan(p, &n)
		return n
	}
	var chAddr string
	for _, g := range b.kust.ConfigMapGenerator {
		for _, lit := range g.Literals {
			if v, ok := strings.CutPrefix(lit, "ARREARS_CLICKHOUSE_ADDRS="); ok {
				chAddr = strings.Split(v, ",")[0]
			}
		}
	}
	kafka, redis, ch := port(b.config.Kafka.Brokers[0]), port(b.config.Redis.Addrs[0]), port(chAddr)
	dials := map[string][]int32{"arrears-run": {53, kafka, redis}, "arrears-sink": {53, kafka, ch},
		"arrears-serve": {53, kafka, ch, redis}, "arrears-init": {53, kafka, ch}}
	for _, w := range b.workloads() {
		var egress, ingress []int32
		for _, p := range nps {
			sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
			if err != nil || !sel.Matches(labels.Set(w.pod.Labels)) {
				continue
			}
			for _, r := range p.Spec.Egress {
				if len(r.To) == 0 {
					t.Errorf("NetworkPolicy %s: an egress rule to anywhere", p.Name)
				}
				for _, pp := range r.Ports {
					egress = append(egress, pp.Port.IntVal)
				}
			}
			for _, r := range p.Spec.Ingress {
				if len(r.From) == 0 {
					t.Errorf("NetworkPolicy %s: an ingress rule from anywhere", p.Name)
				}
				for _, pp := range r.Ports {
					ingress = append(ingress, pp.Port.IntVal)
				}
			}
		}
		slices.Sort(egress)
		egress = slices.Compact(egress)
		want := slices.Clone(dials[w.name])
		slices.Sort(want)
		if !slices.Equal(egress, slices.Compact(want)) {
			t.Errorf("%s %s: egress to ports %v, want exactly %v (what its config dials, and DNS)", w.kind, w.name, egress, want)
		}
		for _, p := range ingress {
			if fmt.Sprint(p) != opsPort {
				t.Errorf("%s %s: ingress on port %d, want the ops port %s only", w.kind, w.name, p, opsPort)
			}
		}
		if (len(ingress) == 0) != (w.kind == "Job") {
			t.Errorf("%s %s: ingress %v (the Job takes none, the others their ops port)", w.kind, w.name, ingress)
		}
	}
}
