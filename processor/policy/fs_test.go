package policy

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadFS(t *testing.T) {
	set, err := LoadFS(os.DirFS("../../deploy/policies"))
	if err != nil {
		t.Fatal(err)
	}
	if set.Get("timelybill") == nil || len(set.Policies()) != 6 { // postpaid, prepaid, corporate, wholesale, wholesale-group, timelybill
		t.Errorf("loaded %d policies", len(set.Policies()))
	}
	if _, err := LoadFS(fstest.MapFS{}); err == nil {
		t.Error("an empty directory loaded")
	}
	bad := fstest.MapFS{"x.yaml": {Data: []byte("name: x\nstages:\n  - name: s\n    days_past_due: 3\n    actions:\n      - {type: teleport}\n")}}
	if _, err := LoadFS(bad); err == nil || !strings.Contains(err.Error(), "x.yaml:") {
		t.Errorf("bad policy error %v does not name the file and line", err)
	}
}
