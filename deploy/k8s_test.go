package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor"
)

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
			Type              string            `json:"type"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
			} `json:"authenticationRef"`
		} `json:"triggers"`
	} `json:"spec"`
}

type serviceMonitor struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Selector  metav1.LabelSelector     `json:"selector"`
		Endpoints []serviceMonitorEndpoint `json:"endpoints"`
	} `json:"spec"`
}

// serviceMonitorEndpoint is one scrape endpoint of a ServiceMonitor.
type serviceMonitorEndpoint struct {
	Port          string `json:"port"`
	Path          string `json:"path"`
	Interval      string `json:"interval"`
	ScrapeTimeout string `json:"scrapeTimeout"`
	Scheme        string `json:"scheme"`
	TLSConfig     *struct {
		ServerName string `json:"serverName"`
		CA         struct {
			Secret corev1.SecretKeySelector `json:"secret"`
		} `json:"ca"`
	} `json:"tlsConfig"`
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
	"keda.sh/v1alpha1/TriggerAuthentication":  func() any { return &triggerAuthentication{} },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return &networkingv1.NetworkPolicy{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &serviceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &prometheusRule{} },
}

// base is the decoded k8s/ directory.
type base struct {
	kust    kustomization
	config  config.Config
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
	case *prometheusRule:
		return o.Metadata
	case *triggerAuthentication:
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
	checkMemoryLimit(t, b.config.Processor.MemoryLimit, c)
	if run.Spec.ServiceName == "" {
		t.Error("StatefulSet arrears-run: serviceName (headless Service) wanted")
	}

	job := all[*batchv1.Job](b)[0]
	if ic := job.Spec.Template.Spec.InitContainers; len(ic) != 2 || !slices.Equal(ic[0].Args[:2], []string{"topics", "create"}) ||
		!slices.Equal(ic[1].Args[:3], []string{"topics", "acls", "-apply"}) {
		t.Error("Job arrears-init: init containers running `topics create` then `topics acls -apply` wanted before migrate")
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

// checkMemoryLimit: the processor's Go soft memory limit is set, from
// processor.memory_limit or GOMEMLIMIT, below its container's memory limit.
func checkMemoryLimit(t *testing.T, memoryLimit string, c corev1.Container) {
	t.Helper()
	ml, err := processor.ParseMemoryLimit(memoryLimit)
	if err != nil {
		t.Errorf("arrears.yaml: processor.memory_limit: %v", err)
	}
	lim := c.Resources.Limits[corev1.ResourceMemory]
	switch {
	case ml > 0 && ml >= lim.Value():
		t.Errorf("StatefulSet arrears-run: processor.memory_limit %s must be below the memory limit %s", memoryLimit, lim.String())
	case ml == 0 && !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "GOMEMLIMIT" }):
		t.Error("StatefulSet arrears-run: neither processor.memory_limit nor GOMEMLIMIT sets a soft memory limit")
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
		// each Service is scraped through the endpoint naming one of its
		// ports (http for run and sink, https for serve)
		if slices.ContainsFunc(sm.Spec.Endpoints, func(ep serviceMonitorEndpoint) bool {
			return slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port })
		}) {
			scraped[s.Name] = true
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
