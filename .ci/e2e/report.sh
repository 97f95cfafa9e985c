#!/usr/bin/env bash
# `pe-analytics report` against a real PuppetDB 7.12 fed by real agent runs (puppetserver 7.9,
# puppet agent 7.23), each agent reporting its own OS, Puppet version, hypervisor and cloud,
# plus a node whose facts lack them; and against that real Puppet Server's status API (JRuby
# and JVM figures) and configuration. Checks: PE 2021.7's list; every count (OS, agent
# versions, clouds, classes from the nodes' catalogs) equals what PuppetDB holds, counted here
# independently, with its unknown row; PuppetDB's access log shows exactly the report's
# queries; the primary is --primary, not this host; SENT follows the opt-out state; PuppetDB's
# certificate-allowlist refusal comes once, with its hint; deactivated nodes are not counted;
# no secret is printed; the error path when PuppetDB is gone. (The classifier, RBAC and
# orchestrator items are tested against pe-sim, tests/report.rs.) Built on the e2e library
# (.ci/e2e/lib.sh: its PuppetDB, its allowlist, its per-node fact overrides).
# Run as root: bash .ci/e2e/report.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
T0=$(e2e_ts)
export E2E_WITH_PUPPETDB=1
# Only the server's certificate may query PuppetDB over HTTPS (test 6 uses an agent's).
export E2E_PDB_ALLOWLIST=puppet.test
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
# Debian's puppet-agent, which is not the All-in-One package), hypervisor (Facter's
# `virtual`), cloud ("azure": Facter 4's cloud.provider and az_metadata; "gce": Facter 3's
# gce fact only; "-": none). Every agent overrides them, so the host's own do not leak in.
AGENTS=(
  "primary.test Debian 12.5 7.23.0 - kvm -"
  "web1.test RedHat 9.3 8.4.0 8.4.0 hyperv azure"
  "web2.test RedHat 9.3 7.28.0 7.28.0 gce gce"
  "db1.test Ubuntu 22.04 7.28.0 7.28.0 vmware -"
  "win1.test windows 2019 7.27.0 7.27.0 physical -"
)
for a in "${AGENTS[@]}"; do
  read -r n os rel pv aio virt cloud <<<"$a"
  facts=("os={\"name\":\"$os\",\"family\":\"$os\",\"release\":{\"full\":\"$rel\",\"major\":\"${rel%%.*}\"}}"
    "puppetversion=$pv" "virtual=$virt")
  [ "$aio" = - ] || facts+=("aio_agent_version=$aio")
  case $cloud in
    azure) facts+=('cloud={"provider":"azure"}' 'az_metadata={"compute":{"location":"westeurope"}}') ;;
    gce) facts+=('gce={"instance":{"zone":"europe-west1-b"}}' 'cloud={"provider":"gce"}') ;;
    *) facts+=('cloud={"provider":"none"}') ;;
  esac
  e2e_add_node "$n" "${facts[@]}"
done
# A module class on the web nodes, so their catalogs hold one beside PE's own.
mkdir -p "$ROOT/code/environments/production/modules/ntp/manifests"
echo 'class ntp { }' > "$ROOT/code/environments/production/modules/ntp/manifests/init.pp"
echo 'if $trusted["certname"] =~ /^web/ { include ntp }' > "$ROOT/code/environments/production/manifests/site.pp"
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
# A node whose Facter did not report (no os, versions, virtual or cloud facts): its facts
# come straight from a `replace facts` command, as any producer may send them.
printf '{"certname":"bare.test","environment":"production","producer_timestamp":"%s","producer":"e2e","values":{"kernel":"Linux"}}' \
  "$(date -u +%FT%T.000Z)" | curl -sf -X POST -H 'Content-Type: application/json' --data-binary @- \
  "http://127.0.0.1:$PDB_HTTP_PORT/pdb/cmd/v1?command=replace_facts&version=5&certname=bare.test" >/dev/null
