// Package chdbtest is a test helper: it runs the same SQL on the local
// ClickHouse 18.16 (HTTP interface) and on chDB, current ClickHouse embedded
// in Python (installed from PyPI, pinned, by deploy/local/chdb.sh), over the
// same data, and compares the results. It does IO: HTTP to ClickHouse, and a
// python3 child process (run.py, embedded) for chDB. Only tests import it.
package chdbtest
