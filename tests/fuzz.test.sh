# report against hostile captures: the fuzzer's findings, each with a test
# that fails without its fix, then every input kept in tests/fuzz-regressions/
# (and the fuzzer's seeds) replayed in this build (its sanitizers, if any).
# No root needed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures stacks losses
replay=$BUILD/tests/report-fuzz-replay

# --- A capture's schema is data, not code report runs ---------------------------
# An event table replaced by a recursive view would never end (and sort
# forever in temporary files): refused at once.
cp "$SCRATCH/stacks.db" "$SCRATCH/view.db"
sql "$SCRATCH/view.db" "drop table ev_capable; create view ev_capable as with recursive r(i) as
	(select 1 union all select i + 1 from r) select i as t, i as seq, 1 as task, 7 as cap, 0 as ret,
	0 as userns_level, 1 as audit from r"
SECONDS=0
refused "an event table that is a recursive view: refused" capable view.db
check_eq "... at once, named" "report: view.db is not a Casefile capture (its ev_capable is a view)|0" \
	"$(cat "$SCRATCH/err")|$((SECONDS > 5))"
cp "$SCRATCH/stacks.db" "$SCRATCH/view.db"
sql "$SCRATCH/view.db" "drop table task; create view task as select 1 as id, 2 as pid, 2 as tid, 1 as ppid,
	0 as uid, 'x' as comm, 1 as cgroup, 1 as mntns"
refused "any of the schema's tables as a view: refused (task)" tcpaccept view.db

# An event table without its key would make SQLite sort it whole: refused.
cp "$SCRATCH/stacks.db" "$SCRATCH/keyless.db"
sql "$SCRATCH/keyless.db" "pragma legacy_alter_table = on; create table c2 (t integer not null, seq integer not null,
	task integer, cap integer not null, ret integer not null, userns_level integer not null, audit integer);
	insert into c2 select * from ev_capable; drop table ev_capable; alter table c2 rename to ev_capable"
refused "an event table without its primary key: refused" capable -v keyless.db
check_match "... named" "its ev_capable is without the format's primary key" "$(cat "$SCRATCH/err")"

# A value longer than any a capture holds (here a generated column of 400 MB
# in place of comm) is refused before it is made.
cp "$SCRATCH/stacks.db" "$SCRATCH/huge.db"
sql "$SCRATCH/huge.db" "pragma legacy_alter_table = on; create table t2 (id integer primary key, pid, tid, ppid, uid,
	comm as (hex(zeroblob(200000000))), cgroup, mntns);
	insert into t2 (id, pid, tid, ppid, uid, cgroup, mntns) select id, pid, tid, ppid, uid, cgroup, mntns from task;
	drop table task; alter table t2 rename to task"
refused "a 400 MB value: refused" capable huge.db
check_match "... as a generated column" "its task.comm is a generated or hidden column" "$(cat "$SCRATCH/err")"

# --- Absurd clocks: one line, not arithmetic overflowing (UBSan found info's) ----------
cp "$SCRATCH/stacks.db" "$SCRATCH/clock.db"
sql "$SCRATCH/clock.db" "update capture set started_at_ns = -9223372036854775807"
for command in info capable; do
	refused "$command: a capture started before 1970, by 292 years" "$command" clock.db
done
check_eq "... named" "report: clock.db: cannot read the capture's metadata: corrupt capture: a clock out of range" \
	"$(cat "$SCRATCH/err")"
cp "$SCRATCH/stacks.db" "$SCRATCH/clock.db"
sql "$SCRATCH/clock.db" "update capture set realtime_offset_ns = 9223372036854775807"
refused "info: a clock offset beyond 2116" info clock.db
cp "$SCRATCH/stacks.db" "$SCRATCH/clock.db"
sql "$SCRATCH/clock.db" "update ev_capable set t = 9223372036854775000 where seq = (select max(seq) from ev_capable)"
run_report capable -v clock.db
check_eq "an event whose time overflows: status 1, one line, after the events before it" \
	"1|report: clock.db: cannot read ev_capable: corrupt capture: a time out of range|$(($(sql "$SCRATCH/clock.db" "select count(*) from ev_capable") - 1))" \
	"$rc|$(cat "$SCRATCH/err")|$(grep -c '^[0-9]' "$SCRATCH/out")"
run_report tcpconnect -t --since +1s clock.db
check_eq "... not read at all when --since/--until leave it out" "0|" "$rc|$(cat "$SCRATCH/err")"

