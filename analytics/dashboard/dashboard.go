package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/arrears/arrears/analytics"
)

//go:embed static
var static embed.FS

// Source runs named reports (analytics.Report over ClickHouse).
type Source interface {
	Report(ctx context.Context, name string, o analytics.ReportOptions) (*analytics.Table, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, name string, o analytics.ReportOptions) (*analytics.Table, error)

// Report implements Source.
func (f SourceFunc) Report(ctx context.Context, name string, o analytics.ReportOptions) (*analytics.Table, error) {
	return f(ctx, name, o)
}

// Options tune the dashboard.
type Options struct {
	// AsOf is the default reporting date when the page does not pass one
	// (zero: today, UTC). A simulation sets it to the simulated "now".
	AsOf func(ctx context.Context) time.Time
	// Refresh is how often the page reloads its data (default 5s).
	Refresh time.Duration
}

// Handler serves the page at /, the collector workspace at /workspace/,
// assets at /static/ and the report API at /api/.
func Handler(src Source, o Options) http.Handler {
	if o.Refresh <= 0 {
		o.Refresh = 5 * time.Second
	}
	sub, _ := fs.Sub(static, "static")
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServer(http.FS(sub))))
	mux.HandleFunc("/api/config", func(w http.ResponseWriter, r *http.Request) {
		asOf := time.Now().UTC()
		if o.AsOf != nil {
			if t := o.AsOf(r.Context()); !t.IsZero() {
				asOf = t
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"as_of": asOf.Format("2006-01-02"), "refresh_ms": o.Refresh.Milliseconds()})
	})
	mux.HandleFunc("/api/report/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/api/report/")
		q := r.URL.Query()
		opts := analytics.ReportOptions{Segment: q.Get("segment")}
		var err error
		if opts.AsOf, err = time.Parse("2006-01-02", q.Get("as_of")); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "as_of: want YYYY-MM-DD"})
			return
		}
		if d := q.Get("days"); d != "" {
			if opts.Days, err = strconv.Atoi(d); err != nil || opts.Days < 1 || opts.Days > 3660 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "days: want 1..3660"})
				return
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		t, err := src.Report(ctx, name, opts)
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, table{Name: t.Name, Columns: t.Columns, Rows: t.Rows})
	})
	// The collector workspace (static/workspace.*): a page over /api/v1,
	// which `arrears serve` mounts beside this handler.
	mux.HandleFunc("/workspace/", page("/workspace/", "static/workspace.html"))
	mux.HandleFunc("/", page("/", "static/index.html"))
	return mux
}

// page serves an embedded HTML file at exactly path.
func page(path, file string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		b, _ := static.ReadFile(file)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(b)
	}
}

type table struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
