#!/usr/bin/env bash
# Runs every Go fuzz target of the module, $FUZZJOBS at a time, for
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

# Targets run $FUZZJOBS at a time (default: the number of cores), each with
# one fuzzing worker (-parallel 1), so every target still gets its full
# $FUZZTIME of one core and the whole run takes about 1/$FUZZJOBS as long.
FUZZJOBS=${FUZZJOBS:-$(nproc)}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Go before 1.27 can fail a target with a bare "context deadline exceeded"
# when -fuzztime ends while a worker is mid-input (golang/go#75804, fixed
# in Go 1.27): nothing is written and nothing reproduces. Such a run, and
# only such a run (no "Failing input written", no panic), is run once more;
# a second failure fails the target like any other.
deadline_flake() { # log
	grep -q 'context deadline exceeded' "$1" && ! grep -qE 'Failing input written|panic:' "$1"
}
fuzz_one() { # index pkg name
	go test -run '^$' -fuzz "^${3}\$" -fuzztime "$FUZZTIME" -parallel 1 "$2" >"$dir/$1.log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && deadline_flake "$dir/$1.log"; then
		mv "$dir/$1.log" "$dir/$1.flake.log"
		echo "fuzz: $2 $3: bare 'context deadline exceeded' at the -fuzztime end, no input written (golang/go#75804); once more" >"$dir/$1.log"
		go test -run '^$' -fuzz "^${3}\$" -fuzztime "$FUZZTIME" -parallel 1 "$2" >>"$dir/$1.log" 2>&1
		rc=$?
	fi
	echo $rc >"$dir/$1.rc"
}
for i in "${!targets[@]}"; do
	read -r pkg name <<<"${targets[$i]}"
	while [ "$(jobs -rp | wc -l)" -ge "$FUZZJOBS" ]; do wait -n; done
	echo "fuzz: $pkg $name"
	fuzz_one "$i" "$pkg" "$name" &
done
wait
summary=()
for i in "${!targets[@]}"; do
	read -r pkg name <<<"${targets[$i]}"
	cat "$dir/$i.log"
	rc=$(cat "$dir/$i.rc" 2>/dev/null || echo 1)
	execs=$(grep -oE 'execs: [0-9]+' "$dir/$i.log" | tail -1 | awk '{print $2}')
	if [ "$rc" -eq 0 ]; then
		summary+=("$pkg $name ok execs=${execs:-?}")
	else
		failed=1
		summary+=("$pkg $name FAIL execs=${execs:-?} (crasher under $(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$name/)")
	fi
done
printf 'fuzz: %s\n' "${summary[@]}"
exit "$failed"
