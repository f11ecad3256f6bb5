package chsink

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestSecureSinkLands: the sink lands a whole workload in the secured
// ClickHouse over TLS as user sink (readonly=0, allow_ddl=0: it can insert
// and select, not create, drop or alter), the schema migrated by user
// migrate (sink.migrate false); Run ends without error and no line of the sink says a statement
// was not permitted.
func TestSecureSinkLands(t *testing.T) {
	h := newSecureHarness(t)
	w := h.buildWorkload("sec", 150)
	h.produceTx(w.records, false)
	stop := h.start()
	h.waitFor(w.want, 90*time.Second)
	if err := stop(); err != nil {
		t.Fatalf("Run as user sink: %v", err)
	}
	for _, l := range h.logs.lines(t, slog.LevelWarn) {
		if s := fmt.Sprint(l); strings.Contains(s, "not permitted") {
			t.Errorf("sink log: %s", s)
		}
	}
}
