# attacks: `report scans` and `report bruteforce` agree with the SQL reference
# of the detections (docs/detection-inputs.sql, docs/detection-queries.sql) on
# the real attacks and benign traffic of fixtures/record-attacks, alone and
# together, at the default thresholds and others.  Two implementations, one
# answer: every finding, every figure (times aside: the golden files have
# them; rates and intervals within their rounding).  What the findings must
# be is asserted in analyses.test.sh.  No root.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

fixtures=(scan-syn scan-small scan-connect scan-ack bruteforce-ssh bruteforce-hydra sweep
	sweep-host1 sweep-host2 sweep-host3 sweep-host4 sweep-host5 benign-http benign-busy)
load_fixtures "${fixtures[@]}"

# prototypes [NAME=VALUE...] FIXTURE...: the findings of the SQL prototypes,
# one line each; NAME=VALUE overrides a threshold (cf_param)
prototypes() {
	local params=() i=0 f
	while [[ $1 == *=* ]]; do
		params+=("INSERT INTO cf_param VALUES ('${1%%=*}', ${1#*=});")
		shift
	done
	{
		echo "CREATE TEMP TABLE cf_param (name TEXT PRIMARY KEY, value NUMERIC NOT NULL);"
		printf '%s\n' "${params[@]}"
		for f in "$@"; do
			i=$((i + 1))
			echo "ATTACH '$SCRATCH/$f.db' AS c$i;"
			sed "s/\bmain\./c$i./g" docs/detection-inputs.sql
			echo "DETACH c$i;" # the rows stay: at most 10 attached at once
		done
		cat docs/detection-queries.sql
	} | sqlite3 -batch -bail :memory:
}

# reference ARGS...: prototypes' findings and errors, the same for every build
reference() { kept "attacks prototypes $*" prototypes "$@"; }

# csv SQL COMMAND ARGS...: `report COMMAND ARGS --format csv` as table r, and SQL over it
csv() {
	local sql=$1
	shift
	(cd "$SCRATCH" && "$report" "$@" --format csv) > "$SCRATCH/out.csv" 2> "$SCRATCH/err" || {
		echo "report $*: status $?: $(head -c 200 "$SCRATCH/err")"
		return
	}
	sqlite3 -batch :memory: ".import --csv $SCRATCH/out.csv r" "$sql"
}

# The subcommands' findings in the prototypes' layout, in the same order (CSV cells
# import as text, empty when null).
scans_sql="SELECT CASE detection
    WHEN 'portscan' THEN detection || '|' || host || '|' || scanner || '|' || target || '|' || ports || '|' || probes || '|' || '' || '|' || '' || '|' || rate || '|' || sample_ports || '|' || accepts || '|' || open_ports || '|' || confidence
    WHEN 'sweep' THEN detection || '|' || scanner || '|' || targets || '|' || hosts || '|' || sample_addresses || '|' || ports || '|' || probes || '|' || '' || '|' || '' || '|' || rate || '|' || sample_ports || '|' || accepts
    ELSE detection || '|' || host || '|' || pid || '|' || comm || '|' || sample_addresses || '|' || hosts || '|' || ports || '|' || destinations || '|' || connects || '|' || failed || '|' || refused || '|' || timeouts || '|' || '' || '|' || '' || '|' || rate || '|' || sample_ports
  END FROM r ORDER BY CASE detection WHEN 'portscan' THEN 1 WHEN 'sweep' THEN 2 ELSE 3 END, rowid"
ms() { echo "round($1 / 1e6)"; } # COLUMN: in ms, as SQL
bruteforce_sql="SELECT 'bruteforce' || '|' || host || '|' || remote || '|' || local || '|' || port || '|' || process || '|' || connections || '|' || '' || '|' || '' || '|' || rate || '|' || $(ms median_ns) || '|' || $(ms q1_ns) || '|' || $(ms q3_ns) || '|' || $(ms iqr_ns) || '|' || $(ms mean_ns) FROM r"

# ours [NAME=VALUE...] FIXTURE...: the same, from report, the thresholds as options
ours() {
	local scans=() bruteforce=() f
	while [[ $1 == *=* ]]; do
		case ${1%%=*} in
		scan_window_s) scans+=(--window "${1#*=}") ;;
		scan_ports) scans+=(--ports "${1#*=}") ;;
		scan_low_ports) scans+=(--low-ports "${1#*=}") ;;
		sweep_hosts) scans+=(--targets "${1#*=}") ;;
		outbound_destinations) scans+=(--destinations "${1#*=}") ;;
		outbound_failed_share) scans+=(--failed-share "${1#*=}") ;;
		bruteforce_window_s) bruteforce+=(--window "${1#*=}") ;;
		bruteforce_connections) bruteforce+=(--connections "${1#*=}") ;;
		esac
		shift
	done
	csv "$scans_sql" scans "${scans[@]}" "${@/%/.db}"
	csv "$bruteforce_sql" bruteforce "${bruteforce[@]}" "${@/%/.db}"
}

