# report -K, -U, --folded: stacks from the capture alone.  Checked against the
# fixture in SQL, on corrupt stack rows, with a cache too small for the
# capture, without the analysis machine's /proc and /sys and without the
# recorded program; then live (root): record a known call chain, delete the
# program, and report names its functions and the kernel path.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures stacks basic web1
plain_build() { ! ldd "$report" | grep -q libasan; }

# --- The frames, as SQL computes them from the fixture (an independent oracle) ---
# A frame line as report prints it: "sym+0xoff [module]" (a user module by its
# basename), "[unknown] (path+0xoffset, build-id X)", "[unknown] (0xip)".
basename_sql="replace(m.name, rtrim(m.name, replace(m.name, '/', '')), '')"
frame_sql="'        ' || case
	when f.symbol is not null then f.symbol || printf('+0x%x', f.symbol_offset) ||
		case when m.id is null then '' when st.user = 1 then ' [' || $basename_sql || ']' else ' [' || m.name || ']' end
	when m.id is null then printf('[unknown] (0x%x)', f.ip)
	else '[unknown] (' || m.name || printf('+0x%x', f.offset) || coalesce(', build-id ' || m.build_id, '') ||
		case when m.deleted then ', deleted' else '' end || ')' end"
# frames KIND: every frame line of the capable checks shown (AUDIT not 0), in order
oracle_frames() {
	sql "$SCRATCH/stacks.db" "select $frame_sql from capable c join event_stack s on s.seq = c.seq
		join stack st on st.id = s.$1 join stack_frame f on f.stack = st.id left join module m on m.id = f.module
		where c.audit is not 0 order by c.ts_ns, c.seq, f.depth"
}
run_report capable -K stacks.db
check_eq "capable -K: status 0, nothing on stderr" "0|" "$rc|$(cat "$SCRATCH/err")"
grep '^        ' "$SCRATCH/out" > "$SCRATCH/frames"
oracle_frames kstack > "$SCRATCH/oracle"
check "capable -K: every kernel frame line is SQL's, in order" cmp "$SCRATCH/oracle" "$SCRATCH/frames"
check_match "... and there are many" "^[1-9][0-9]+$" "$(wc -l < "$SCRATCH/frames")"
run_report capable -U stacks.db
grep '^        ' "$SCRATCH/out" > "$SCRATCH/frames"
oracle_frames ustack > "$SCRATCH/oracle"
check "capable -U: every user frame line is SQL's, in order" cmp "$SCRATCH/oracle" "$SCRATCH/frames"
check_match "... resolved ones with their module's basename" "casefile_inner\+0x[0-9a-f]+ \[a.out\]" "$(cat "$SCRATCH/frames")"
# (whether the recorder named a libc frame depends on a race: one is made so)
cp "$SCRATCH/stacks.db" "$SCRATCH/unnamed.db"
sql "$SCRATCH/unnamed.db" "update stack_frame set symbol = null where symbol = 'casefile_middle'"
run_report capable -U unnamed.db
check_match "... a frame of a known module no symbol names: its path, offset and build-id" \
	"        casefile_inner\+0x[0-9a-f]+ \[a.out\]
        \[unknown\] \(/[^ ]*/a\.out\+0x[0-9a-f]+, build-id [0-9a-f]{40}(, deleted)?\)
        casefile_outer" "$(cat "$SCRATCH/out")"

# --folded, against SQL: comm;user frames (outermost first);kernel frames count
names_sql() { # STACK_COLUMN: the frame names of that stack, outermost first
	echo "(select group_concat(name, ';') from (select coalesce(f.symbol, '[' || $basename_sql || ']', '[unknown]') as name
		from stack_frame f left join module m on m.id = f.module where f.stack = s.$1 order by f.depth desc))"
}
sql "$SCRATCH/stacks.db" "select line || ' ' || count(*) from (select c.comm || ';' ||
	coalesce($(names_sql ustack), '[no user stack]') || ';' || coalesce($(names_sql kstack), '[no kernel stack]') as line
	from capable c left join event_stack s on s.seq = c.seq) group by line" | sort > "$SCRATCH/oracle"
run_report capable -v --folded stacks.db
sort "$SCRATCH/out" > "$SCRATCH/folded"
check "capable -v --folded: SQL's folded stacks" cmp "$SCRATCH/oracle" "$SCRATCH/folded"
check_eq "... every check counted" "$(sql "$SCRATCH/stacks.db" "select count(*) from capable")" \
	"$(awk '{ n += $NF } END { print n }' "$SCRATCH/out")"
