package deploy

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

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
