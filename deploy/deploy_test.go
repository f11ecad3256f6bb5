// Package deploy holds what operators run: the Dockerfile, docker-compose.yaml
// for a laptop and the Kubernetes base under k8s/. It has no Go code; this
// test checks those files offline, without Docker, a cluster or the network:
//
//   - docker-compose.yaml is loaded by compose-go, which validates it against
//     the Compose JSON schema, then checked for services, healthchecks and
//     start order;
//   - every Kubernetes manifest is decoded strictly (an unknown or duplicate
//     field fails) into the k8s.io/api types, and the CRDs (KEDA ScaledObject,
//     Prometheus Operator ServiceMonitor) into structs of the fields we use;
//     then the references between objects are checked;
//   - the arrears config files decode strictly into the components' Config
//     types and pass their Validate;
//   - the Dockerfile is read for its stages, its user and its entrypoint.
package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
	chsink "github.com/arrears/arrears/sinks/clickhouse"
	"github.com/arrears/arrears/sinks/redisstore"
)

// arrearsConfig mirrors cmd/arrears.Config (package main cannot be imported):
// the same sections, the same component types, decoded with unknown keys as
// errors, as loadConfig does.
type arrearsConfig struct {
	Kafka      kafkax.Config     `yaml:"kafka"`
	Codec      schemas.Config    `yaml:"codec"`
	Redis      redisstore.Config `yaml:"redis"`
	Processor  processor.Config  `yaml:"processor"`
	Core       core.Config       `yaml:"core"`
	ClickHouse analytics.Config  `yaml:"clickhouse"`
	Sink       chsink.Config     `yaml:"sink"`
	Log        struct {
		Level  string `yaml:"level"`
		Format string `yaml:"format"`
	} `yaml:"log"`
	HTTP struct {
		Listen string `yaml:"listen"`
	} `yaml:"http"`
}

// decodeArrearsConfig decodes an arrears config file over the defaults and
// validates every section.
func decodeArrearsConfig(t *testing.T, name, text string) arrearsConfig {
	t.Helper()
	c := arrearsConfig{Kafka: kafkax.Defaults(), Redis: redisstore.Defaults(), Processor: processor.Defaults(),
		Core: core.Defaults(), ClickHouse: analytics.Defaults(), Sink: chsink.Defaults()}
	c.Log.Level, c.Log.Format, c.HTTP.Listen = "info", "json", "127.0.0.1:9464"
	dec := yaml.NewDecoder(strings.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: arrears config: %v", name, err)
	}
	if err := errors.Join(c.Kafka.Validate(), c.Codec.Validate(), c.Redis.Validate(), c.Processor.Validate(), c.Core.Validate(), c.ClickHouse.Validate(), c.Sink.Validate()); err != nil {
		t.Fatalf("%s: arrears config: %v", name, err)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) || !slices.Contains([]string{"json", "text"}, c.Log.Format) {
		t.Fatalf("%s: arrears config: bad log section %+v", name, c.Log)
	}
	if host, port, err := net.SplitHostPort(c.HTTP.Listen); err != nil || host != "0.0.0.0" || port != opsPort {
		t.Fatalf("%s: http.listen %q: want 0.0.0.0:%s in a container", name, c.HTTP.Listen, opsPort)
	}
	return c
}

// envNames lists the ARREARS_* variables arrears reads: the config file path
// and one per config field, named as walkEnv in cmd/arrears/config.go does,
// plus the clickhouse section (analytics.Config), which the deploy files set
// by environment until it joins the config file.
func envNames() map[string]bool {
	names := map[string]bool{"ARREARS_CONFIG": true}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			name := prefix + "_" + strings.ToUpper(tag)
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, name)
				continue
			}
			names[name] = true
		}
	}
	walk(reflect.TypeFor[arrearsConfig](), "ARREARS")
	return names
}

