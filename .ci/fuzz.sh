#!/usr/bin/env bash
# Runs every Go fuzz target of the module, one after the other, for
# $FUZZTIME each (default 30s; `make fuzz-long` gives 10m). Targets are
# found with `go test -list '^Fuzz' ./...`, so a new Fuzz function in any
# package is picked up without editing this script. $FUZZ_MATCH (a grep -E
# regex on "<package> <target>") narrows the set.
#
# A crash or hang fails the run (after the other targets have had their
# turn); go test has then written the input to
# <package dir>/testdata/fuzz/<Target>/: commit it as a regression input,
# it runs as a seed in every plain `go test` from then on.
# Ends with one line per target: package, target, result, executions.
set -uo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS=${GOFLAGS:--mod=mod}
FUZZTIME=${FUZZTIME:-30s}
FUZZ_MATCH=${FUZZ_MATCH:-.}

# `go test -list` prints a package's matching names, then its "ok <pkg>" line.
# A package that does not build fails the run, after the others have fuzzed.
failed=0
list=$(go test -list '^Fuzz' ./... 2>&1) || {
	grep -vE '^(ok|\?|Fuzz)' <<<"$list"
	echo "fuzz: some packages do not build; fuzzing the others"
	failed=1
}
targets=()
names=()
while IFS= read -r line; do
	case "$line" in
	Fuzz*) names+=("$line") ;;
	ok*)
		pkg=$(awk '{print $2}' <<<"$line")
		for n in "${names[@]}"; do targets+=("$pkg $n"); done
		names=()
		;;
	esac
done <<<"$list"
mapfile -t targets < <(printf '%s\n' "${targets[@]}" | grep -E -- "$FUZZ_MATCH")
if [ "${#targets[@]}" -eq 0 ]; then
	echo "fuzz: no targets match $FUZZ_MATCH"
	exit 1
fi
echo "fuzz: ${#targets[@]} targets, $FUZZTIME each"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
summary=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "fuzz: $pkg $name"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | awk '{print $2}')
	if [ "$rc" -eq 0 ]; then
		summary+=("$pkg $name ok execs=${execs:-?}")
	else
		failed=1
		summary+=("$pkg $name FAIL execs=${execs:-?} (crasher under $(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$name/)")
	fi
done
printf 'fuzz: %s\n' "${summary[@]}"
exit "$failed"
