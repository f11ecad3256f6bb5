package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
)

// readmeBlock returns the shell code of the ```sh block between
// <!-- readme-scenario:NAME --> and <!-- /readme-scenario:NAME --> in
// README.md, and the text that follows the end marker.
func readmeBlock(t *testing.T, readme, name string) (code, after string) {
	t.Helper()
	begin, end := "<!-- readme-scenario:"+name+" -->", "<!-- /readme-scenario:"+name+" -->"
	_, rest, ok := strings.Cut(readme, begin)
	block, after, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("README.md: no %s ... %s", begin, end)
	}
	_, code, ok = strings.Cut(block, "```sh\n")
	code, _, ok2 = strings.Cut(code, "```")
	if !ok || !ok2 {
		t.Fatalf("README.md: scenario %s holds no ```sh block", name)
	}
	return code, after
}

// rewrite applies each old -> new replacement to the README's commands,
// failing when one no longer occurs (the README changed shape).
func rewrite(t *testing.T, code string, pairs ...string) string {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(code, pairs[i]) {
			t.Fatalf("README scenario: %q not found in\n%s", pairs[i], code)
		}
		code = strings.ReplaceAll(code, pairs[i], pairs[i+1])
	}
	return code
}

// TestREADMEScenario runs the README's kcat walk-through ("A reminder from
// kcat") as written, on the real stack, against an `arrears run` of its
// own: only the topics (a unique prefix), the consumer group and the path of
// the binary are replaced. The reminder must appear on the actions topic and
// in `arrears explain`, with every line of the output the README shows; and
// the same invoice and tick without the AccountUpserted leave an account
// with no policy and no action, as the README says.
func TestREADMEScenario(t *testing.T) {
	testkit.Integration(t, "kafka", "redis")
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatalf("kcat is required (make up installs Debian's kcat): %v", err)
	}
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	produce, _ := readmeBlock(t, readme, "produce")
	see, shown := readmeBlock(t, readme, "see")
	_, shown, _ = strings.Cut(shown, "```\n")
	shown, _, _ = strings.Cut(shown, "```")

	bin := testkit.ArrearsBinary(t)
	_, prefix := testkit.Redis(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ops := ln.Addr().String()
	ln.Close()
	defaults := kafkax.Defaults().Topics
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"ARREARS_KAFKA_BROKERS=" + testkit.KafkaAddr, "ARREARS_REDIS_ADDRS=" + testkit.RedisAddr,
		"ARREARS_REDIS_PREFIX=" + prefix, "ARREARS_PROCESSOR_GROUP_ID=" + prefix,
		"ARREARS_PROCESSOR_TRANSACTIONAL_ID=" + prefix + "-1", "ARREARS_HTTP_LISTEN=" + ops, "ARREARS_LOG_LEVEL=warn"}
	for name, topic := range map[string]string{"EVENTS": defaults.Events, "ACTIONS": defaults.Actions, "RISK": defaults.Risk,
		"STATUS": defaults.Status, "GL": defaults.GL, "DLQ": defaults.DLQ, "ACCEPTED": defaults.Accepted} {
		env = append(env, "ARREARS_KAFKA_TOPICS_"+name+"="+prefix+"-"+topic)
	}
	shell := func(script string) (string, error) {
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir, cmd.Env = root, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := shell(bin + " topics create -partitions 3"); err != nil {
		t.Fatalf("topics create: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = shell(bin + " topics delete -yes") })

	run := exec.Command(bin, "run")
	run.Dir, run.Env = root, env
	var runLog strings.Builder
	run.Stdout, run.Stderr = &runLog, &runLog
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = run.Process.Signal(syscall.SIGTERM)
		_ = run.Wait()
		if t.Failed() {
			t.Logf("arrears run:\n%s", runLog.String())
		}
	})
	waitReady(t, "http://"+ops+"/readyz", 60*time.Second)

	fix := func(code string) string {
		return rewrite(t, code, "-t ar.", "-t "+prefix+"-ar.", "bin/arrears", bin)
	}
	if out, err := shell(rewrite(t, fix(produce), "--group arrears", "--group "+prefix)); err != nil {
		t.Fatalf("README produce block: %v\n%s", err, out)
	}
	var want []string
	for _, line := range strings.Split(shown, "\n") {
		if line = strings.TrimSpace(line); line != "" && line != "..." {
			want = append(want, line)
		}
	}
	if len(want) < 3 {
		t.Fatalf("README shows %d output lines after the see block, want the reminder and the explanation", len(want))
	}
	// Redis is written right after the commit `arrears wait` saw: the reads
	// are repeated until they show it (or the deadline passes).
	out := eventually(t, 30*time.Second, func() (string, []string) {
		out, err := shell(fix(see))
		if err != nil {
			return fmt.Sprintf("%v\n%s", err, out), want
		}
		return out, missingLines(out, want)
	})
	if n := strings.Count(out, "stage reminder:"); n != 1 {
		t.Errorf("want one reminder on the actions topic, have %d:\n%s", n, out)
	}

	// The README's point 1: without AccountUpserted no policy applies.
	var noAccount []string
	for _, cmd := range shellCommands(produce) {
		if !strings.Contains(cmd, "AccountUpserted") {
			noAccount = append(noAccount, cmd)
		}
	}
	second := rewrite(t, fix(strings.Join(noAccount, "\n")), "ACC-1", "ACC-2", "inv-1", "inv-2", "tick-1", "tick-2",
		"--group arrears", "--group "+prefix)
	if strings.Contains(second, "AccountUpserted") || !strings.Contains(second, "InvoiceIssued") || !strings.Contains(second, "ClockTick") {
		t.Fatalf("dropping the AccountUpserted command left:\n%s", second)
	}
	if out, err := shell(second); err != nil {
		t.Fatalf("produce without AccountUpserted: %v\n%s", err, out)
	}
	explain := rewrite(t, see[strings.Index(see, "bin/arrears explain"):], "bin/arrears", bin, "ACC-1", "ACC-2")
	eventually(t, 30*time.Second, func() (string, []string) {
		out, _ := shell(explain)
		return out, missingLines(out, []string{"account ACC-2 as of 2026-03-19T09:00:00Z", "policy: none applies"})
	})
	if out, err := shell(fix(see)); err != nil || strings.Count(out, "stage reminder:") != 1 {
		t.Errorf("an account without AccountUpserted was dunned (%v):\n%s", err, out)
	}
}

// shellCommands splits a script into its commands, a line ending in a
// backslash continuing onto the next.
func shellCommands(script string) []string {
	var cmds []string
	cur := ""
	for _, line := range strings.Split(script, "\n") {
		cur += line + "\n"
		if !strings.HasSuffix(line, "\\") {
			if strings.TrimSpace(cur) != "" {
				cmds = append(cmds, cur)
			}
			cur = ""
		}
	}
	return cmds
}

// missingLines lists the wanted lines no line of out contains.
func missingLines(out string, want []string) []string {
	var missing []string
	for _, w := range want {
		if !strings.Contains(out, w) {
			missing = append(missing, w)
		}
	}
	return missing
}

// eventually calls f until it reports nothing missing, failing with the last
// output at the deadline.
func eventually(t *testing.T, timeout time.Duration, f func() (string, []string)) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, missing := f()
		if len(missing) == 0 {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the output lacks %q:\n%s", timeout, missing, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitReady polls url until it answers 200.
func waitReady(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("arrears run not ready at %s after %s", url, timeout)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
