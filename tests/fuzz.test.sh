# report against hostile captures: the fuzzer's findings, each with a test
# that fails without its fix, then every input kept in tests/fuzz-regressions/
# (and the fuzzer's seeds) replayed in this build (its sanitizers, if any).
# No root needed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures stacks
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

# Sorts SQLite must make (an event table without its key) stay in memory: no
# file is opened beside anything, not even a temporary one.
cp "$SCRATCH/stacks.db" "$SCRATCH/keyless.db"
sql "$SCRATCH/keyless.db" "pragma legacy_alter_table = on; create table c2 as select * from ev_capable; drop table ev_capable;
	alter table c2 rename to ev_capable;
	with recursive n(i) as (select 1 union all select i + 1 from n where i < 300000)
	insert into ev_capable select 1000000000 + i * 7919 % 300000, 1000000 + i, 1, 21, 0, 0, 1 from n"
if command -v strace > /dev/null; then
	(cd "$SCRATCH" && ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=openat,open -o "$SCRATCH/trace" \
		"$report" capable -v keyless.db > "$SCRATCH/out")
	check_eq "a sort of 300000 events: no temporary file" "" \
		"$(sed -n '/"keyless\.db"/,$p' "$SCRATCH/trace" | grep -v 'keyless\.db' | grep -Ev '"/dev/urandom"|"/etc/localtime"')"
	check_eq "... and every event, in time order" "300049 yes" \
		"$(grep -c '^[0-9]' "$SCRATCH/out") $(cut -c1-8 "$SCRATCH/out" | tail -n +2 | sort -c && echo yes)"
fi

# A value longer than any a capture holds (here a generated column of 400 MB
# in place of comm) is refused before it is made.
cp "$SCRATCH/stacks.db" "$SCRATCH/huge.db"
sql "$SCRATCH/huge.db" "pragma legacy_alter_table = on; create table t2 (id integer primary key, pid, tid, ppid, uid,
	comm as (hex(zeroblob(200000000))), cgroup, mntns);
	insert into t2 (id, pid, tid, ppid, uid, cgroup, mntns) select id, pid, tid, ppid, uid, cgroup, mntns from task;
	drop table task; alter table t2 rename to task"
refused "a 400 MB value: refused" capable huge.db
check_match "... as too big" "string or blob too big" "$(cat "$SCRATCH/err")"

# --- Every input the fuzzer ever crashed on, and its seeds, replayed --------------
inputs=$(find tests/fuzz-regressions tests/fuzz/seeds -type f | wc -l)
timeout 300 "$replay" tests/fuzz-regressions tests/fuzz/seeds > "$SCRATCH/out" 2> "$SCRATCH/err"
check_eq "the fuzzer's regressions and seeds replayed ($inputs), status 0" \
	"0|report-fuzz: $inputs inputs replayed" "$?|$(tail -1 "$SCRATCH/err")"
