# denials: capability checks whose refusal denies nothing (cap_capset's
# CAP_SETPCAP check at every setpriv, ping, capsh) told from real denials,
# and users named from the capture's own account table; on the denials
# fixture (fixtures/record-attacks denials: a user other than root refused
# for real, what each program said in fixtures/denials.truth), and live.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures denials basic
D=$SCRATCH/denials.db

# query SQL ARGS...: `report ARGS --format csv` as table r, and SQL over it
query() {
	local sql=$1
	shift
	run_report "$@" --format csv
	if [ "$rc" != 0 ] || [ ! -s "$SCRATCH/out" ]; then
		echo "status $rc: $(head -c 300 "$SCRATCH/err")"
		return
	fi
	sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "$sql"
}

user=$(q denials "SELECT name FROM account WHERE kind = 'user' AND id = (SELECT DISTINCT uid FROM task WHERE uid != 0)")
check_eq "truth: date, ip and cat were refused, as each said" 3 \
	"$(grep -cE '^(date -s|ip link|cat /etc/shadow): .*(not permitted|Permission denied)' fixtures/denials.truth)"
check_eq "caps: the real denials, by program and capability, for the user by name" \
	"cat|CAP_DAC_OVERRIDE|$user
cat|CAP_DAC_READ_SEARCH|$user
date|CAP_SYS_TIME|$user
ip|CAP_NET_ADMIN|$user
ping|CAP_SETUID|$user" \
	"$(query "SELECT comm, name, user FROM r WHERE section = 'flag' AND flag = 'denied' ORDER BY 1, 2" caps denials.db)"
check_eq "caps: no CAP_SETPCAP among them, though refused" \
	"$(sql "$D" "SELECT count(*) FROM ev_capable WHERE cap = 8 AND ret != 0") 0" \
	"$(sql "$D" "SELECT count(*) FROM ev_capable WHERE cap = 8 AND ret != 0 AND denies = 0") $(query "SELECT count(*) FROM r WHERE section = 'flag' AND name = 'CAP_SETPCAP'" caps denials.db)"
run_report summary denials.db
check_match "summary: the refusals that denied nothing, counted apart" \
	"denied; $(sql "$D" "SELECT count(*) FROM ev_capable WHERE ret != 0 AND denies = 0") refused that denied nothing\\)" \
	"$(cat "$SCRATCH/out")"
check_match "summary: a denial names the user" \
	"denied +date/[0-9]+ \\($user \\(uid [0-9]+\\)\\) CAP_SYS_TIME" "$(cat "$SCRATCH/out")"
check_match "caps: the user histogram by name" "  $user \\(uid [0-9]+\\) +:" \
	"$(run_report caps denials.db; cat "$SCRATCH/out")"
check_match "caps: a capture without accounts says the uid" "  uid 65534 +:" \
	"$(run_report caps basic.db; cat "$SCRATCH/out")"

# --- Denies unknown (fexit without -K, or a recorder before it): CAP_SETPCAP's refusal may be
# cap_capset's, so it is "unknown", never a denial; any other refusal is one.  basic.db's
# recorder kept no denies column.
B=$SCRATCH/basic.db
unsure=$(sql "$B" "SELECT count(*) FROM capable WHERE cap = 8 AND verdict = 'deny' AND audit IS NOT 0")
run_report summary basic.db
check_match "denies unknown: summary says the CAP_SETPCAP refusals' denial is unknown" \
	"\\(checks that audit, or may: [0-9]+, $(sql "$B" "SELECT count(*) FROM capable WHERE verdict = 'deny' AND cap != 8 AND audit IS NOT 0") denied; $unsure refused CAP_SETPCAP, denial unknown \\(no requester recorded\\)\\)" \
	"$(cat "$SCRATCH/out")"
check_eq "denies unknown: ... none of them a denial in summary or caps; capcheck's CAP_SETUID still is" \
	"0|0|CAP_SETUID" \
	"$(grep -c '^  denied .*CAP_SETPCAP' "$SCRATCH/out")|$(query "SELECT count(*) FROM r WHERE name = 'CAP_SETPCAP' AND (section = 'flag' OR denied > 0)" caps -v -n 0 basic.db)|$(query "SELECT group_concat(name) FROM r WHERE section = 'flag'" caps basic.db)"