# --- Values of the wrong type, or none -----------------------------------------------
# (UBSan: an empty text read as a zero-length blob has no bytes at all, and
# copying from it was undefined)
cp "$SCRATCH/stacks.db" "$SCRATCH/types.db"
sql "$SCRATCH/types.db" "update task set comm = x'' where id = (select min(task) from ev_capable);
	update address set addr = x''"
run_report capable -v -x types.db
check_eq "an empty process name, as a zero-length blob: read, shown empty" "0|" "$rc|$(cat "$SCRATCH/err")"
run_report tcpconnect types.db
check_eq "... empty addresses too" "0|" "$rc|$(cat "$SCRATCH/err")"
# A number stored as text or a fraction would read as a wrong number: refused.
cp "$SCRATCH/stacks.db" "$SCRATCH/types.db"
sql "$SCRATCH/types.db" "update task set pid = 'abc'"
refused "a process id that is text: refused" capable types.db
check_match "... named" "cannot read task [0-9]+: corrupt capture: a number that is not one" "$(cat "$SCRATCH/err")"
cp "$SCRATCH/stacks.db" "$SCRATCH/types.db"
sql "$SCRATCH/types.db" "update ev_connect set dport = 80.5"
refused "a port that is a fraction: refused" tcpconnect types.db
check_eq "... named" "report: types.db: cannot read ev_connect: corrupt capture: a number that is not one" \
	"$(cat "$SCRATCH/err")"

# Counts per kind beyond any capture (the fuzzer: summary's sum overflowed).
cp "$SCRATCH/stacks.db" "$SCRATCH/counts.db"
sql "$SCRATCH/counts.db" "update event_kind set recorded = 9223372036854775806 where name = 'capable'"
for command in info summary capable; do
	refused "$command: a count of records beyond 2^48" "$command" counts.db
done
check_eq "... named" "report: counts.db: cannot read the event kinds: corrupt capture: a count out of range" \
	"$(cat "$SCRATCH/err")"
cp "$SCRATCH/stacks.db" "$SCRATCH/counts.db"
sql "$SCRATCH/counts.db" "update event_kind set lost = 'many'"
refused "a count that is text: refused" info counts.db

# Losses by time and process the capture cannot have had: refused before
# anything is printed, named after the warning of its losses.
for damage in "update loss set kind = 'nothing'|a loss of a kind it does not have" \
	"update loss set last_t = first_t - 1|a loss interval out of range" \
	"update loss set last_t = 4611686018427387904|a loss interval out of range" \
	"update process_loss set count = -5|a count out of range" \
	"update process_loss set comm = hex(randomblob(64))|a process out of range"; do
	cp "$SCRATCH/losses.db" "$SCRATCH/damaged.db"
	sql "$SCRATCH/damaged.db" "${damage%|*}"
	for command in info "info --format json" summary "summary --format csv" "html -o damaged.html"; do
		# shellcheck disable=SC2086 # the command and its options
		run_report $command damaged.db
		check_eq "${damage%|*}: $command refuses, nothing on stdout, the damage named" \
			"1::report: damaged.db: cannot read its losses: corrupt capture: ${damage#*|}" \
			"$rc:$(cat "$SCRATCH/out"):$(grep -v 'the recorder lost records' "$SCRATCH/err")"
	done
done

# --- What report says on stderr is rendered too: file names, SQLite's words ---------
# (the fuzzer named a file with a newline in it: one line became two)
run_report info "$(printf 'a\033]0;x\007\nb.db')"
check_eq "a file name with control bytes, in a message: rendered" \
	'report: cannot open a\x1b]0;x\x07\x0ab.db: No such file or directory' "$(cat "$SCRATCH/err")"
cp "$SCRATCH/stacks.db" "$SCRATCH/schema.db"
sql "$SCRATCH/schema.db" "pragma writable_schema = on;
	update sqlite_schema set sql = 'create table x' || char(27) || ']0;pwned' || char(7) || ' (' where name = 'tcp_state'"
refused "a capture whose schema SQLite cannot read" tcpreset -r schema.db
check_match "... SQLite's message quotes it, rendered" 'unrecognized token: "\\x1b"' "$(cat "$SCRATCH/err")"
check_eq "... no control byte on stderr" 0 "$(LC_ALL=C grep -c '[^ -~]' "$SCRATCH/err")"