# Field by field; times (empty in ours) skipped; rates within 0.05 (the
# prototype rounds to 0.1), intervals within 1 ms (it rounds to 1 ms).
# shellcheck disable=SC2016 # awk's
compare='
function near(a, b, tolerance) { return a == b || (a - b <= tolerance && b - a <= tolerance) }
NR == FNR { want[FNR] = $0; wanted = FNR; next }
{
	got = FNR
	n = split(want[FNR], w, "|")
	split($0, g, "|")
	for (i = 1; i <= n; i++) {
		if (g[i] == "" && w[i] ~ /^20[0-9][0-9]-/)
			continue
		rate = (w[1] == "portscan" && i == 9) || (w[1] == "sweep" && i == 10) ||
		       (w[1] == "outbound" && i == 15) || (w[1] == "bruteforce" && i == 10)
		if (rate && near(w[i], g[i], 0.0501))
			continue
		if (w[1] == "bruteforce" && i >= 11 && near(w[i], g[i], 1))
			continue
		if (w[i] != g[i]) {
			print "line " FNR " field " i ": reference " w[i] ", report " g[i]
			bad = 1
			exit
		}
	}
}
END { if (!bad && got != wanted) print "reference " wanted + 0 " findings, report " got + 0 }'

# agree NAME [NAME=VALUE...] FIXTURE...: report and the reference find the same
agree() {
	local name=$1 want got why
	shift
	reference "$@" > "$SCRATCH/reference" & # at once with ours, one a core
	got=$(ours "$@")
	wait $!
	want=$(cat "$SCRATCH/reference")
	why=$(awk -F'|' "$compare" <(printf '%s\n' "$want" | grep .) <(printf '%s\n' "$got" | grep .))
	if [ -z "$why" ]; then
		pass "$name ($(printf '%s\n' "$want" | grep -c .) findings)"
	else
		fail "$name" "$why"
	fi
}

for f in scan-syn scan-small scan-connect scan-ack bruteforce-ssh bruteforce-hydra sweep; do
	agree "$f: the same findings" "$f"
done
for f in sweep-host1 sweep-host2 sweep-host3 sweep-host4 sweep-host5 benign-http benign-busy; do
	agree "$f: the same" "$f"
done
agree "the sweep across five hosts' captures" sweep-host{1,2,3,4,5}
agree "four of them: port scans of low confidence, no sweep" sweep-host{1,2,3,4}
agree "every capture at once: episodes that merge across captures" "${fixtures[@]}"

# Thresholds moved, the near misses among them.
agree "benign-http at 2 ports: its own connections are no probes" scan_ports=2 benign-http
agree "benign-busy at 5 connections: the admin's logins" bruteforce_connections=5 benign-busy
agree "benign-busy at 1 port: the refused connects to 5432" scan_ports=1 benign-busy
agree "scan-syn at 997 ports: of low confidence" scan_ports=997 scan-syn
agree "scan-syn at 997 ports, no low tier: none" scan_ports=997 scan_low_ports=0 scan-syn
agree "the sweep at 8 low ports: none of low confidence" scan_low_ports=8 sweep
agree "four hosts at 4 targets: a sweep" sweep_hosts=4 sweep-host{1,2,3,4}
agree "hydra with a 30 s window: its bursts apart" bruteforce_window_s=30 bruteforce-hydra
agree "hydra at 4 connections in 30 s: each burst" bruteforce_window_s=30 bruteforce_connections=4 bruteforce-hydra
agree "every capture with 1 s windows and low thresholds" scan_window_s=1 sweep_window_s=1 \
	outbound_window_s=1 scan_ports=3 sweep_hosts=2 outbound_destinations=3 \
	bruteforce_window_s=1 bruteforce_connections=3 "${fixtures[@]}"
agree "outbound only when every connect failed" outbound_failed_share=1 scan-connect
agree "outbound at a third of failures, 2 destinations" outbound_failed_share=0.33 \
	outbound_destinations=2 benign-busy scan-connect
