"""Runs SQL on chDB (current ClickHouse, embedded) for analytics/chdbtest.

Reads one JSON object from stdin: {"setup": [sql, ...], "queries": [sql, ...]}.
Runs the setup statements in order in a fresh session (any failure exits 2
with the statement and error on stderr), then each query with
TabSeparatedWithNames output. Prints one JSON object on stdout:
{"version": "<ClickHouse version>", "results": [{"out": tsv} | {"error": msg}]}.
"""
import json
import sys
import tempfile

import chdb
from chdb import session

# 18.16 prints decimals with every scale digit (0.0150); current releases drop
# trailing zeros unless told otherwise. Only the printing changes.
SETTINGS = ["SET output_format_decimal_trailing_zeros = 1"]


def main():
    req = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as d:
        s = session.Session(d)
        for sql in SETTINGS + req["setup"]:
            try:
                s.query(sql)
            except Exception as e:  # chdb raises ChdbError; report any
                print("setup failed: %s\n%s" % (e, sql[:2000]), file=sys.stderr)
                sys.exit(2)
        results = []
        for sql in req["queries"]:
            try:
                results.append({"out": str(s.query(sql, "TabSeparatedWithNames"))})
            except Exception as e:
                results.append({"error": str(e)})
        version = str(s.query("SELECT version()", "TSV")).strip()
        s.close()
    json.dump({"chdb": chdb.__version__, "version": version, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
