#!/usr/bin/env bash
# Optional check of the library's PuppetDB path and fact overrides (groundwork for issue 7;
# not run by .ci/run): PuppetDB 7.12 on a private PostgreSQL, two agent nodes that look
# like different systems, and PuppetDB queries over what they reported.
#
#   bash .ci/e2e/puppetdb-check.sh      (root; installs PuppetDB and PostgreSQL when missing)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
T_ALL=$(e2e_ts)
export E2E_WITH_PUPPETDB=1
e2e_init
cd "$E2E_REPO"
e2e_check_ports "$PUPPET_PORT" "$SIM_PORT" "$SIM_ORCH_PORT" "$PDB_PORT" "$PDB_HTTP_PORT" "$PG_PORT"
e2e_install
[ "${E2E_NO_BUILD:-0}" = 1 ] || cargo build --locked --bins --quiet
e2e_layout
e2e_ca
e2e_add_node primary.example.test
e2e_add_node rhel7.example.test \
  'os={"family":"RedHat","name":"CentOS","release":{"major":"7","full":"7.9.2009"}}' osfamily=RedHat
e2e_setup_puppetdb
e2e_start_sim --initial-value false
e2e_start_server
e2e_wait_puppetdb
for n in primary.example.test rhel7.example.test; do
  rc=0; e2e_run_agent "$n" || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 2 ] || e2e_die "agent run on $n failed (rc $rc, $E2E_LAST_AGENT_LOG)"
done
Q() { curl -sf -G "http://127.0.0.1:$PDB_HTTP_PORT/pdb/query/v4$1" --data-urlencode "query=$2"; }
for _ in $(seq 1 30); do
  R=$(Q /fact-contents '["extract",[["function","count"],"value"],["=","path",["os","family"]],["group_by","value"]]')
  echo "$R" | grep -q RedHat && echo "$R" | grep -q Debian && break
  sleep 1
done
e2e_log "os.family counts: $R"
echo "$R" | /usr/bin/python3 -c 'import json,sys; c={r["value"]: r["count"] for r in json.load(sys.stdin)}; sys.exit(0 if c=={"RedHat":1,"Debian":1} else "unexpected counts %r" % c)'
# What the primary's catalog really received (only the primary is in PE's groups).
R=$(Q /resources '["and",["=","type","Class"],["=","title","Puppet_enterprise"]]')
echo "$R" | /usr/bin/python3 -c 'import json,sys; v={r["certname"]: r["parameters"].get("send_analytics_data") for r in json.load(sys.stdin)}; sys.exit(0 if v=={"primary.example.test": False} else "unexpected %r" % v)'
R=$(Q /nodes '["=","latest_report_status","failed"]')
[ "$R" = "[]" ] || e2e_die "failed reports: $R"
e2e_log "PuppetDB check passed in $(e2e_since "$T_ALL")s (puppetserver start ${SERVER_START_SECS}s)"
