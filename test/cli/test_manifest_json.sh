#!/bin/bash
# test_manifest_json.sh: a cluster written as YAML and as JSON (`kubectl get -o json`
# style, read by yajl instead of libyaml) renders to the same rules and sets: the bench's
# generated cluster in both of gen_cluster.py's formats, and every example manifest turned
# into JSON by PyYAML, an independent reader. Prints "N passed, M failed".
set -u

SRC=${NPD_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
NPC=${NPD_BUILD_DIR:-$SRC/build}/netpolctl
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
[ -x "$NPC" ] || { echo "no netpolctl at $NPC"; exit 77; }
python3 -c 'import yaml' 2>/dev/null || { echo "no PyYAML (python3-yaml)"; exit 77; }
# shellcheck source=test/cli/checks.sh
. "$SRC/test/cli/checks.sh"

# same_render DESC YAML_PATH JSON_PATH NODE: both render, without diagnostics, alike.
same_render() {
	"$NPC" render -f "$2" --node "$4" >"$TMP/y.out" 2>"$TMP/y.err"
	local yrc=$?
	"$NPC" render -f "$3" --node "$4" >"$TMP/j.out" 2>"$TMP/j.err"
	local jrc=$?
	check "$1: both render" test "$yrc/$jrc" = 0/0
	check "$1: same rules and sets" cmp -s "$TMP/y.out" "$TMP/j.out"
	check "$1: same diagnostics" cmp -s "$TMP/y.err" "$TMP/j.err"
	check "$1: rules rendered" grep -q -- '-A NPD-' "$TMP/y.out"
}

gen() {
	python3 "$SRC/test/bench/gen_cluster.py" "$@" --pods 600 --namespaces 40 \
		--policies 80 --local 30
}
gen "$TMP/gy" && gen "$TMP/gj" --format json
check "gen_cluster json writes .json files only" test "$(ls "$TMP/gj" | grep -vc '\.json$')" = 0
check "the json files start with a brace" test "$(head -c1 "$TMP/gj/ns-000.json")" = "{"
same_render "gen_cluster" "$TMP/gy" "$TMP/gj" bench-node

for f in "$SRC"/manifests/examples/*.yaml; do
	b=$(basename "$f" .yaml)
	python3 - "$f" "$TMP/$b.json" <<'PY'
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
with open(sys.argv[2], "w") as out:
    json.dump({"apiVersion": "v1", "kind": "List", "items": docs}, out, indent=4)
PY
	for node in node1 node-a worker-1; do
		same_render "$b on $node" "$f" "$TMP/$b.json" "$node"
	done
done
checks_summary
