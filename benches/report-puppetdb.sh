#!/usr/bin/env bash
# Benchmark: `pe-analytics report` against a real PuppetDB 7.12 holding N synthetic nodes
# (default 10,000), loaded with `replace facts` commands on /pdb/cmd/v1. Prints PuppetDB's
# start time, the load time, and per report run: wall time and the number of queries (the
# report's own count, and the lines PuppetDB's access log gained). Checks the counts too.
# PuppetDB comes from the e2e library (.ci/e2e/lib.sh, e2e_setup_puppetdb); no Puppet Server.
#
#   bash benches/report-puppetdb.sh [N]        (root)
#
# Figures measured on the development machine are in README ("pe-analytics report").
set -euo pipefail
. "$(dirname "$0")/../.ci/e2e/lib.sh"
N=${1:-10000}
RUNS=${RUNS:-3}
export E2E_WITH_PUPPETDB=1 E2E_ROOT=${E2E_ROOT:-/tmp/pe-analytics-report-bench}
e2e_init
cd "$E2E_REPO"
ROOT=$E2E_ROOT
e2e_check_ports "$PDB_PORT" "$PDB_HTTP_PORT" "$PG_PORT"
e2e_install
cargo build --locked --quiet --release --bin pe-analytics
BIN=$PWD/target/release/pe-analytics
e2e_layout
e2e_ca
e2e_setup_puppetdb
e2e_wait_puppetdb
PDB_READY_SECS=$(e2e_since "$PUPPETDB_T0")
ACCESS_LOG=$ROOT/log/puppetdb-access.log
pdb_count() {
  curl -sf -G "http://127.0.0.1:$PDB_HTTP_PORT/pdb/query/v4/nodes" \
    --data-urlencode 'query=["extract",[["function","count"]]]' \
    | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["count"])' 2>/dev/null || true
}