for args in "--folded" "-v --folded -K" "--folded -U -p $(sql "$SCRATCH/stacks.db" "select pid from capable limit 1")"; do
	# shellcheck disable=SC2086 # the words
	run_report capable $args stacks.db
	mv "$SCRATCH/out" "$SCRATCH/capable.out"
	# shellcheck disable=SC2086
	run_report caps $args stacks.db
	check "caps $args: the same folded stacks as capable $args" cmp "$SCRATCH/capable.out" "$SCRATCH/out"
done
refused "caps -K without --folded" caps -K stacks.db

# --- --unique, as BCC's: one check per capability and process, and per stack shown -------
# unique_sql STACKS: the distinct (process, capability, stacks) of the checks, in SQL
unique_sql() {
	sql "$SCRATCH/stacks.db" "select count(*) from (select distinct c.pid, c.cap, $1
		from capable c left join event_stack s on s.seq = c.seq)"
}
unique_rows() {
	run_report capable -v --unique --format csv "$@" stacks.db
	echo $(($(wc -l < "$SCRATCH/out") - 1))
}
check_eq "capable --unique: one line per process and capability" "$(unique_sql 1)" "$(unique_rows)"
check_eq "capable --unique -U: one per distinct user stack too" \
	"$(unique_sql "coalesce(s.ustack, -1)")" "$(unique_rows -U)"
check_eq "capable --unique -K: one per distinct kernel stack too" \
	"$(unique_sql "coalesce(s.kstack, -1)")" "$(unique_rows -K)"
check_eq "capable --unique -K -U: one per distinct pair of stacks" \
	"$(unique_sql "coalesce(s.kstack, -1), coalesce(s.ustack, -1)")" "$(unique_rows -K -U)"
busiest=$(sql "$SCRATCH/stacks.db" "select c.pid from capable c join event_stack s on s.seq = c.seq where c.cap = 21 group by c.pid order by count(distinct s.ustack) desc limit 1")
check_eq "... a process with 6 distinct CAP_SYS_ADMIN user stacks prints 6 with -U" \
	"6|1" "$(run_report capable -v --unique -U --format csv -p "$busiest" stacks.db
		sqlite3 -batch :memory: ".import --csv $SCRATCH/out r" "select sum(cap = 21), count(distinct pid) from r where cap = 21")"

# --- What a capture lacks, said once ---------------------------------------------
run_report capable -K -U basic.db
check_eq "a capture without stacks: said once, the report still runs" \
	"0|report: basic.db: no kernel or user stacks in this capture (record -K -U takes them)" \
	"$rc|$(cat "$SCRATCH/err")"
check_eq "... each event says it has none" "$(grep -c '^[0-9]' "$SCRATCH/out") $(grep -c '^[0-9]' "$SCRATCH/out")" \
	"$(grep -c '^        \[no kernel stack\]$' "$SCRATCH/out") $(grep -c '^        \[no user stack\]$' "$SCRATCH/out")"
run_report tcpaccept -K stacks.db
check_eq "accepts recorded without :stack: each says so, nothing on stderr (the capture has kernel stacks)" \
	"$(sql "$SCRATCH/stacks.db" "select count(*) from ev_accept")|" "$(grep -c '^        \[no kernel stack\]$' "$SCRATCH/out")|$(cat "$SCRATCH/err")"
run_report capable -K --format json basic.db
check_eq "JSON: null where an event has no stack" "$(wc -l < "$SCRATCH/out")" \
	"$(grep -c '"kernel_stack":null}$' "$SCRATCH/out")"
run_report capable -K --format json stacks.db
check_eq "JSON: an array of frames where it has one" "$(wc -l < "$SCRATCH/out")" \
	"$(grep -c '"kernel_stack":\["cap_capable+0x[0-9a-f]* \[kernel\]",' "$SCRATCH/out")"
check_eq "JSON: no user_stack key without -U" 0 "$(grep -c user_stack "$SCRATCH/out")"

