# report against an independent oracle: the same questions asked of the
# fixtures in SQL, through the schema's own views, by sqlite3.  What report
# computes in C (time formatting, filters, merging, counts, escaping) must
# agree with what SQL computes on its own.  No root needed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures basic lost unclean web1 web2

# RFC 3339 with nanoseconds, in SQL, from Unix ns
rfc3339="strftime('%Y-%m-%dT%H:%M:%S', wall_ns / 1000000000, 'unixepoch') || '.' || printf('%09d', wall_ns % 1000000000) || 'Z'"

# agree NAME SQL ARGS...: `report ARGS --format csv` (without its header) is
# what sqlite3 -csv prints for SQL on the first file
agree() {
	local name=$1 query=$2
	shift 2
	run_report "$@" --format csv
	tail -n +2 "$SCRATCH/out" > "$SCRATCH/report.csv"
	sqlite3 -batch -csv "$SCRATCH/${*: -1}" "$query" > "$SCRATCH/oracle.csv"
	if [ "$rc" != 0 ]; then
		fail "$name" "status $rc: $(cat "$SCRATCH/err")"
	elif [ ! -s "$SCRATCH/oracle.csv" ]; then
		fail "$name" "the oracle found nothing: a test that cannot fail"
	elif cmp -s "$SCRATCH/oracle.csv" "$SCRATCH/report.csv"; then
		pass "$name"
	else
		fail "$name" "$(diff "$SCRATCH/oracle.csv" "$SCRATCH/report.csv" | head -4 | tr '\n' ' ')"
	fi
}

# These fixtures predate namespaces and cgroup paths: report leaves them empty
# (containers.test.sh checks them on a capture that has them).
no_namespaces="null, null, null"
connect_columns="$rfc3339, ts_ns, 'vm', uid, pid, tid, ppid, comm, cgroup, mntns, $no_namespaces, ip, saddr, lport, daddr, dport, outcome, error, latency_ns"
agree "tcpconnect = the tcpconnect view" \
	"select $connect_columns from tcpconnect order by ts_ns, seq" tcpconnect basic.db
# Values from the fixture: it may be re-recorded.
pid6=$(sql "$SCRATCH/basic.db" "select pid from tcpconnect where ip = 6 limit 1")
ports=$(sql "$SCRATCH/basic.db" "select group_concat(dport) from (select distinct dport from tcpconnect order by dport limit 2)")
since_ns=$(sql "$SCRATCH/basic.db" "select wall_ns from tcpconnect order by ts_ns, seq limit 1 offset 2")
until_ns=$(sql "$SCRATCH/basic.db" "select wall_ns from tcpconnect order by ts_ns, seq limit 1 offset 7")
at() { printf '@%d.%09d' $(($1 / 1000000000)) $(($1 % 1000000000)); }
agree "tcpconnect -6 -p = the view, filtered in SQL" \
	"select $connect_columns from tcpconnect where ip = 6 and pid = $pid6 order by ts_ns, seq" \
	tcpconnect -6 -p "$pid6" basic.db
agree "tcpconnect -P = the view, filtered in SQL" \
	"select $connect_columns from tcpconnect where dport in ($ports) order by ts_ns, seq" \
	tcpconnect -P "$ports" basic.db
agree "tcpconnect --since --until = the view, by wall clock in SQL" \
	"select $connect_columns from tcpconnect where wall_ns between $since_ns and $until_ns order by ts_ns, seq" \
	tcpconnect --since "$(at "$since_ns")" --until "$(at "$until_ns")" basic.db
agree "tcpaccept = the tcpaccept view" \
	"select $rfc3339, ts_ns, 'vm', uid, pid, tid, ppid, comm, cgroup, mntns, $no_namespaces, ip, raddr, rport, laddr, lport from tcpaccept order by ts_ns, seq" \
	tcpaccept basic.db
agree "tcpreset = the tcpreset view" \
	"select $rfc3339, ts_ns, 'vm', uid, tid_pid, tid, ppid, comm_or_null, cgroup, mntns, $no_namespaces, ip, laddr, lport, raddr, rport, state, reason
	 from (select *, case when tid is null then null else pid end as tid_pid,
	              case when tid is null then null else comm end as comm_or_null from tcpreset)
	 order by ts_ns, seq" \
	tcpreset basic.db
capable_columns="$rfc3339, ts_ns, 'vm', uid, pid, tid, ppid, comm, cgroup, mntns, $no_namespaces, cap, name, audit, verdict, userns"
agree "capable -v = the capable view" \
	"select $capable_columns from capable order by ts_ns, seq" capable -v basic.db
agree "capable = the view without the checks that do not audit" \
	"select $capable_columns from capable where audit is not 0 order by ts_ns, seq" capable basic.db
agree "capable --comm -u = the view, filtered in SQL" \
	"select $capable_columns from capable where comm = 'setpriv' and uid = 65534 order by ts_ns, seq" \
	capable -v --comm setpriv -u 65534 basic.db