NODES=$((${#AGENTS[@]} + 1))
wait_nodes $NODES
PDB_URL=https://localhost:$PDB_PORT
CA=$ROOT/ssl/certs/ca.pem
# pe-analytics uses the server's own certificate, as on a PE primary (PuppetDB accepts any
# certificate signed by its CA whose certname is on its allowlist).
CERT=$ROOT/ssl/certs/$SERVER_CERTNAME.pem
KEY=$ROOT/ssl/private_keys/$SERVER_CERTNAME.pem
ACCESS_LOG=$ROOT/log/puppetdb-access.log
[ -f "$ACCESS_LOG" ] || fail "no PuppetDB access log at $ACCESS_LOG"
# PE's product.conf, as the puppet_enterprise module writes it on the primary.
printf 'product: {\n  name: {group-id: puppetlabs.packages, artifact-id: pe-master}\n}\n' >"$ROOT/product.conf"

run_report() {  # run_report OUT_PREFIX ARGS...: stdout, stderr and exit code to files
  local p=$1; shift
  set +e
  "$BIN" report --puppetdb-url "$PDB_URL" --cacert "$CA" --primary primary.test \
    --certname workstation.test --puppetserver-url "https://localhost:$PUPPET_PORT" \
    --license-file "$ROOT/license.key" --pe-version-file "$ROOT/pe_version" \
    --product-conf "$ROOT/product.conf" --puppet-conf "$ROOT/etc/puppet.conf" \
    --puppetserver-conf "$ROOT/server/conf.d/puppetserver.conf" "$@" \
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

# 1. JSON, certificate auth plus a token (PuppetDB goes by the certificate); run from another
# host (--certname workstation.test) about the primary (--primary primary.test).
T=$(e2e_ts)
before=$(wc -l < "$ACCESS_LOG")
run_report "$ROOT/r1" --cert "$CERT" --key "$KEY" --token-file "$ROOT/token" --format json
e2e_log "report (json) took $(e2e_since "$T")s, exit $(cat "$ROOT/r1.rc")"
[ "$(cat "$ROOT/r1.rc")" = 0 ] || { cat "$ROOT/r1.out" "$ROOT/r1.err"; fail "exit $(cat "$ROOT/r1.rc")"; }
QUERIES=$(tail -n +$((before + 1)) "$ACCESS_LOG" | grep -c '/pdb/query/v4' || true)
pdb_query inventory '["extract",["certname","facts"]]' > "$ROOT/raw.json"
pdb_query resources '["extract",["certname","title"],["=","type","Class"]]' > "$ROOT/classes.json"
curl -sf --cacert "$CA" --cert "$CERT" --key "$KEY" \
  "https://localhost:$PUPPET_PORT/status/v1/services?level=debug" > "$ROOT/server-status.json" \
  || fail "Puppet Server's status API did not answer"
/usr/bin/python3 - "$ROOT/r1.out" "$ROOT/raw.json" "$ROOT/classes.json" "$ROOT/server-status.json" \
  "$NODES" "$QUERIES" "${AGENTS[@]}" <<'PY'
import json, sys
from collections import Counter
rep, raw, classes, server = (json.load(open(f)) for f in sys.argv[1:5])
nodes, queries, agents = int(sys.argv[5]), int(sys.argv[6]), [a.split() for a in sys.argv[7:]]
def fail(m): sys.exit("FAIL: " + m)
assert list(rep) == ["schema", "command", "sections", "opt_out", "puppetdb", "outcome", "exit_code",
                     "list", "services"], list(rep)
assert rep["schema"] == 1 and rep["command"] == "report" and rep["outcome"] == "done" and rep["exit_code"] == 0
assert [s["section"] for s in rep["sections"]] == ["server", "features", "backup-restore", "performance",
                                                   "installer", "aws-marketplace", "console", "not-collected"]
assert rep["list"]["page_from"] == "2021.7" and rep["list"]["items"] == 126, rep["list"]
items = {i["id"]: i for s in rep["sections"] for i in s["items"]}
for i in items.values():
    assert set(i) >= {"id", "item", "sent_by_pe", "sent", "sent_when", "status", "value", "source"}, i
    assert i["status"] != "error", i
ids = [i["id"] for i in rep["sections"][0]["items"]]
assert ids == ["license_uuid", "licensed_nodes", "product_name", "pe_version", "primary_os", "primary_public_ip",
               "primary_on_azure", "primary_hypervisor", "nodes_in_deployment", "agent_os", "agent_versions",
               "aio_agent_versions", "agents_on_cloud", "ha_replicas"], ids
assert items["license_uuid"]["value"] == "f13f0fe69ad3bf67e842c8473afaf12913e14516"
assert items["licensed_nodes"]["value"] == 5000 and items["pe_version"]["value"] == "2021.7.1"
assert items["product_name"]["value"] == "pe-master", items["product_name"]
# The primary is primary.test (--primary), not this host (--certname workstation.test).
assert rep["puppetdb"]["primary_certname"] == "primary.test"
assert items["primary_os"]["value"] == "Debian 12.5", items["primary_os"]
assert items["primary_hypervisor"]["value"] == "kvm" and items["primary_on_azure"]["value"] is False
assert items["primary_public_ip"]["value"] is None and items["primary_public_ip"]["status"] == "not-computable"
# Console services are not configured here: absent, not errors.
assert items["node_groups"]["status"] == "absent", items["node_groups"]
# What the agents reported ...
want_os = Counter(f"{a[1]} {a[2]}" for a in agents); want_os["unknown"] = 1
want_pv = Counter(a[3] for a in agents); want_pv["unknown"] = 1
want_aio = Counter(a[4] for a in agents if a[4] != "-"); want_aio["unknown"] = 1 + sum(a[4] == "-" for a in agents)
# ... equals what PuppetDB holds, counted here from every node's facts ...
f = [r["facts"] for r in raw]
assert len(f) == nodes, len(f)
raw_os = Counter(f'{x["os"]["name"]} {x["os"]["release"]["full"]}' if "os" in x else "unknown" for x in f)
raw_pv = Counter(x.get("puppetversion", "unknown") for x in f)
raw_aio = Counter(x.get("aio_agent_version", "unknown") for x in f)
if (raw_os, raw_pv, raw_aio) != (want_os, want_pv, want_aio):
    fail(f"PuppetDB holds {raw_os} {raw_pv} {raw_aio}, agents reported {want_os} {want_pv} {want_aio}")
def cloud(x):
    c = (x.get("cloud") or {}).get("provider")
    if c == "azure" or "az_metadata" in x: return "Microsoft Azure"
    if c == "gce" or "gce" in x: return "Google Cloud Platform"
    return "neither" if "virtual" in x else "unknown"
raw_cloud = Counter(cloud(x) for x in f)
assert raw_cloud["Microsoft Azure"] >= 1 and raw_cloud["Google Cloud Platform"] >= 1 and raw_cloud["unknown"] == 1, raw_cloud
# ... and equals the report, each table adding up to the nodes in the deployment.
def table(v):
    return Counter({(r.get("value") if "value" in r else (f'{r["name"]} {r["release"]}' if r["name"] else None))
                    or "unknown": r["count"] for r in v})
for id, want in [("agent_os", want_os), ("agent_versions", want_pv), ("aio_agent_versions", want_aio),
                 ("agents_on_cloud", raw_cloud)]:
    got = table(items[id]["value"])
    if +got != +want: fail(f"{id} {got} != {want}")
    if sum(got.values()) != nodes: fail(f"{id} adds up to {sum(got.values())}, not {nodes}")
if items["nodes_in_deployment"]["value"] != nodes: fail(f'nodes {items["nodes_in_deployment"]}')
# Classes from the nodes' catalogs, counted here from every Class resource.
per_class = Counter(r["title"] for r in classes)
public = {r["value"]: r["count"] for r in items["public_module_classes"]["value"]}
mine = {t: n for t, n in per_class.items()
        if t.split("::")[0].lower() not in ("settings", "main", "puppet_enterprise") and not t.lower().startswith("pe_")}
if public != mine: fail(f"public_module_classes {public} != {mine}")
if mine.get("Ntp") != 2: fail(f"the web nodes' catalogs lack class ntp: {per_class}")
assert items["pe_patch_nodes"]["value"] == per_class.get("Pe_patch", 0)
assert items["pe_patch_nodes_needing_patches"]["value"] == 0
# The real Puppet Server's status and configuration.
m = (server.get("pe-jruby-metrics") or server["jruby-metrics"])["status"]["experimental"]["metrics"]
heap = server["status-service"]["status"]["experimental"]["jvm-metrics"]["heap-memory"]
assert items["jruby_instances"]["value"] == m["num-jrubies"] == 1, (items["jruby_instances"], m)
assert items["jruby_timeouts"]["value"] == m["borrow-timeout-count"]
assert items["jvm_heap_max"]["value"] == heap["max"] and items["jvm_heap_initial"]["value"] == heap["init"]
assert items["jruby_max_active"]["value"] == 1, items["jruby_max_active"]   # puppetserver.conf
assert items["autosign_type"]["value"].startswith("naive"), items["autosign_type"]   # autosign = true
# Exactly the report's queries, all aggregates (the primary's facts aside).
if rep["puppetdb"]["queries"] != 10 or queries != 10:
    fail(f'queries: report {rep["puppetdb"]["queries"]}, PuppetDB access log {queries}, not 10')
print(f"report counts OK: {dict(table(items['agent_os']['value']))} {dict(table(items['agents_on_cloud']['value']))}; "
      f"{len(public)} classes; JRuby {m['num-jrubies']}, heap max {heap['max']}; {queries} queries")
PY

# 2. Text, and the access log shows exactly the report's queries.
before=$(wc -l < "$ACCESS_LOG")
run_report "$ROOT/r2" --cert "$CERT" --key "$KEY"
[ "$(cat "$ROOT/r2.rc")" = 0 ] || fail "text exit $(cat "$ROOT/r2.rc")"
after=$(wc -l < "$ACCESS_LOG")
queries=$(tail -n +$((before + 1)) "$ACCESS_LOG" | grep -c '/pdb/query/v4' || true)
[ "$queries" = 10 ] || fail "PuppetDB's access log shows $queries queries (lines $before..$after), not 10"
for needle in "RedHat 9.3: 2" "7.28.0: 2" "unknown: 1" "Number of nodes in deployment" \
  "Viewport size" "(not collected)" "PE version 2021.7.1: PE's list for 2021.7"; do
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
wait_nodes $((NODES - 1))
run_report "$ROOT/r4" --cert "$CERT" --key "$KEY" --format json
/usr/bin/python3 - "$ROOT/r4.out" <<'PY'
import json, sys
items = {i["id"]: i for s in json.load(open(sys.argv[1]))["sections"] for i in s["items"]}
assert items["nodes_in_deployment"]["value"] == 5, items["nodes_in_deployment"]
assert not any(r["name"] == "Ubuntu" for r in items["agent_os"]["value"]), items["agent_os"]
PY

# 5. SENT follows the opt-out state (here: pe.conf): opted out, nothing is sent; not opted
# out, what PE collects is.
printf '"puppet_enterprise::send_analytics_data": false\n' > "$ROOT/pe.conf"
run_report "$ROOT/r5a" --cert "$CERT" --key "$KEY" --pe-conf "$ROOT/pe.conf" --format json
printf '"puppet_enterprise::send_analytics_data": true\n' > "$ROOT/pe.conf"
run_report "$ROOT/r5b" --cert "$CERT" --key "$KEY" --pe-conf "$ROOT/pe.conf" --format json
/usr/bin/python3 - "$ROOT/r5a.out" "$ROOT/r5b.out" <<'PY'
import json, sys
out, on = (json.load(open(f)) for f in sys.argv[1:3])
assert out["opt_out"]["verdict"] == "opted-out", out["opt_out"]
assert all(i["sent"] == "no" for s in out["sections"] for i in s["items"])
assert on["opt_out"]["verdict"] == "not-opted-out", on["opt_out"]
for i in (i for s in on["sections"] for i in s["items"]):
    want = "no" if i["status"] in ("not-collected", "not-applicable") else "yes"
    assert i["sent"] == want, i
PY

# 6. An agent's certificate, not on PuppetDB's allowlist: refused once, with PuppetDB's hint.
before=$(wc -l < "$ACCESS_LOG")
run_report "$ROOT/r6" --cert "$ROOT/nodes/web1.test/ssl/certs/web1.test.pem" \
  --key "$ROOT/nodes/web1.test/ssl/private_keys/web1.test.pem"
[ "$(cat "$ROOT/r6.rc")" = 1 ] || { cat "$ROOT/r6.out" "$ROOT/r6.err"; fail "unlisted certificate: exit $(cat "$ROOT/r6.rc")"; }
n=$(grep -c "PuppetDB refused the client certificate" "$ROOT/r6.err" || true)
[ "$n" = 1 ] || { cat "$ROOT/r6.err"; fail "the allowlist hint shows $n times, not once"; }
grep -q "/etc/puppetlabs/puppetdb/certificate-allowlist" "$ROOT/r6.err" || fail "no allowlist path in the hint"
asked=$(tail -n +$((before + 1)) "$ACCESS_LOG" | grep -c '/pdb/query/v4' || true)
[ "$asked" = 1 ] || fail "after the refusal PuppetDB was asked $asked times, not once"
if grep -q "PRIVATE KEY" "$ROOT/r6.out" "$ROOT/r6.err"; then fail "a key leaked in r6"; fi

# 7. PuppetDB gone: the report still comes, says so, exits 1.
e2e_kill "$PUPPETDB_PID"; e2e_untrack "$PUPPETDB_PID"
run_report "$ROOT/r7" --cert "$CERT" --key "$KEY"
[ "$(cat "$ROOT/r7.rc")" = 1 ] || fail "PuppetDB down: exit $(cat "$ROOT/r7.rc")"
grep -q "did not answer" "$ROOT/r7.out" || { cat "$ROOT/r7.out"; fail "no 'did not answer'"; }
grep -q "pe-puppetdb" "$ROOT/r7.err" || { cat "$ROOT/r7.err"; fail "no PuppetDB hint"; }
grep -q "f13f0fe69ad3bf67e842c8473afaf12913e14516" "$ROOT/r7.out" || fail "license item lost"

e2e_log "report e2e OK in $(e2e_since "$T0")s (PuppetDB ready after ${PDB_READY_SECS}s)"
