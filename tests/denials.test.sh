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

# --- Live: the accounts snapshot, names and ids only --------------------------------------------
needs_root "denials: record the accounts" || exit 0
db=$SCRATCH/live.db
start_record "$db" -e capable -u "$test_uid" || { fail "denials: record" "did not start"; exit 0; }
stop_record
check_eq "record: every user of /etc/passwd, by name and id" \
	"$(awk -F: '$1 !~ /^[#+-]/ && NF > 3 { print $1 "|" $3 }' /etc/passwd | sort)" \
	"$(sql "$db" "SELECT name || '|' || id FROM account WHERE kind = 'user'" | sort)"
check_eq "record: every group of /etc/group" "$(grep -cE '^[^#+-][^:]*:[^:]*:[0-9]+:' /etc/group)" \
	"$(sql "$db" "SELECT count(*) FROM account WHERE kind = 'group'")"
check_eq "record: names and ids only (no password field)" "kind,id,name" \
	"$(sql "$db" "SELECT group_concat(name) FROM pragma_table_info('account')")"