agree "capable --unique = the first check of each process and capability, in SQL" \
	"select $capable_columns from capable c where seq = (select seq from capable d where d.pid = c.pid and d.cap = c.cap order by ts_ns, seq limit 1) order by ts_ns, seq" \
	capable -v --unique basic.db
agree "tcpconnect -c = GROUP BY in SQL" \
	"select 'vm', saddr, daddr, dport, count(*) from tcpconnect group by saddr, daddr, dport order by count(*) desc, saddr, daddr, dport" \
	tcpconnect -c basic.db

# Several captures: every row of each, in wall-clock order across them.
run_report capable -v --format csv web1.db web2.db
tail -n +2 "$SCRATCH/out" | cut -d, -f1 > "$SCRATCH/times"
check "merge: wall clock never goes back" sort -c "$SCRATCH/times"
check_eq "merge: every row of every capture" \
	"$(($(sql "$SCRATCH/web1.db" "select count(*) from capable") + $(sql "$SCRATCH/web2.db" "select count(*) from capable")))" \
	"$(wc -l < "$SCRATCH/times")"
check_eq "merge: the hosts take turns, as recorded" "web-1 web-2 web-1 web-2" \
	"$(tail -n +2 "$SCRATCH/out" | cut -d, -f3 | uniq | head -4 | tr '\n' ' ' | sed 's/ $//')"

# JSON Lines: every line valid JSON, its strings decoding to the escaped text.
json_check() { # NAME ARGS...: every output line is a JSON object (sqlite's JSON parser)
	local name=$1 bad
	shift
	run_report "$@" --format json
	bad=$(sed "s/'/''/g; s/.*/select json_valid('&') and json_type('&') = 'object';/" "$SCRATCH/out" |
		sqlite3 -batch | grep -vc '^1$')
	if [ "$rc" == 0 ] && [ -s "$SCRATCH/out" ] && [ "$bad" == 0 ]; then
		pass "$name"
	else
		fail "$name" "status $rc, $bad invalid line(s)"
	fi
}
for command in info tcpconnect "tcpconnect -c" tcpaccept tcpreset "capable -v"; do
	# shellcheck disable=SC2086 # the command's words
	json_check "JSON valid: $command" $command web1.db web2.db
done
json_field() { # FIELD: the field of every line of $SCRATCH/out, decoded, one per line
	sed "s/'/''/g; s/.*/select json_extract('&', '\$.$1');/" "$SCRATCH/out" | sqlite3 -batch
}
run_report tcpconnect --format json web1.db web2.db
check_eq "JSON: comm decodes to the escaped text, as in a table" \
	'\x1b]0;pwned\x07 =cmd|"/c",x a\\b\xc3\xa9\xff' \
	"$(json_field comm | grep -v traffic | tr '\n' ' ' | sed 's/ $//')"
check_eq "JSON: numbers are numbers" "integer integer integer" \
	"$(sed -n 1p "$SCRATCH/out" | sed "s/.*/select json_type('&', '\$.pid'), json_type('&', '\$.ts_ns'), json_type('&', '\$.latency_ns');/" | sqlite3 -batch -separator ' ')"
run_report capable -v --format json basic.db
check_eq "JSON: AUDIT true, false or null" "false null true" \
	"$(sed "s/.*/select json_type('&', '\$.audit');/" "$SCRATCH/out" | sqlite3 -batch | sort -u | tr '\n' ' ' | sed 's/ $//')"

# CSV: a CSV reader (sqlite3 .import) gets the escaped text back, a formula as text.
run_report capable -v --format csv web1.db web2.db
(cd "$SCRATCH" && sqlite3 -batch :memory: ".import --csv out t" "select distinct comm from t where comm not in ('setpriv', 'named', 'traffic', 'capcheck') order by comm") > "$SCRATCH/comms"
check_eq "CSV: comm read back: a formula made text, the others escaped" \
	"'=cmd|\"/c\",x \\x1b]0;pwned\\x07 a\\\\b\\xc3\\xa9\\xff" "$(tr '\n' ' ' < "$SCRATCH/comms" | sed 's/ $//')"

# Nothing from a capture reaches the terminal raw: no control byte, nothing but ASCII.
raw=0 failed=""
for args in "tcpconnect" "capable -v -x" "tcpconnect --format json" "capable -v --format csv" "tcpconnect -c" "info"; do
	# shellcheck disable=SC2086 # the command's words
	run_report $args web1.db web2.db
	if [ "$rc" != 0 ] || [ ! -s "$SCRATCH/out" ]; then
		failed+="$args: status $rc, $(wc -l < "$SCRATCH/out") lines; "
	fi
	LC_ALL=C grep -q '[^[:print:][:space:]]' "$SCRATCH/out" && raw=$((raw + 1))
done
check_eq "every command over the hostile names: status 0, something printed" "" "$failed"
check_eq "no control or non-ASCII byte in any output" 0 "$raw"
check_eq "... though the capture holds them" 1 \
	"$(sql "$SCRATCH/web1.db" "select count(*) from task where instr(comm, char(27)) group by comm" | head -1)"