// checkEnvName fails on an ARREARS_* variable no config field reads.
func checkEnvName(t *testing.T, where, name string) {
	t.Helper()
	if strings.HasPrefix(name, "ARREARS_") && !envNames()[name] {
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

// Custom resources: the fields we use, decoded strictly. KEDA's and the
// Prometheus Operator's Go modules are too heavy to import for this.
type scaledObject struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int32 `json:"minReplicaCount"`
		MaxReplicaCount *int32 `json:"maxReplicaCount"`
		PollingInterval *int32 `json:"pollingInterval"`
		CooldownPeriod  *int32 `json:"cooldownPeriod"`
		Advanced        *struct {
			HorizontalPodAutoscalerConfig *struct {
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior"`
			} `json:"horizontalPodAutoscalerConfig"`
		} `json:"advanced"`
		Triggers []struct {
			Type     string            `json:"type"`
			Metadata map[string]string `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

type serviceMonitor struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// kustomization holds the fields of kustomization.yaml we use.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
	} `json:"labels"`
	Resources          []string `json:"resources"`
	ConfigMapGenerator []struct {
		Name     string   `json:"name"`
		Files    []string `json:"files"`
		Literals []string `json:"literals"`
	} `json:"configMapGenerator"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// newObject returns the typed object for apiVersion/kind; a kind not listed
// here is an error, so every manifest gets a schema.
var newObject = map[string]func() any{
	"v1/Namespace":                            func() any { return &corev1.Namespace{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"apps/v1/StatefulSet":                     func() any { return &appsv1.StatefulSet{} },
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"batch/v1/Job":                            func() any { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"keda.sh/v1alpha1/ScaledObject":           func() any { return &scaledObject{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &serviceMonitor{} },
}

// base is the decoded k8s/ directory.
type base struct {
	kust    kustomization
	config  arrearsConfig
	objects []any
}

func loadBase(t *testing.T) *base {
	t.Helper()
	b := &base{}
	raw, err := os.ReadFile("k8s/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := sigsyaml.UnmarshalStrict(raw, &b.kust); err != nil {
		t.Fatalf("k8s/kustomization.yaml: %v", err)
	}
	for _, res := range b.kust.Resources {
		b.objects = append(b.objects, decodeManifests(t, filepath.Join("k8s", res))...)
	}
	for _, g := range b.kust.ConfigMapGenerator {
		for _, f := range g.Files {
			text, err := os.ReadFile(filepath.Join("k8s", f))
			if err != nil {
				t.Fatalf("configMapGenerator %s: %v", g.Name, err)
			}
			if f == "arrears.yaml" {
				b.config = decodeArrearsConfig(t, "k8s/"+f, string(text))
			}
		}
	}
	if b.config.Kafka.Brokers == nil {
		t.Fatal("k8s: no configMapGenerator holds arrears.yaml")
	}
	return b
}

// decodeManifests decodes every document of a file strictly into its type.
func decodeManifests(t *testing.T, path string) []any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("kustomization resource: %v", err)
	}
	defer f.Close()
	var out []any
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var tm metav1.TypeMeta
		if err := sigsyaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("%s document %d: %v", path, i, err)
		}
		if tm.Kind == "" && len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		mk, ok := newObject[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			t.Fatalf("%s document %d: no schema for %s %s", path, i, tm.APIVersion, tm.Kind)
		}
		obj := mk()
		if err := sigsyaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%s document %d (%s): %v", path, i, tm.Kind, err)
		}
		if m := objectMeta(obj); m.Name == "" || m.Namespace != "" {
			t.Errorf("%s document %d (%s): want a name and no namespace (kustomize sets it), have %q/%q", path, i, tm.Kind, m.Namespace, m.Name)
		}
		out = append(out, obj)
	}
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.Bytes()
}

func objectMeta(obj any) metav1.ObjectMeta {
	switch o := obj.(type) {
	case *scaledObject:
		return o.Metadata
	case *serviceMonitor:
		return o.Metadata
	case metav1.Object:
		return metav1.ObjectMeta{Name: o.GetName(), Namespace: o.GetNamespace(), Labels: o.GetLabels()}
	}
	panic(fmt.Sprintf("objectMeta: %T", obj))
}

func all[T any](b *base) []T {
	var out []T
	for _, o := range b.objects {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// workload is a Deployment, StatefulSet or Job seen through its pod template.
type workload struct {
	kind, name string
	selector   *metav1.LabelSelector
	pod        corev1.PodTemplateSpec
}

func (b *base) workloads() []workload {
	var out []workload
	for _, d := range all[*appsv1.Deployment](b) {
		out = append(out, workload{"Deployment", d.Name, d.Spec.Selector, d.Spec.Template})
	}
	for _, s := range all[*appsv1.StatefulSet](b) {
		out = append(out, workload{"StatefulSet", s.Name, s.Spec.Selector, s.Spec.Template})
	}
	for _, j := range all[*batchv1.Job](b) {
		out = append(out, workload{"Job", j.Name, j.Spec.Selector, j.Spec.Template})
	}
	return out
}

// selects reports the workloads whose pods a label selector picks.
func (b *base) selects(sel map[string]string) []workload {
	var out []workload
	for _, w := range b.workloads() {
		if len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(w.pod.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

func TestKustomization(t *testing.T) {
	b := loadBase(t)
	if b.kust.APIVersion != "kustomize.config.k8s.io/v1beta1" || b.kust.Kind != "Kustomization" || b.kust.Namespace == "" {
		t.Errorf("kustomization.yaml: header %s %s namespace %q", b.kust.APIVersion, b.kust.Kind, b.kust.Namespace)
	}
	// Every YAML file in k8s/ is used, so none is silently left out.
	used := map[string]bool{"kustomization.yaml": true}
	for _, r := range b.kust.Resources {
		used[r] = true
	}
	for _, g := range b.kust.ConfigMapGenerator {
		for _, f := range g.Files {
			used[f] = true
		}
	}
	files, _ := filepath.Glob("k8s/*.yaml")
	for _, f := range files {
		if !used[filepath.Base(f)] {
			t.Errorf("%s is in no kustomization resource or generator", f)
		}
	}
	if ns := all[*corev1.Namespace](b); len(ns) != 1 || ns[0].Name != b.kust.Namespace {
		t.Errorf("want one Namespace %q", b.kust.Namespace)
	}
	// Containers use the image name the images transformer rewrites.
	var imageNames []string
	for _, im := range b.kust.Images {
		if im.NewName == "" || im.NewTag == "" || im.NewTag == "latest" {
			t.Errorf("kustomization images %s: want newName and a pinned newTag", im.Name)
		}
		imageNames = append(imageNames, im.Name)
	}
	generated := map[string]bool{}
	for _, g := range b.kust.ConfigMapGenerator {
		generated[g.Name] = true
	}
	for _, w := range b.workloads() {
		spec := w.pod.Spec
		for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
			if !slices.Contains(imageNames, c.Image) {
				t.Errorf("%s %s container %s: image %q is not rewritten by kustomization images", w.kind, w.name, c.Name, c.Image)
			}
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef == nil || !generated[ef.ConfigMapRef.Name] {
					t.Errorf("%s %s container %s: envFrom %+v is not a generated ConfigMap", w.kind, w.name, c.Name, ef)
				}
			}
		}
		for _, v := range spec.Volumes {
			if v.ConfigMap != nil && !generated[v.ConfigMap.Name] {
				t.Errorf("%s %s volume %s: ConfigMap %s is not generated", w.kind, w.name, v.Name, v.ConfigMap.Name)
			}
		}
	}
}

func TestWorkloads(t *testing.T) {
	b := loadBase(t)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"StatefulSet/arrears-run": "run", "Deployment/arrears-sink": "sink", "Deployment/arrears-serve": "serve", "Job/arrears-init": "migrate"}
	seen := map[string]bool{}
	for _, w := range b.workloads() {
		key := w.kind + "/" + w.name
		seen[key] = true
		spec := w.pod.Spec
		if w.selector != nil {
			if sel, err := metav1.LabelSelectorAsSelector(w.selector); err != nil || !sel.Matches(labels.Set(w.pod.Labels)) {
				t.Errorf("%s: selector does not match the pod template labels", key)
			}
		}
		if psc := spec.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			t.Errorf("%s: pod securityContext must run as a non-root user", key)
		}
		if len(spec.Containers) == 0 || spec.Containers[0].Args[0] != want[key] {
			t.Errorf("%s: first container runs %v, want arrears %s", key, spec.Containers[0].Args, want[key])
		}
		for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
			where := key + " container " + c.Name
			checkContainer(t, where, c, w.kind != "Job")
			for _, e := range c.Env {
				checkEnvName(t, where, e.Name)
			}
			for _, e := range c.Env {
				if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil {
					if !bytes.Contains(readme, []byte(r.SecretKeyRef.Key)) {
						t.Errorf("%s: secret key %s is not documented in README.md", where, r.SecretKeyRef.Key)
					}
				}
			}
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("%s is missing", key)
		}
	}

	run := findStatefulSet(t, b, "arrears-run")
	if run.Spec.Replicas != nil {
		t.Error("StatefulSet arrears-run: replicas must be unset, the ScaledObject owns them")
	}
	c := run.Spec.Template.Spec.Containers[0]
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "ARREARS_PROCESSOR_TRANSACTIONAL_ID" })
	if i < 0 || c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.FieldRef == nil || c.Env[i].ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Error("StatefulSet arrears-run: ARREARS_PROCESSOR_TRANSACTIONAL_ID must come from the pod name (fieldRef metadata.name)")
	}
	if req := c.Resources.Requests[corev1.ResourceMemory]; req.Cmp(resource.MustParse("300Mi")) < 0 {
		t.Errorf("StatefulSet arrears-run: memory request %s is below the processor's ~300 MB", req.String())
	}
	if run.Spec.ServiceName == "" {
		t.Error("StatefulSet arrears-run: serviceName (headless Service) wanted")
	}

	job := all[*batchv1.Job](b)[0]
	if ic := job.Spec.Template.Spec.InitContainers; len(ic) != 1 || !slices.Equal(ic[0].Args[:2], []string{"topics", "create"}) {
		t.Error("Job arrears-init: an init container running `topics create` wanted before migrate")
	}
	if rp := job.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever {
		t.Errorf("Job arrears-init: restartPolicy %q", rp)
	}
	for _, g := range b.kust.ConfigMapGenerator {
		for _, lit := range g.Literals {
			name, _, _ := strings.Cut(lit, "=")
			checkEnvName(t, "ConfigMap "+g.Name, name)
			if !bytes.Contains(readme, []byte(name)) {
				t.Errorf("ConfigMap %s: %s is not documented in README.md", g.Name, name)
			}
		}
	}
}