# --- Live: the accounts snapshot, names and ids only --------------------------------------------
needs_root "denials: record the accounts" || exit 0
db=$SCRATCH/live.db
as_user=(setpriv "--reuid=$test_uid" "--regid=$test_uid" --clear-groups)
start_record "$db" -e capable,process -u "$test_uid" || { fail "denials: record" "did not start"; exit 0; }
"${as_user[@]}" --inh-caps=-all true
for _ in 1 2 3; do "${as_user[@]}" date -s 2020-01-01 > /dev/null 2>&1; done
stop_record
check_eq "record: every user of /etc/passwd, by name and id" \
	"$(awk -F: '$1 !~ /^[#+-]/ && NF > 3 { print $1 "|" $3 }' /etc/passwd | sort)" \
	"$(sql "$db" "SELECT name || '|' || id FROM account WHERE kind = 'user'" | sort)"
check_eq "record: every group of /etc/group" "$(grep -cE '^[^#+-][^:]*:[^:]*:[0-9]+:' /etc/group)" \
	"$(sql "$db" "SELECT count(*) FROM account WHERE kind = 'group'")"
check_eq "record: names and ids only (no password field)" "kind,id,name" \
	"$(sql "$db" "SELECT group_concat(name) FROM pragma_table_info('account')")"

# --- Live: cap_capset's CAP_SETPCAP denies nothing; denials grouped with their span ------------
capping="SELECT count(*) FROM ev_capable WHERE cap = 8 AND ret != 0"
check_match "record: setpriv --inh-caps=-all, a refused CAP_SETPCAP check" "^[1-9][0-9]*$" "$(sql "$db" "$capping")"
check_eq "record: ... every one AUDIT 1, denies 0 (cap_capset's)" "$(sql "$db" "$capping")" \
	"$(sql "$db" "$capping AND audit = 1 AND denies = 0")"
run_report summary live.db
check_match "summary: counted as refused that denied nothing" "denied; $(sql "$db" "$capping") refused that denied nothing\\)" \
	"$(cat "$SCRATCH/out")"
check_eq "summary, caps: CAP_SETPCAP not among the denials" "0|0" \
	"$(grep -c '^  denied .*CAP_SETPCAP' "$SCRATCH/out")|$(query "SELECT count(*) FROM r WHERE name = 'CAP_SETPCAP' AND (section = 'flag' OR denied > 0)" caps -n 0 live.db)"
# the span of date's three refused CAP_SYS_TIME checks, as a table prints it (UTC)
run_report summary live.db
clock() { sql "$db" "SELECT printf('%02d:%02d:%02d.%03d', $1 / 3600000000000 % 24, $1 / 60000000000 % 60, $1 / 1000000000 % 60, $1 / 1000000 % 1000) FROM capable WHERE cap = 25 AND verdict = 'deny'"; }
check_match "summary: three runs of date as one user, one line: the count, first and last" \
	"  denied     date, 3 processes \\(uid $test_uid\\) CAP_SYS_TIME: 3 checks, 3 denied, from $(clock "min(wall_ns)") to $(clock "max(wall_ns)")" \
	"$(cat "$SCRATCH/out")"
run_report caps live.db
check_match "caps: the same line" \
	"  denied     date, 3 processes \\(uid $test_uid\\) CAP_SYS_TIME: 3 checks, 3 denied, from $(clock "min(wall_ns)") to $(clock "max(wall_ns)")" \
	"$(cat "$SCRATCH/out")"
# RFC 3339 with nanoseconds, as JSON and CSV give a time
rfc() { echo "strftime('%Y-%m-%dT%H:%M:%S', $1 / 1000000000, 'unixepoch') || printf('.%09dZ', $1 % 1000000000)"; }
span=$(sql "$db" "SELECT count(DISTINCT pid), count(*), $(rfc "min(wall_ns)"), $(rfc "max(wall_ns)") FROM capable WHERE cap = 25 AND verdict = 'deny'")
check_eq "summary, CSV: one row, its processes, checks, first and last" "$span" \
	"$(query "SELECT processes, count, first, last FROM r WHERE kind = 'denied' AND target = 'CAP_SYS_TIME'" summary live.db)"
check_eq "caps, CSV: the same" "$span" \
	"$(query "SELECT processes, checks, first, last FROM r WHERE flag = 'denied' AND name = 'CAP_SYS_TIME'" caps live.db)"