# --- Nothing from a capture or a command line is SQL, a format or a control sequence ---
# (The build holds report's printf-like functions to the format attribute, so
# that -Wformat=2 -Werror refuses any format not a literal; scripts/lint, that
# report prepares only its own SQL.)
# Values with SQL in them, from the capture and from the command line, are data.
cp "$SCRATCH/stacks.db" "$SCRATCH/inject.db"
sql "$SCRATCH/inject.db" "update task set comm = 'x'' OR ''1''=''1' where id = (select min(task) from ev_capable);
	update capture set hostname = ''' ; DROP TABLE task ; --'"
before=$(sha256sum < "$SCRATCH/inject.db")
run_report capable -v --comm "x' OR '1'='1" inject.db
check_eq "--comm with SQL in it: exactly the process of that name" \
	"$(sql "$SCRATCH/inject.db" "select count(*) from ev_capable where task = (select min(task) from ev_capable)")" \
	"$(grep -c " x' OR '1'='1 " "$SCRATCH/out")"
run_report capable -v --comm "' OR 1=1 --" inject.db
check_eq "... and none for SQL that would match everything" "0|0" "$rc|$(grep -c '^[0-9]' "$SCRATCH/out")"
run_report info inject.db
check_match "a host name with SQL in it: printed as it is" "host +' ; DROP TABLE task ; --" "$(cat "$SCRATCH/out")"
check_eq "... the capture unchanged" "$before" "$(sha256sum < "$SCRATCH/inject.db")"

# Values with formats in them, from the capture and from the command line, are text.
format='%s%n%x%99999999d%p'
cp "$SCRATCH/stacks.db" "$SCRATCH/format.db"
sql "$SCRATCH/format.db" "update task set comm = '$format' where id = (select min(task) from ev_capable);
	update capture set hostname = '$format', kernel_release = '$format';
	update stack_frame set symbol = '$format' where depth = 0 and symbol is not null;
	update cap_name set name = '$format' where cap = 8"
named=$(sql "$SCRATCH/format.db" "select count(*) from ev_capable where task = (select min(task) from ev_capable)")
for output in table json csv; do
	run_report capable -v --comm "$format" --format "$output" format.db
	# A table cuts COMM as BCC's capable does (%-16.16s); JSON and CSV carry it whole.
	shown=$([ "$output" = table ] && echo "${format:0:16}" || echo "$format")
	check_eq "--comm with a format in it ($output): status 0, exactly the $named checks of that name" "0|$named" \
		"$rc|$(grep -cF -- "$shown" "$SCRATCH/out")"
done
run_report capable -v -K --format json format.db
head -1 "$SCRATCH/out" > "$SCRATCH/line.json"
check_eq "... as are the formats in a capture's names and symbols (JSON, decoded)" \
	"0|$format|$format|$format" \
	"$rc|$(sqlite3 -batch :memory: "select json_extract(j, '\$.comm') || '|' || json_extract(j, '\$.name') || '|' ||
		json_extract(j, '\$.kernel_stack[0]') from (select cast(readfile('$SCRATCH/line.json') as text) as j)" |
		sed -E 's/\+0x[0-9a-f]+ \[kernel\]$//')"
run_report info format.db
check_match "... a host name and a kernel with formats in them: printed as they are" \
	"host +%s%n%x%99999999d%p.*kernel +Linux %s%n%x%99999999d%p" "$(tr '\n' ' ' < "$SCRATCH/out")"

# Control sequences: a capture where every text holds every byte.  Every
# command and format prints only printable ASCII (and newlines), JSON no
# < > & (HTML), CSV no cell that a spreadsheet would run.
cp "$SCRATCH/stacks.db" "$SCRATCH/bytes.db"
chunks=$(for k in 0 1 2 3; do printf "($k, X'%s')," "$(printf '%02x' $(seq $((k * 64)) $((k * 64 + 63))) | tr -d ' ')"; done)
sql "$SCRATCH/bytes.db" "
	create table b (k integer primary key, v blob);
	insert into b values ${chunks%,};
	update task set comm = cast((select v from b where k = task.id % 4) as text);
	update capture set hostname = '=<b>&' || cast((select v from b where k = 0) as text),
		kernel_release = cast((select v from b where k = 3) as text),
		command_line = cast((select group_concat(v, '') from b) as text);
	update stack_frame set symbol = '=<script>&' || cast((select v from b where k = depth % 4) as text) where symbol is not null;
	update module set name = cast((select v from b where k = id % 4) as text), build_id = '@' || cast((select v from b where k = 2) as text);
	update cap_name set name = '+' || cast(substr((select v from b where k = cap % 4), 1, 60) as text);
	drop table b;"
check_eq "the hostile capture holds every byte in its process names" 256 \
	"$(sql "$SCRATCH/bytes.db" "select count(distinct substr(cast(comm as blob), i, 1)) from task, (with recursive n(i) as (select 1 union all select i + 1 from n where i < 64) select i from n)")"
# csv_formulas FILE: cells a spreadsheet would run (= + @, or - then not a digit)
csv_formulas() {
	local where
	rm -f "$SCRATCH/csv.db"
	sqlite3 -batch "$SCRATCH/csv.db" ".import --csv $1 t"
	where=$(sqlite3 -batch "$SCRATCH/csv.db" "select group_concat(printf('(\"%w\" glob ''[=+@]*'' or (\"%w\" glob ''-*'' and \"%w\" not glob ''-[0-9]*''))', name, name, name), ' or ') from pragma_table_info('t')")
	sqlite3 -batch "$SCRATCH/csv.db" "select count(*) from t where $where"
}
unsafe=0 csv_formula=0 json_html=0 runs=0
for args in "info" "info --format json" "info --format csv" "tcpconnect -K --user-stack -o" "tcpconnect --format json -K" \
	"tcpconnect --format csv --user-stack" "tcpaccept -t" "tcpreset -r -K -U --format csv" "capable -v -x -K -U" \
	"capable -v --format json -K -U" "capable -v --format csv -K -U" "capable -v --folded" "tcpconnect --folded"; do
	# shellcheck disable=SC2086 # the words
	run_report $args bytes.db
	runs=$((runs + 1))
	[ "$rc" == 0 ] || fail "hostile bytes: $args" "status $rc: $(head -c 200 "$SCRATCH/err")"
	LC_ALL=C grep -q '[^ -~]' "$SCRATCH/out" "$SCRATCH/err" && unsafe=$((unsafe + 1))
	[[ "$args" == *json* ]] && grep -q '[<>&]' "$SCRATCH/out" && json_html=$((json_html + 1))
	[[ "$args" == *csv* ]] && [ "$(csv_formulas "$SCRATCH/out")" != 0 ] && csv_formula=$((csv_formula + 1))
done
check_eq "hostile bytes in every text: $runs reports print only printable ASCII" 0 "$unsafe"
check_eq "... JSON no < > & (\\u003c...)" 0 "$json_html"
check_eq "... CSV no cell starting with = + - @" 0 "$csv_formula"
# render HEX: the capture's bytes as report escapes them (\\ and \xHH), in bash
render() {
	local hex=$1 out="" i byte
	for ((i = 0; i < ${#hex}; i += 2)); do
		byte=$((16#${hex:i:2}))
		# shellcheck disable=SC1003,SC2059 # two backslashes; the byte, as printf's octal escape
		if ((byte == 92)); then out+='\\'
		elif ((byte >= 32 && byte <= 126)); then out+=$(printf "\\$(printf '%03o' $byte)")
		else out+=$(printf '\\x%s' "$(echo "${hex:i:2}" | tr 'A-F' 'a-f')"); fi
	done
	printf '%s' "$out"
}
run_report capable -v --format json bytes.db
head -1 "$SCRATCH/out" > "$SCRATCH/line.json"
check_eq "... JSON, decoded, is the capture's bytes escaped (\\\\ and \\xHH): nothing lost" \
	"$(render "$(sql "$SCRATCH/bytes.db" "select hex(comm) from capable order by ts_ns, seq limit 1")")" \
	"$(sqlite3 -batch :memory: "select json_extract(cast(readfile('$SCRATCH/line.json') as text), '\$.comm')")"

# --- Every input the fuzzer ever crashed on, and its seeds, replayed --------------
inputs=$(find tests/fuzz-regressions tests/fuzz/seeds -type f ! -name '.*' | wc -l)
timeout 300 "$replay" tests/fuzz-regressions tests/fuzz/seeds > "$SCRATCH/out" 2> "$SCRATCH/err"
check_eq "the fuzzer's regressions and seeds replayed ($inputs), status 0" \
	"0|report-fuzz: $inputs inputs replayed" "$?|$(tail -1 "$SCRATCH/err")"