# Load: N nodes, facts of a realistic shape (os, networking, versions, kernel, a few more).
T=$(e2e_ts)
/usr/bin/python3 - "$N" "$PDB_HTTP_PORT" "$ROOT/expected.json" <<'PY'
import http.client, json, sys, datetime
n, port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
mix = [("RedHat", "RedHat", "8.9", "7.28.0"), ("RedHat", "RedHat", "9.3", "8.4.0"),
       ("Ubuntu", "Debian", "22.04", "7.28.0"), ("Debian", "Debian", "12.5", "8.4.0"),
       ("windows", "windows", "2019", "7.27.0"), ("CentOS", "RedHat", "7.9.2009", "6.28.0"),
       ("SLES", "Suse", "15.5", "7.26.0")]
ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
exp = {"os": {}, "pv": {}}
for i in range(n):
    name, fam, rel, pv = mix[(i * 7 + i // 13) % len(mix)]
    cert = f"node{i:05d}.bench.test"
    values = {
        "os": {"name": name, "family": fam, "release": {"full": rel, "major": rel.split(".")[0]},
               "architecture": "x86_64", "hardware": "x86_64"},
        "networking": {"ip": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", "fqdn": cert, "hostname": cert.split(".")[0],
                       "domain": "bench.test"},
        "puppetversion": pv, "aio_agent_version": pv, "kernel": "windows" if name == "windows" else "Linux",
        "kernelrelease": "5.14.0", "osfamily": fam, "operatingsystem": name, "operatingsystemrelease": rel,
        "processors": {"count": 4, "models": ["Intel(R) Xeon(R)"] * 4}, "memory": {"system": {"total_bytes": 8 << 30}},
        "timezone": "UTC", "uptime_seconds": 1000 + i, "virtual": "kvm", "is_virtual": True,
        "fqdn": cert, "hostname": cert.split(".")[0], "ipaddress": f"10.0.{i // 256 % 256}.{i % 256}",
    }
    if i % 5 == 1:
        values.update(virtual="hyperv", cloud={"provider": "azure"}, az_metadata={"compute": {"location": "westeurope"}})
        exp["azure"] = exp.get("azure", 0) + 1
    elif i % 7 == 2:
        values.update(virtual="gce", gce={"instance": {"zone": "europe-west1-b"}})
        exp["gcp"] = exp.get("gcp", 0) + 1
    body = json.dumps({"certname": cert, "environment": "production", "producer_timestamp": ts,
                       "producer": "bench.test", "values": values})
    c.request("POST", f"/pdb/cmd/v1?command=replace_facts&version=5&certname={cert}", body,
              {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 200:
        sys.exit(f"command {i}: HTTP {r.status}")
    k = f"{name} {rel}"
    exp["os"][k] = exp["os"].get(k, 0) + 1
    exp["pv"][pv] = exp["pv"].get(pv, 0) + 1
json.dump(exp, open(out, "w"))
PY
e2e_log "posted $N replace-facts commands in $(e2e_since "$T")s"
for _ in $(seq 1 3600); do [ "$(pdb_count)" = "$N" ] && break; sleep 1; done
[ "$(pdb_count)" = "$N" ] || e2e_die "PuppetDB holds $(pdb_count) nodes, not $N"
LOAD_SECS=$(e2e_since "$T")
e2e_log "PuppetDB holds $N active nodes after ${LOAD_SECS}s"

echo "# report against PuppetDB with $N nodes (PuppetDB ready after ${PDB_READY_SECS}s, load ${LOAD_SECS}s)"
for run in $(seq 1 "$RUNS"); do
  before=$(wc -l < "$ACCESS_LOG")
  t=$(e2e_ts)
  rc=0
  "$BIN" report --puppetdb-url "https://localhost:$PDB_PORT" --cacert "$ROOT/ssl/certs/ca.pem" \
    --cert "$ROOT/ssl/certs/$SERVER_CERTNAME.pem" --key "$ROOT/ssl/private_keys/$SERVER_CERTNAME.pem" \
    --certname node00000.bench.test --orchestrator-url https://localhost:1 \
    --puppetserver-url "https://localhost:$PDB_PORT" --pe-version 2021.7.1 \
    --license-file /nonexistent --format json > "$ROOT/report-$run.json" || rc=$?
  secs=$(e2e_since "$t")
  # No Puppet Server here (PuppetDB's own status API stands in, answering at once, without
  # JRuby figures): those items are errors (exit 1); any other error is a failure.
  [ "$rc" = 0 ] || /usr/bin/python3 -c 'import json,sys; e=json.load(open(sys.argv[1])).get("errors",[]); sys.exit(0 if e and all("Puppet Server" in x for x in e) else 1)' \
    "$ROOT/report-$run.json" || { cat "$ROOT/report-$run.json"; e2e_die "report exit $rc"; }
  logged=$(tail -n +$((before + 1)) "$ACCESS_LOG" | grep -c '/pdb/query/v4' || true)
  own=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["puppetdb"]["queries"])' "$ROOT/report-$run.json")
  echo "run $run: wall ${secs}s, queries ${own} (PuppetDB access log: ${logged})"
done
/usr/bin/python3 - "$ROOT/report-1.json" "$ROOT/expected.json" "$N" <<'PY'
import json, sys
rep, exp, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
items = {i["id"]: i for s in rep["sections"] for i in s["items"]}
assert items["nodes_in_deployment"]["value"] == n, items["nodes_in_deployment"]
got_os = {f'{r["name"]} {r["release"]}': r["count"] for r in items["agent_os"]["value"]}
got_pv = {r["value"]: r["count"] for r in items["agent_versions"]["value"]}
assert got_os == exp["os"], (got_os, exp["os"])
assert got_pv == exp["pv"], (got_pv, exp["pv"])
cloud = {r["value"]: r["count"] for r in items["agents_on_cloud"]["value"]}
assert cloud["Microsoft Azure"] == exp["azure"] and cloud["Google Cloud Platform"] == exp["gcp"], (cloud, exp)
print(f"counts OK: {n} nodes, {len(got_os)} OS releases, {len(got_pv)} Puppet versions")
PY
# PuppetDB's time for each query of the last run (the access log's last field, in ms).
echo "last run, per query (PuppetDB's ms):"
grep '/pdb/query/v4' "$ACCESS_LOG" | tail -10 | awk '{split($7, a, "?"); print "  " a[1] " " $(NF-1) " ms"}'