# --- Options ------------------------------------------------------------------------
refused "--folded with --format json" capable --folded --format json stacks.db
refused "--folded with --format csv" tcpreset --folded --format csv stacks.db
refused "--folded with a column option (-x)" capable --folded -x stacks.db
refused "--folded with a column option (-t)" tcpaccept --folded -t stacks.db
refused "--folded with a column option (-r)" tcpreset --folded -r stacks.db
refused "--folded with tcpconnect -c" tcpconnect --folded -c stacks.db
refused "tcpconnect -c with -K" tcpconnect -c -K stacks.db
check_eq "tcpconnect -c with --user-stack: named" \
	"report: tcpconnect: -c counts: it takes no -t, -T, -L, -U, -o, -d, -l, -K or --user-stack" \
	"$(run_report tcpconnect -c --user-stack stacks.db; cat "$SCRATCH/err")"
run_report tcpconnect -U stacks.db
check_match "tcpconnect -U is still BCC's UID column" "^PID +COMM +IP +SADDR +DADDR +DPORT +UID|^UID +PID" "$(head -1 "$SCRATCH/out")"
check_eq "... with no stacks" 0 "$(grep -c '^        ' "$SCRATCH/out")"
for command in capable tcpconnect tcpaccept tcpreset caps; do
	run_report $command --help
	check_match "$command --help: --folded" "--folded" "$(tr '\n' ' ' < "$SCRATCH/out")"
	run_report $command --folded --kernel-stack --user-stack stacks.db
	check_eq "$command --folded with both long options: both halves" "0" "$rc"
done

# --- Corrupt stack rows: one line, status 1, never a crash or a wrong frame ---------
# corrupt NAME SQL ERROR-REGEX: a copy of the fixture changed by SQL, reported
# with -K -U, table and folded
corrupt() {
	cp "$SCRATCH/stacks.db" "$SCRATCH/bad.db"
	sql "$SCRATCH/bad.db" "$2"
	for args in "capable -v -K -U" "capable -v --folded"; do
		# shellcheck disable=SC2086 # the words
		run_report $args bad.db
		if [ "$rc" == 1 ] && [ "$(wc -l < "$SCRATCH/err")" == 1 ] && grep -Eq "^report: bad.db:? $3" "$SCRATCH/err"; then
			pass "corrupt stacks, $1: $args: one line, status 1"
		else
			fail "corrupt stacks, $1: $args" "status $rc: $(head -c 300 "$SCRATCH/err" | tr '\n' ' ')"
		fi
	done
}
first_k="(select min(seq) from event_stack where kstack is not null)"
corrupt "a stack that is not there" "update event_stack set kstack = 99999 where seq = $first_k" \
	"cannot read stack 99999: corrupt capture: not there"
corrupt "a kernel reference to a user stack" "update event_stack set kstack = ustack where seq = $first_k" \
	"cannot read stack [0-9]+: corrupt capture: not a kernel stack"
corrupt "a frame missing" "delete from stack_frame where depth = 2 and stack = (select kstack from event_stack where seq = $first_k)" \
	"cannot read stack [0-9]+: corrupt capture: its frames are not numbered"
corrupt "fewer frames than it says" "update stack set frames = frames + 1 where id = (select kstack from event_stack where seq = $first_k)" \
	"cannot read stack [0-9]+: corrupt capture: frames are missing"
corrupt "more frames than it says" "update stack set frames = frames - 1 where id = (select kstack from event_stack where seq = $first_k)" \
	"cannot read stack [0-9]+: corrupt capture: more frames than it says"
corrupt "an absurd number of frames" "update stack set frames = 1000000" \
	"cannot read stack [0-9]+: corrupt capture: too many frames"
corrupt "a stack reference that is text" "update event_stack set kstack = 'x' || kstack where seq = $first_k" \
	"cannot read ev_capable: corrupt capture: a number that is not one"
corrupt "a frame's address that is text" "update stack_frame set ip = 'x' where depth = 0" \
	"cannot read stack [0-9]+: corrupt capture: a frame's number is not a number"
corrupt "a module that is not there" "delete from module where name = 'kernel'" \
	"cannot read stack [0-9]+: corrupt capture: a frame's module is not there"
corrupt "a stack table missing" "drop table module" \
	"cannot read its stacks: corrupt capture: some stack tables are missing"
corrupt "a stack table of other columns" "drop table stack; create table stack (id integer primary key, kind text)" \
	"is not a Casefile capture \(its stack.kind is not a column of the format\)"
