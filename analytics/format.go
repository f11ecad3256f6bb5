package analytics

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Formats lists the output formats of Write.
var Formats = []string{"table", "csv", "json"}

// Write renders t as "table" (aligned text), "csv" (header row, RFC 4180)
// or "json" ({"report", "columns", "rows": [{column: value}]}).
func (t *Table) Write(w io.Writer, format string) error {
	switch format {
	case "table":
		return t.writeText(w)
	case "csv":
		return t.writeCSV(w)
	case "json":
		return t.writeJSON(w)
	}
	return fmt.Errorf("format %q: want %s", format, strings.Join(Formats, ", "))
}

// text renders one cell for table and csv output; nil is empty.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func (t *Table) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Columns, "\t"))
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			if cells[i] = text(v); cells[i] == "" {
				cells[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", t.Name, err)
	}
	return nil
}

func (t *Table) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(t.Columns)
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = text(v)
		}
		_ = cw.Write(cells)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write %s: %w", t.Name, err)
	}
	return nil
}

// orderedRow marshals as a JSON object with keys in column order.
type orderedRow struct {
	cols []string
	vals []any
}

func (r orderedRow) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range r.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		v, err := json.Marshal(r.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func (t *Table) writeJSON(w io.Writer) error {
	rows := make([]orderedRow, len(t.Rows))
	for i, r := range t.Rows {
		rows[i] = orderedRow{t.Columns, r}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Report  string       `json:"report"`
		Columns []string     `json:"columns"`
		Rows    []orderedRow `json:"rows"`
	}{t.Name, t.Columns, rows}); err != nil {
		return fmt.Errorf("write %s: %w", t.Name, err)
	}
	return nil
}