// checkContainer: the arrears config mounted, resources bounded, probes on
// the ops port, a restricted securityContext.
func checkContainer(t *testing.T, where string, c corev1.Container, longRunning bool) {
	t.Helper()
	if i := slices.Index(c.Args, "-config"); i < 0 || i+1 >= len(c.Args) || !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
		return strings.HasPrefix(c.Args[i+1], m.MountPath+"/") && m.ReadOnly
	}) {
		t.Errorf("%s: -config must name a file on a read-only mount, args %q", where, c.Args)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okr := c.Resources.Requests[r]
		lim, okl := c.Resources.Limits[r]
		if !okr || !okl || req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s and limit %s wanted, request <= limit", where, r, req.String(), lim.String())
		}
	}
	if i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "GOMEMLIMIT" }); i >= 0 {
		ml, err := resource.ParseQuantity(strings.TrimSuffix(c.Env[i].Value, "B"))
		lim := c.Resources.Limits[corev1.ResourceMemory]
		if err != nil || ml.Cmp(lim) >= 0 {
			t.Errorf("%s: GOMEMLIMIT %q must be below the memory limit %s", where, c.Env[i].Value, lim.String())
		}
	}
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("%s: securityContext must forbid escalation, drop ALL and mount the root read-only", where)
	}
	if !longRunning {
		return
	}
	i := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "http" })
	if i < 0 || fmt.Sprint(c.Ports[i].ContainerPort) != opsPort {
		t.Errorf("%s: container port http=%s wanted", where, opsPort)
	}
	for _, p := range []struct {
		name, path string
		probe      *corev1.Probe
	}{{"liveness", "/healthz", c.LivenessProbe}, {"readiness", "/readyz", c.ReadinessProbe}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s: %s probe GET %s on port http wanted", where, p.name, p.path)
		}
	}
}