corrupt "event_stack not keyed on seq (an event would come out twice)" \
	"create table es (seq integer, kstack integer, ustack integer); insert into es select * from event_stack;
	insert into es select * from event_stack; drop table event_stack; alter table es rename to event_stack" \
	"is not a Casefile capture \(its event_stack is without the format's primary key\)"

# Hostile text in frames: escaped in every format, ';' too in folded stacks.
cp "$SCRATCH/stacks.db" "$SCRATCH/hostile.db"
sql "$SCRATCH/hostile.db" "update stack_frame set symbol = char(27) || ']0;pwned' || char(7) || '\"=x,y%s%n\\' where symbol = 'casefile_inner';
	update module set name = '/tmp/a;b' || char(10) || 'c' where name like '%a.out'"
run_report capable -U hostile.db
check_match "hostile symbol and module in a table: escaped" \
	"^        \\\\x1b\]0;pwned\\\\x07\"=x,y%s%n\\\\\\\\\+0x[0-9a-f]+ \[a;b\\\\x0ac\]$" "$(grep pwned "$SCRATCH/out" | head -1)"
run_report capable -U --format json hostile.db
check_match "... in JSON: escaped and quoted" \
	'"\\\\x1b\]0;pwned\\\\x07\\"=x,y%s%n\\\\\\\\\+0x[0-9a-f]+ \[a;b\\\\x0ac\]"' "$(grep -o '"[^"]*pwned[^]]*]"' "$SCRATCH/out" | head -1)"
run_report capable -U --format csv hostile.db
check_match "... in CSV: quoted, its quote doubled" \
	',"[^"]*\\x1b\]0;pwned\\x07""=x,y%s%n\\\\\+0x[0-9a-f]+ \[a;b\\x0ac\]' "$(grep pwned "$SCRATCH/out" | head -1)"
run_report capable --folded -U hostile.db
check_match "... folded: ';' escaped, so frames stay frames" \
	";\\\\x1b\]0\\\\x3bpwned\\\\x07\"=x,y%s%n\\\\\\\\ [0-9]+$" "$(grep pwned "$SCRATCH/out")"
cp "$SCRATCH/stacks.db" "$SCRATCH/formula.db"
sql "$SCRATCH/formula.db" "update stack_frame set symbol = '=cmd|x' where depth = 0 and stack in (select kstack from event_stack)"
run_report capable -K --format csv formula.db
check_match "a CSV stack cell starting with = is made text" ",\"'=cmd\|x\+0x" "$(sed -n 2p "$SCRATCH/out")"

# --- A capture with more distinct stacks than the cache holds --------------------------
# 6000 kernel stacks of one 4000-byte frame each, every one referenced by two
# checks far apart: slots are reused and the byte budget overflows, yet every
# frame printed is right, and memory stays bounded.
cp "$SCRATCH/stacks.db" "$SCRATCH/many.db"
sql "$SCRATCH/many.db" "
	with recursive n(i) as (select 1 union all select i + 1 from n where i < 6000)
	insert into stack (id, user, frames) select 100000 + i, 0, 1 from n;
	insert into stack_frame (stack, depth, ip, module, offset, symbol, symbol_offset)
		select id, 0, -1, 1, -1, printf('f%d_%.3990c', id, 'x'), 1 from stack where id > 100000;
	with recursive n(i) as (select 1 union all select i + 1 from n where i < 12000)
	insert into ev_capable (t, seq, task, cap, ret, userns_level, audit)
		select 1000000000 + i, 1000000 + i, (select min(id) from task), 21, 0, 0, 1 from n;
	insert into event_stack (seq, kstack) select seq, 100000 + 1 + (seq - 1000001) % 6000 from ev_capable where seq > 1000000;"
run_report capable -K many.db
grep -o '^        f[0-9]*_' "$SCRATCH/out" | tail -n 12000 > "$SCRATCH/frames"
sql "$SCRATCH/many.db" "select '        f' || kstack || '_' from event_stack where seq > 1000000 order by seq" > "$SCRATCH/oracle"
check "6000 stacks over a cache of 4096 slots and 16 MiB: every frame right" cmp "$SCRATCH/oracle" "$SCRATCH/frames"
if plain_build; then
	(cd "$SCRATCH" && prlimit --data=$((96 << 20)) "$report" capable -K many.db > /dev/null 2> "$SCRATCH/err")
	check_eq "... within 96 MiB of data (the stacks' text is some 48 MiB twice over)" "0|" "$?|$(cat "$SCRATCH/err")"
else
	skip "... within 96 MiB of data" "a sanitizer's shadow memory is beyond any such limit (the plain build runs it)"
fi

# --- From the capture alone ---------------------------------------------------------------
# The fixture's program (a.out in a directory deleted before the dump), named
# without /proc and /sys (no kallsyms), and nothing opened but the capture.
check_eq "the fixture's program is gone" "" \
	"$(sql "$SCRATCH/stacks.db" "select name from module where name like '%/a.out'" | xargs -r ls 2> /dev/null)"
named_chain() { # FILE: the setuid check's kernel path and the program's own functions, in order
	tr '\n' ' ' < "$1" | grep -Eq "CAP_SETUID +1 +cap_capable\+0x[0-9a-f]+ \[kernel\] +security_capable\+0x[0-9a-f]+ \[kernel\] +ns_capable_setid\+0x[0-9a-f]+ \[kernel\] +__sys_setuid.* entry_SYSCALL_64[^ ]* \[kernel\] +casefile_inner\+0x[0-9a-f]+ \[a\.out\] +casefile_middle\+0x[0-9a-f]+ \[a\.out\] +casefile_outer\+0x[0-9a-f]+ \[a\.out\] +main\+0x[0-9a-f]+ \[a\.out\]"
}
if plain_build; then
	without_proc_sys capable -K -U stacks.db > "$SCRATCH/out" 2>&1
	check "without /proc, /sys and the program: the kernel path and the program's functions" \
		named_chain "$SCRATCH/out"
else
	skip "without /proc, /sys and the program" "a sanitizer's runtime reads /proc at start (the plain build runs it)"
fi
if command -v strace > /dev/null; then
	# Once open (fstat of it: ""), SQLite resolves the capture's path (its directories), seeds
	# itself (/dev/urandom); the C library may read the time zone.
	allowed="^\"\"$|^\"(.*/)?stacks\.db(-wal|-shm|-journal)?\"$|^\"(/dev/urandom|/etc/localtime)\"$"
	for dir in $(dirname "$(realpath "$SCRATCH/stacks.db")" | awk -F/ '{ p = ""; for (i = 2; i <= NF; i++) { p = p "/" $i; print p } }'); do
		allowed="$allowed|^\"$dir\"$"
	done
	# (LeakSanitizer cannot run under ptrace: the sanitizer build runs without it.)
	(cd "$SCRATCH" && ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=%file -o "$SCRATCH/trace" \
		"$report" capable -v -K -U stacks.db > /dev/null)
	check_eq "once it opened the capture, report touched no other file (strace)" "" \
		"$(sed -n '/^[0-9]* openat(AT_FDCWD, "stacks\.db"/,$p' "$SCRATCH/trace" | grep -o '"[^"]*"' | sort -u | grep -Ev "$allowed")"
	check_match "... (the trace saw it open)" "openat\(AT_FDCWD, \"stacks\.db\"" "$(cat "$SCRATCH/trace")"
else
	fail "no file but the capture" "strace is not installed (scripts/install-deps)"
fi

# --- Live (root): record a known call chain, delete the program, report names it ------
needs_root "report -K -U on a live capture of a deleted program" || exit 0
work=$(mktemp -d "$SCRATCH/prog.XXXX")
cp "$HELPERS/stackcheck" "$work/a.out"
# It lingers a second after its checks, not 50 ms: a loaded host's recorder
# reads its maps late.
coproc CHAIN { exec "$work/a.out" 5 --wait --linger 1000; }
read -r line <&"${CHAIN[0]}"
pid=$(value pid "$line")
start_record "$SCRATCH/live.db" -e capable -K -U -p "$pid"
echo go >&"${CHAIN[1]}"
wait "$pid"
sleep 0.3
stop_record
rm -rf "$work"
if plain_build; then
	without_proc_sys capable -K -U -p "$pid" live.db > "$SCRATCH/out" 2> "$SCRATCH/err"
else
	run_report capable -K -U -p "$pid" live.db
fi
check "live: program deleted, no /proc or /sys: report names ns_capable_setid and casefile_inner/middle/outer" \
	named_chain "$SCRATCH/out"
check_eq "live: all 5 checks so" 5 "$(grep -c '^        casefile_middle+0x[0-9a-f]* \[a.out\]$' "$SCRATCH/out")"
run_report capable --folded -p "$pid" live.db
check_match "live: folded, once with a count of 5" \
	"(^|
)a\.out;[^ ]*main;casefile_outer;casefile_middle;casefile_inner;entry_SYSCALL_64[^ ;]*;do_syscall_64;__sys_setuid;ns_capable_setid;security_capable;cap_capable 5($|
)" "$(cat "$SCRATCH/out")"
