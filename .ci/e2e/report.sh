#!/usr/bin/env bash
# `pe-analytics report` against a real PuppetDB 7.12 fed by real agent runs (puppetserver 7.9,
# puppet agent 7.23), each agent reporting its own OS and Puppet version. Checks: the counts by
# OS and agent version equal what the agents reported (and what PuppetDB holds, counted here
# independently), the JSON schema, PuppetDB's access log shows exactly the report's queries,
# deactivated nodes are not counted, no secret is printed, and the error path when PuppetDB
# is gone. Built on the e2e library (.ci/e2e/lib.sh: its PuppetDB and its per-node fact
# overrides). Run as root: bash .ci/e2e/report.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
T0=$(e2e_ts)
export E2E_WITH_PUPPETDB=1
e2e_init
cd "$E2E_REPO"
ROOT=$E2E_ROOT
fail() { e2e_die "report: $*"; }
e2e_check_ports "$PUPPET_PORT" "$SIM_PORT" "$SIM_ORCH_PORT" "$PDB_PORT" "$PDB_HTTP_PORT" "$PG_PORT"
e2e_install
[ "${E2E_NO_BUILD:-0}" = 1 ] || cargo build --locked --bins --quiet
BIN=$E2E_BIN/pe-analytics
e2e_layout
e2e_ca

# The agents: certname, OS name, release, puppetversion, aio_agent_version ("-": none, as
# Debian's puppet-agent, which is not the All-in-One package).
AGENTS=(
  "primary.test Debian 12.5 7.23.0 -"
  "web1.test RedHat 9.3 8.4.0 8.4.0"
  "web2.test RedHat 9.3 7.28.0 7.28.0"
  "db1.test Ubuntu 22.04 7.28.0 7.28.0"
  "win1.test windows 2019 7.27.0 7.27.0"
)
for a in "${AGENTS[@]}"; do
  read -r n os rel pv aio <<<"$a"
  facts=("os={\"name\":\"$os\",\"family\":\"$os\",\"release\":{\"full\":\"$rel\",\"major\":\"${rel%%.*}\"}}"
    "puppetversion=$pv")
  [ "$aio" = - ] || facts+=("aio_agent_version=$aio")
  e2e_add_node "$n" "${facts[@]}"
done
e2e_setup_puppetdb
e2e_start_sim
e2e_start_server
e2e_wait_puppetdb
PDB_READY_SECS=$(e2e_since "$PUPPETDB_T0")
for a in "${AGENTS[@]}"; do
  read -r n _ <<<"$a"
  rc=0; e2e_run_agent "$n" || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 2 ] || fail "agent run on $n failed (rc $rc, $E2E_LAST_AGENT_LOG)"