func findStatefulSet(t *testing.T, b *base, name string) *appsv1.StatefulSet {
	t.Helper()
	for _, s := range all[*appsv1.StatefulSet](b) {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("StatefulSet %s is missing", name)
	return nil
}

func TestServicesAndBudgets(t *testing.T) {
	b := loadBase(t)
	services := all[*corev1.Service](b)
	for _, s := range services {
		ws := b.selects(s.Spec.Selector)
		if len(ws) == 0 {
			t.Errorf("Service %s selects no pods", s.Name)
		}
		for _, p := range s.Spec.Ports {
			for _, w := range ws {
				if !slices.ContainsFunc(w.pod.Spec.Containers, func(c corev1.Container) bool {
					return slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.TargetPort.String() })
				}) {
					t.Errorf("Service %s port %s: %s %s has no container port %s", s.Name, p.Name, w.kind, w.name, p.TargetPort.String())
				}
			}
		}
	}
	run := findStatefulSet(t, b, "arrears-run")
	if !slices.ContainsFunc(services, func(s *corev1.Service) bool {
		return s.Name == run.Spec.ServiceName && s.Spec.ClusterIP == corev1.ClusterIPNone
	}) {
		t.Errorf("StatefulSet arrears-run: headless Service %s is missing", run.Spec.ServiceName)
	}
	pdbs := all[*policyv1.PodDisruptionBudget](b)
	covered := map[string]bool{}
	for _, p := range pdbs {
		ws := b.selects(p.Spec.Selector.MatchLabels)
		if len(ws) != 1 || (p.Spec.MaxUnavailable == nil) == (p.Spec.MinAvailable == nil) {
			t.Errorf("PodDisruptionBudget %s: want one workload and one of maxUnavailable/minAvailable", p.Name)
		}
		for _, w := range ws {
			covered[w.name] = true
		}
	}
	for _, name := range []string{"arrears-run", "arrears-sink", "arrears-serve"} {
		if !covered[name] {
			t.Errorf("%s has no PodDisruptionBudget", name)
		}
	}

	sms := all[*serviceMonitor](b)
	if len(sms) != 1 {
		t.Fatalf("want one ServiceMonitor, have %d", len(sms))
	}
	sm := sms[0]
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	scraped := map[string]bool{}
	for _, s := range services {
		if !sel.Matches(labels.Set(s.Labels)) {
			continue
		}
		scraped[s.Name] = true
		for _, ep := range sm.Spec.Endpoints {
			if !slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
				t.Errorf("ServiceMonitor port %s: Service %s has no such port", ep.Port, s.Name)
			}
		}
	}
	for _, name := range []string{"arrears-run", "arrears-sink", "arrears-serve"} {
		if !scraped[name] {
			t.Errorf("ServiceMonitor does not scrape Service %s", name)
		}
	}
	if len(sm.Spec.Endpoints) == 0 || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Error("ServiceMonitor: an endpoint with path /metrics wanted")
	}
}

