package api

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// FieldError names one bad field of a request: a JSON path into the body
// ("installments[1].amount"), a query parameter ("?wait") or a header
// ("Idempotency-Key").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem details document, with the field errors
// of a 400 in errors.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
}

// problemType is the type URI of each status: a relative reference into
// docs/api.md's errors section (RFC 9457 allows "about:blank" or any URI;
// a stable name lets clients switch on it).
func problemType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "/api/v1/problems/invalid-request"
	case http.StatusUnauthorized:
		return "/api/v1/problems/unauthorized"
	case http.StatusForbidden:
		return "/api/v1/problems/forbidden"
	case http.StatusNotFound:
		return "/api/v1/problems/not-found"
	case http.StatusConflict:
		return "/api/v1/problems/conflict"
	case http.StatusRequestEntityTooLarge:
		return "/api/v1/problems/too-large"
	case http.StatusUnprocessableEntity:
		return "/api/v1/problems/idempotency-key-reused"
	case http.StatusTooManyRequests:
		return "/api/v1/problems/rate-limited"
	}
	return "about:blank"
}

// writeProblem answers with application/problem+json. detail must not hold
// personal data or echo long input (it is logged and audited).
func writeProblem(w http.ResponseWriter, r *http.Request, status int, title, detail string, fields ...FieldError) {
	p := Problem{Type: problemType(status), Title: title, Status: status, Detail: detail, Errors: fields}
	if r != nil {
		p.Instance = r.URL.Path
		if id := requestID(r.Context()); id != "" {
			p.Instance += "#" + id
		}
	}
	if a := auditOf(r); a != nil {
		a.detail = title
	}
	b, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeJSON answers with application/json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, nil, http.StatusInternalServerError, "Internal error", "the response could not be encoded")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