done
pdb_query() { curl -sf -G "http://127.0.0.1:$PDB_HTTP_PORT/pdb/query/v4/$1" --data-urlencode "query=$2"; }
wait_nodes() {  # wait_nodes N: until PuppetDB counts N active nodes (commands are asynchronous)
  local got=
  for _ in $(seq 1 120); do
    got=$(pdb_query nodes '["extract",[["function","count"]]]' \
      | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["count"])' 2>/dev/null || true)
    [ "$got" = "$1" ] && return 0
    sleep 1
  done
  fail "PuppetDB has ${got:-?} active nodes, not $1"
}
wait_nodes ${#AGENTS[@]}
PDB_URL=https://localhost:$PDB_PORT
CA=$ROOT/ssl/certs/ca.pem
# pe-analytics uses the server's own certificate, as on a PE primary (PuppetDB accepts any
# certificate signed by its CA).
CERT=$ROOT/ssl/certs/$SERVER_CERTNAME.pem
KEY=$ROOT/ssl/private_keys/$SERVER_CERTNAME.pem
ACCESS_LOG=$ROOT/log/puppetdb-access.log
[ -f "$ACCESS_LOG" ] || fail "no PuppetDB access log at $ACCESS_LOG"

run_report() {  # run_report OUT_PREFIX ARGS...: stdout, stderr and exit code to files
  local p=$1; shift
  set +e
  "$BIN" report --puppetdb-url "$PDB_URL" --cacert "$CA" --certname primary.test \
    --license-file "$ROOT/license.key" --pe-version-file "$ROOT/pe_version" "$@" \
    > "$p.out" 2> "$p.err"
  echo $? > "$p.rc"
  set -e
}
cat > "$ROOT/license.key" <<'LIC'
#######################
#  Begin License File #
#######################
# PUPPET ENTERPRISE LICENSE - Puppet Labs
uuid: f13f0fe69ad3bf67e842c8473afaf12913e14516
to: "Puppet Labs"
nodes: 5000
end: 2030-08-04
#####################
#  End License File #
#####################
LIC
echo 2021.7.1 > "$ROOT/pe_version"
SECRET=rpt-secret-token-$RANDOM$RANDOM
echo "$SECRET" > "$ROOT/token"

# 1. JSON, certificate auth plus a token (PuppetDB goes by the certificate).
T=$(e2e_ts)
run_report "$ROOT/r1" --cert "$CERT" --key "$KEY" --token-file "$ROOT/token" --format json
e2e_log "report (json) took $(e2e_since "$T")s, exit $(cat "$ROOT/r1.rc")"
[ "$(cat "$ROOT/r1.rc")" = 0 ] || { cat "$ROOT/r1.out" "$ROOT/r1.err"; fail "exit $(cat "$ROOT/r1.rc")"; }
pdb_query inventory '["extract",["certname","facts.os","facts.puppetversion","facts.aio_agent_version"]]' > "$ROOT/raw.json"
/usr/bin/python3 - "$ROOT/r1.out" "$ROOT/raw.json" "${AGENTS[@]}" <<'PY'
import json, sys
from collections import Counter
rep = json.load(open(sys.argv[1])); raw = json.load(open(sys.argv[2])); agents = [a.split() for a in sys.argv[3:]]
def fail(m): sys.exit("FAIL: " + m)
assert list(rep) == ["schema", "command", "sections", "opt_out", "puppetdb", "outcome", "exit_code"], list(rep)
assert rep["schema"] == 1 and rep["command"] == "report" and rep["outcome"] == "done" and rep["exit_code"] == 0
assert [s["section"] for s in rep["sections"]] == ["server", "console", "not-collected"]
items = {i["id"]: i for s in rep["sections"] for i in s["items"]}
for i in items.values():
    assert set(i) >= {"id", "item", "sent_by_pe", "status", "value", "source"}, i
ids = [i["id"] for i in rep["sections"][0]["items"]]
assert ids == ["license_uuid", "licensed_nodes", "product_name", "pe_version", "primary_os", "primary_public_ip",
               "nodes_in_deployment", "agent_os", "agent_versions", "aio_agent_versions"], ids
assert items["license_uuid"]["value"] == "f13f0fe69ad3bf67e842c8473afaf12913e14516"
assert items["licensed_nodes"]["value"] == 5000 and items["pe_version"]["value"] == "2021.7.1"
assert items["primary_os"]["value"] == "Debian 12.5", items["primary_os"]
# What the agents reported ...
want_os = Counter(f"{a[1]} {a[2]}" for a in agents)
want_pv = Counter(a[3] for a in agents)
want_aio = Counter(a[4] for a in agents if a[4] != "-")
# ... equals what PuppetDB holds, counted here from every node's facts ...
raw_os = Counter(f'{r["facts.os"]["name"]} {r["facts.os"]["release"]["full"]}' for r in raw)
raw_pv = Counter(r["facts.puppetversion"] for r in raw)
raw_aio = Counter(r["facts.aio_agent_version"] for r in raw if r["facts.aio_agent_version"])
if (raw_os, raw_pv, raw_aio) != (want_os, want_pv, want_aio):
    fail(f"PuppetDB holds {raw_os} {raw_pv} {raw_aio}, agents reported {want_os} {want_pv} {want_aio}")
# ... and equals the report.
got_os = Counter({f'{r["name"]} {r["release"]}': r["count"] for r in items["agent_os"]["value"]})
got_pv = Counter({r["value"]: r["count"] for r in items["agent_versions"]["value"]})
got_aio = Counter({r["value"]: r["count"] for r in items["aio_agent_versions"]["value"]})
if got_os != want_os: fail(f"agent_os {got_os} != {want_os}")
if got_pv != want_pv: fail(f"agent_versions {got_pv} != {want_pv}")
if got_aio != want_aio: fail(f"aio_agent_versions {got_aio} != {want_aio}")
if items["nodes_in_deployment"]["value"] != len(agents): fail(f'nodes {items["nodes_in_deployment"]}')
if rep["puppetdb"]["queries"] != 5: fail(f'queries {rep["puppetdb"]["queries"]}')
print(f"report counts OK: {dict(got_os)} {dict(got_pv)} {dict(got_aio)}")
PY

# 2. Text, and the access log shows exactly the report's queries.
before=$(wc -l < "$ACCESS_LOG")
run_report "$ROOT/r2" --cert "$CERT" --key "$KEY"
[ "$(cat "$ROOT/r2.rc")" = 0 ] || fail "text exit $(cat "$ROOT/r2.rc")"
after=$(wc -l < "$ACCESS_LOG")
queries=$(tail -n +$((before + 1)) "$ACCESS_LOG" | grep -c '/pdb/query/v4' || true)
[ "$queries" = 5 ] || fail "PuppetDB's access log shows $queries queries (lines $before..$after), not 5"
for needle in "RedHat 9.3: 2" "7.28.0: 2" "Number of nodes in deployment" "Viewport size" "(not collected)"; do
  grep -qF "$needle" "$ROOT/r2.out" || { cat "$ROOT/r2.out"; fail "text lacks '$needle'"; }
done

# 3. Token only: PuppetDB wants a client certificate, so this fails; the token never shows.
run_report "$ROOT/r3" --token-file "$ROOT/token" --format json
[ "$(cat "$ROOT/r3.rc")" = 1 ] || fail "token-only exit $(cat "$ROOT/r3.rc")"
for p in r1 r2 r3; do
  if grep -qF "$SECRET" "$ROOT/$p.out" "$ROOT/$p.err"; then fail "the token leaked in $p"; fi
  if grep -q "PRIVATE KEY" "$ROOT/$p.out" "$ROOT/$p.err"; then fail "a key leaked in $p"; fi
done

# 4. A deactivated node is no longer counted.
printf '{"certname":"db1.test","producer_timestamp":"%s"}' "$(date -u +%FT%T.000Z)" \
  | curl -sf -X POST -H 'Content-Type: application/json' --data-binary @- \
    "http://127.0.0.1:$PDB_HTTP_PORT/pdb/cmd/v1?command=deactivate_node&version=3&certname=db1.test" >/dev/null
wait_nodes $((${#AGENTS[@]} - 1))
run_report "$ROOT/r4" --cert "$CERT" --key "$KEY" --format json
/usr/bin/python3 - "$ROOT/r4.out" <<'PY'
import json, sys
items = {i["id"]: i for s in json.load(open(sys.argv[1]))["sections"] for i in s["items"]}
assert items["nodes_in_deployment"]["value"] == 4, items["nodes_in_deployment"]
assert not any(r["name"] == "Ubuntu" for r in items["agent_os"]["value"]), items["agent_os"]
PY

# 5. PuppetDB gone: the report still comes, says so, exits 1.
e2e_kill "$PUPPETDB_PID"; e2e_untrack "$PUPPETDB_PID"
run_report "$ROOT/r5" --cert "$CERT" --key "$KEY"
[ "$(cat "$ROOT/r5.rc")" = 1 ] || fail "PuppetDB down: exit $(cat "$ROOT/r5.rc")"
grep -q "did not answer" "$ROOT/r5.out" || { cat "$ROOT/r5.out"; fail "no 'did not answer'"; }
grep -q "f13f0fe69ad3bf67e842c8473afaf12913e14516" "$ROOT/r5.out" || fail "license item lost"

e2e_log "report e2e OK in $(e2e_since "$T0")s (PuppetDB ready after ${PDB_READY_SECS}s)"