func TestScaledObject(t *testing.T) {
	b := loadBase(t)
	sos := all[*scaledObject](b)
	if len(sos) != 1 {
		t.Fatalf("want one ScaledObject, have %d", len(sos))
	}
	so := sos[0].Spec
	ref := so.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "StatefulSet" {
		t.Errorf("ScaledObject target %s %s: want the apps/v1 StatefulSet", ref.APIVersion, ref.Kind)
	}
	findStatefulSet(t, b, ref.Name)
	cfg := b.config
	if so.MaxReplicaCount == nil || int(*so.MaxReplicaCount) != cfg.Kafka.Partitions {
		t.Errorf("ScaledObject maxReplicaCount %v: want the partition count %d", so.MaxReplicaCount, cfg.Kafka.Partitions)
	}
	if so.MinReplicaCount == nil || *so.MinReplicaCount < 1 || *so.MinReplicaCount > *so.MaxReplicaCount {
		t.Errorf("ScaledObject minReplicaCount %v: want 1..max", so.MinReplicaCount)
	}
	if len(so.Triggers) != 1 || so.Triggers[0].Type != "kafka" {
		t.Fatalf("ScaledObject: want one kafka trigger, have %+v", so.Triggers)
	}
	md := so.Triggers[0].Metadata
	want := map[string]string{
		"consumerGroup":    cfg.Processor.GroupID,
		"topic":            cfg.Kafka.Topics.Events,
		"bootstrapServers": strings.Join(cfg.Kafka.Brokers, ","),
	}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("ScaledObject kafka trigger %s=%q, want %q (from arrears.yaml)", k, md[k], v)
		}
	}
	if md["lagThreshold"] == "" {
		t.Error("ScaledObject kafka trigger: lagThreshold wanted")
	}
	// The behavior block is the HPA's own type, decoded strictly above.
	if a := so.Advanced; a == nil || a.HorizontalPodAutoscalerConfig == nil || a.HorizontalPodAutoscalerConfig.Behavior == nil ||
		a.HorizontalPodAutoscalerConfig.Behavior.ScaleDown == nil {
		t.Error("ScaledObject: a scaleDown behavior wanted (every step is a rebalance)")
	}
}

