package api

import "net/http"

func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"items": []any{}})
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, http.StatusNotFound, "Not found", "no such approval")
}

func (s *Server) reject(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, http.StatusNotFound, "Not found", "no such approval")
}
