# clickhouse: the detections on ClickHouse (scripts/clickhouse-load,
# docs/detection-queries.clickhouse.sql) find what `report scans`, `report
# bruteforce` (guessed passwords too) and `report exfil` find over the same
# captures: every finding and listed pair, every count, first and last to the
# nanosecond, rates and PCRs to their last digit.  The attacks, sweeps
# and logins of fixtures/record-attacks, several hosts' captures at once.  A
# ClickHouse server of the test's own (scripts/clickhouse-private: its data,
# configuration and port in the scratch directory), stopped at the end.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

if ! command -v clickhouse-server > /dev/null || ! command -v clickhouse-client > /dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
		--no-install-recommends clickhouse-server clickhouse-client > "$SCRATCH/apt" 2>&1 ||
		fail "install clickhouse-server" "$(tail -n 2 "$SCRATCH/apt")"
fi

fixtures=(scan-syn scan-small scan-connect scan-ack bruteforce-ssh bruteforce-hydra sweep
	sweep-host1 sweep-host2 sweep-host3 sweep-host4 sweep-host5 benign-http benign-busy
	logins-hydra logins-guessed logins-slow logins-benign lives beacons)
load_fixtures "${fixtures[@]}"

server=$SCRATCH/clickhouse
trap 'scripts/clickhouse-private stop "$server"; rm -rf "$SCRATCH"' EXIT
trap 'exit 130' INT TERM # the server stopped when the test is, too
port=$(scripts/clickhouse-private start "$server" 2> "$SCRATCH/start.err")
check "a ClickHouse server of our own answers" test -n "$port"
client=(clickhouse-client --port "$port")

# agree NAME [NAME=VALUE...] FIXTURE...: loaded afresh, ClickHouse finds what
# report finds (NAME=VALUE: a threshold, cf_param and report's option; or
# guessed=N and flagged=N, the guessed passwords and the pairs flagged exfil
# both must find, 0 by default)
agree() {
	local name=$1 params=() scans=() bruteforce=() exfil=() guessed=0 flagged=0 verdict
	shift
	while [[ $1 == *=* ]]; do
		case ${1%%=*} in
		guessed | flagged) ;;
		*) params+=("INSERT INTO cf_param VALUES ('${1%%=*}', ${1#*=});") ;;
		esac
		case ${1%%=*} in
		guessed) guessed=${1#*=} ;;
		flagged) flagged=${1#*=} ;;
		exfil_min_bytes) exfil+=(--min-bytes "${1#*=}") ;;
		exfil_pcr) exfil+=(--pcr "${1#*=}") ;;
		exfil_top) exfil+=(--top "${1#*=}") ;;
		scan_ports) scans+=(--ports "${1#*=}") ;;
		sweep_hosts) scans+=(--targets "${1#*=}") ;;
		failures) bruteforce+=(--failures "${1#*=}") ;;
		bruteforce_connections) bruteforce+=(--connections "${1#*=}") ;;
		esac
		shift
	done
	"${client[@]}" --multiquery --query "DROP TABLE IF EXISTS cf_reset; DROP TABLE IF EXISTS cf_accept;
		DROP TABLE IF EXISTS cf_connect; DROP TABLE IF EXISTS cf_login; DROP TABLE IF EXISTS cf_close;
		DROP TABLE IF EXISTS cf_param"
	(cd "$SCRATCH" && "$OLDPWD/scripts/clickhouse-load" --port "$port" --jobs 2 --report "$report" "${@/%/.db}") \
		2> "$SCRATCH/load.err" || {
		fail "$name" "clickhouse-load: $(grep -v ' loaded$' "$SCRATCH/load.err" | head -3)"
		return
	}
	{
		echo "CREATE TABLE cf_param (name String, value Float64) ENGINE = Memory;"
		printf '%s\n' "${params[@]}"
		cat docs/detection-queries.clickhouse.sql
	} | "${client[@]}" --multiquery > "$SCRATCH/clickhouse.csv" 2> "$SCRATCH/err" || {
		fail "$name" "the queries: $(head -c 300 "$SCRATCH/err")"
		return
	}
	# (report tells on stderr the captures without process lives)
	(cd "$SCRATCH" && "$report" scans "${scans[@]}" --format csv "${@/%/.db}" 2> /dev/null &&
		"$report" bruteforce "${bruteforce[@]}" --format csv "${@/%/.db}" 2> /dev/null &&
		"$report" exfil "${exfil[@]}" --format csv "${@/%/.db}" 2> /dev/null) > "$SCRATCH/report.csv"
	verdict=$(tests/clickhouse/compare "$SCRATCH/report.csv" "$SCRATCH/clickhouse.csv" 2>&1)
	check_match "$name ($verdict)" \
		"^[1-9][0-9]* findings, $guessed guessed passwords, $flagged pairs flagged exfil$" "$verdict"
}

agree "every capture at once: 6 hosts, episodes that merge across captures" guessed=1 flagged=2 \
	"${fixtures[@]}"
agree "the sweep across five hosts' captures" sweep-host{1,2,3,4,5}
agree "four of them: port scans of low confidence, no sweep" sweep-host{1,2,3,4}
agree "the logins: failed ones counted, the guessed password's own not" guessed=1 \
	logins-hydra logins-guessed logins-slow logins-benign
agree "the guessed password alone: 7 failures before it" guessed=1 logins-guessed
# At 1 failure the user who mistyped once is let in after it; the logins after
# a guessed password need new failures, so neither's later logins are others.
agree "the guessed passwords at 1 failure: failures used up" failures=1 guessed=2 logins-guessed logins-benign
agree "hydra's connections where logins cannot be told" bruteforce-hydra bruteforce-ssh scan-connect
agree "scan-syn at 997 ports: of low confidence" scan_ports=997 scan-syn
agree "four hosts at 4 targets: a sweep" sweep_hosts=4 sweep-host{1,2,3,4}
agree "the logins at 2 failures" failures=2 logins-benign logins-slow
# Exfiltration: the upload of lives (1,000,003 bytes, PCR 0.991) and the
# beacon's 27 MB; at 10,000 bytes and PCR -0.7 the 12,345 bytes out for
# 67,890 in (PCR -0.692) too, listed beyond the top 3 since flagged.
agree "exfil: the uploads flagged, every pair listed" flagged=2 lives beacons
agree "exfil at the top 3, 10000 bytes, PCR -0.7" exfil_top=3 exfil_min_bytes=10000 exfil_pcr=-0.7 \
	flagged=3 lives beacons
agree "hydra at 5 connections" bruteforce_connections=5 bruteforce-hydra benign-busy

# The last load: every accept of its captures, once.
check_eq "the accepts of the last load, as many as in the captures" \
	"$(($(sql "$SCRATCH/bruteforce-hydra.db" "select count(*) from ev_accept") +
		$(sql "$SCRATCH/benign-busy.db" "select count(*) from ev_accept")))" \
	"$("${client[@]}" --query "SELECT count() FROM cf_accept")"
