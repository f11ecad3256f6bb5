package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/testkit"
)

// repoDir is the module root as seen from this package's tests.
const repoDir = "../.."

var (
	schemaDir  = filepath.Join(repoDir, "schemas")
	interopDir = filepath.Join(repoDir, "deploy", "interop")
)

// clients are the independent clients deploy/local/interop.sh installed:
// the venv's python3 (confluent-kafka, fastavro), the node_modules of
// kafkajs and avsc, and the class path of Apache Avro for Java.
type clients struct {
	python, nodePath, javaCP string
}

// install runs deploy/local/interop.sh (a no-op once installed) and returns
// where it put the clients. Under -short the test skips; otherwise a failed
// install or a missing tool fails it.
func install(t testing.TB) clients {
	t.Helper()
	testkit.Integration(t)
	var stderr bytes.Buffer
	cmd := exec.Command("bash", filepath.Join(repoDir, "deploy", "local", "interop.sh"))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the independent clients are required (make interop): %v\n%s", err, stderr.String())
	}
	kv := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			kv[k] = v
		}
	}
	c := clients{python: kv["PYTHON"], nodePath: kv["NODE_PATH"], javaCP: kv["JAVA_CP"]}
	if c.python == "" || c.nodePath == "" || c.javaCP == "" {
		t.Fatalf("interop.sh printed %q: want PYTHON=, NODE_PATH= and JAVA_CP= lines", out)
	}
	for _, tool := range []string{"node", "java"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is required for the interoperability test: %v", tool, err)
		}
	}
	return c
}

// run runs cmd with stdin, bounded by timeout, and returns its stdout and
// stderr; exit is its exit code (0 when it succeeded).
func run(t testing.TB, cmd *exec.Cmd, stdin []byte, timeout time.Duration) (stdout, stderr string, exit int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v did not finish in %s\nstderr:\n%s", cmd.Path, cmd.Args[1:], timeout, errb.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", cmd.Path, err)
	}
	return out.String(), errb.String(), 0
}

// must fails t unless the command exited 0.
func must(t testing.TB, what, stdout, stderr string, exit int) string {
	t.Helper()
	if exit != 0 {
		t.Fatalf("%s exited %d\nstderr:\n%s\nstdout (tail):\n%s", what, exit, stderr, tail(stdout, 20))
	}
	return stdout
}

// py runs one of deploy/interop's Python programs in the clients' venv.
func (c clients) py(t testing.TB, stdin []byte, script string, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(c.python, append([]string{filepath.Join(interopDir, script)}, args...)...)
	out, errs, exit := run(t, cmd, stdin, 3*time.Minute)
	return must(t, script, out, errs, exit), errs
}

// consume runs the kafkajs consumer over topics (topic -> .avsc file name)
// until it read n records; it returns its JSON lines and its exit code.
func (c clients) consume(t testing.TB, brokers string, n int, topics map[string]string) ([]map[string]any, string, int) {
	t.Helper()
	args := []string{filepath.Join(interopDir, "js", "consumer.js"), schemaDir, brokers, fmt.Sprint(n), "120000"}
	for topic, file := range topics {
		args = append(args, topic+"="+file)
	}
	cmd := exec.Command("node", args...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+c.nodePath)
	out, errs, exit := run(t, cmd, nil, 3*time.Minute)
	return jsonLines(t, "consumer.js", out), errs, exit
}

// java runs Decode.java (Apache Avro's BinaryMessageDecoder) over files.
func (c clients) java(t testing.TB, schema string, files ...string) (stdout, stderr string) {
	t.Helper()
	args := append([]string{"-cp", c.javaCP, filepath.Join(interopDir, "java", "Decode.java"), filepath.Join(schemaDir, schema)}, files...)
	out, errs, exit := run(t, exec.Command("java", args...), nil, 3*time.Minute)
	return must(t, "Decode.java", out, errs, exit), errs
}

// jsonLines parses one JSON object per line, numbers as json.Number.
func jsonLines(t testing.TB, what, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		d := json.NewDecoder(strings.NewReader(sc.Text()))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%s printed a line that is not a JSON object: %q: %v", what, sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

// str reads a string field of a decoded record ("" if absent or not a
// string); a json.Number reads as its text.
func str(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