// dockerfile is a Dockerfile reduced to its instructions, continuation lines
// joined and comments dropped.
func dockerfile(t *testing.T) [][2]string {
	t.Helper()
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	var cur string
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur == "") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cur += trimmed
		instr, args, _ := strings.Cut(cur, " ")
		out = append(out, [2]string{strings.ToUpper(instr), strings.TrimSpace(args)})
		cur = ""
	}
	return out
}

func TestDockerfile(t *testing.T) {
	args := map[string]string{}
	type stage struct{ image, name, user string }
	var stages []stage
	var entrypoint string
	expand := func(s string) string { return os.Expand(s, func(k string) string { return args[k] }) }
	for _, in := range dockerfile(t) {
		switch in[0] {
		case "ARG":
			if k, v, ok := strings.Cut(in[1], "="); ok && len(stages) == 0 {
				args[k] = v
			}
		case "FROM":
			f := strings.Fields(in[1])
			st := stage{image: expand(f[0])}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			if !strings.Contains(st.image, ":") || strings.HasSuffix(st.image, ":latest") {
				t.Errorf("FROM %s: pin a tag", st.image)
			}
			stages = append(stages, st)
			entrypoint = ""
		case "USER":
			stages[len(stages)-1].user = in[1]
		case "ENTRYPOINT":
			entrypoint = in[1]
		case "COPY":
			for _, f := range strings.Fields(in[1]) {
				if from, ok := strings.CutPrefix(f, "--from="); ok && !slices.ContainsFunc(stages[:len(stages)-1], func(s stage) bool { return s.name == from }) {
					t.Errorf("COPY --from=%s: no earlier stage of that name", from)
				}
			}
		}
	}
	if len(stages) < 2 || !strings.HasPrefix(stages[0].image, "golang:") {
		t.Fatalf("want a multi-stage build from a golang builder, have %+v", stages)
	}
	final := stages[len(stages)-1]
	if user, _, _ := strings.Cut(final.user, ":"); user == "" || user == "root" || user == "0" {
		t.Errorf("final stage %s: USER %q must be a non-root user", final.image, final.user)
	}
	var ep []string
	if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil || !slices.Equal(ep, []string{"arrears"}) {
		t.Errorf("final stage: ENTRYPOINT %s, want [\"arrears\"] in exec form", entrypoint)
	}
}
