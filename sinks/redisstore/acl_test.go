package redisstore_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/sinks/redisstore"
)

// TestACLCoversScripts: every command the store's Lua scripts call is in the
// secured Redis's ACL for user arrears (deploy/local/redis-secure.sh, the
// rule docs/security.md gives). Redis 7 checks a script's commands against
// the caller's ACL, so a command added to a script without the ACL fails
// only on a secured server; TestSecureRoundTrip runs them there. The rule
// docs/security.md gives is the script's.
func TestACLCoversScripts(t *testing.T) {
	script, err := os.ReadFile("../../deploy/local/redis-secure.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ARREARS_ACL='([^']*)'`).FindSubmatch(script)
	if m == nil {
		t.Fatal("no ARREARS_ACL in redis-secure.sh")
	}
	acl := map[string]bool{}
	for _, r := range strings.Fields(string(m[1])) {
		acl[strings.ToLower(r)] = true
	}
	calls := 0
	for _, f := range []string{"store.go", "tooling.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range regexp.MustCompile(`redis\.call\('([A-Za-z]+)'`).FindAllSubmatch(src, -1) {
			calls++
			if cmd := "+" + strings.ToLower(string(c[1])); !acl[cmd] {
				t.Errorf("%s: a script calls %s, which the ACL lacks (add %s to ARREARS_ACL and docs/security.md)", f, c[1], cmd)
			}
		}
	}
	if calls == 0 {
		t.Fatal("found no redis.call in the store's scripts")
	}
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "resetchannels "+string(m[1])+"\n") {
		t.Errorf("docs/security.md's ACL rule for user arrears differs from redis-secure.sh's ARREARS_ACL %q", m[1])
	}
	for _, want := range []string{"+evalsha", "+eval", "-@all"} {
		if !acl[want] {
			t.Errorf("ACL lacks %s", want)
		}
	}
}

// TestConfigRedacted: fmt and slog of a Config never print the password.
func TestConfigRedacted(t *testing.T) {
	c := redisstore.Defaults()
	c.Username, c.Password = "arrears", "pa55-word"
	testkit.CheckRedacted(t, c, c.Password, c.Username)
}
