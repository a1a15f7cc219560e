# Custody of evidence: report changes, creates and deletes no file, whatever
# lies beside a capture (a -wal and -shm of a killed or running recorder, a
# damaged -wal, a hot journal...), as root and as a user who can write the
# directory; it reads what SQLite would read, and says in one line what a
# damaged -wal left unread.  Needs root (record, and setpriv to another user).
source "$(dirname "$0")/lib.sh"
needs_root "custody tests" || exit 0

commands=(info summary timeline "timeline -c" tcpconnect tcpaccept tcpreset "capable -v" scans bruteforce caps "proc 1")
N=300 # capability checks made while recording

# A report the other user can run: the build may lie where only root goes.
chmod 755 "$SCRATCH"
mkdir -m 755 "$SCRATCH/bin"
cp "$REPORT" "$SCRATCH/bin/report"
report=$SCRATCH/bin/report

# as USER COMMAND...: run it as root, or as nobody (no groups)
as() {
	local user=$1
	shift
	if [ "$user" == root ]; then "$@"; else setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; fi
}

# state DIR: every file in it (hidden too) and its SHA-256
state() { (cd "$1" && find . -mindepth 1 -printf '%P\n' | sort | while read -r f; do echo "$f $(sha256sum < "$f" | cut -c1-64)"; done); }

# files DIR: the names in it, on one line
files() { find "$1" -mindepth 1 -printf '%P\n' | sort | tr '\n' ' ' | sed 's/ $//'; }

# every_command CASE USER: every report command over $dir/k.db, as USER, two
# at a time (one a core; two readers at once must change nothing either); the
# directory must come out exactly as it went in
every_command() {
	local before after bad="" i pids
	before=$(state "$dir")
	for ((i = 0; i < ${#commands[@]}; i += 2)); do
		pids=()
		for command in "${commands[@]:i:2}"; do
			# shellcheck disable=SC2086 # the command's words
			(cd "$dir" && as "$2" "$report" $command k.db > /dev/null 2>&1) &
			pids+=($!)
		done
		wait "${pids[@]}"
		after=$(state "$dir")
		[ "$after" == "$before" ] ||
			bad+="${commands[i]} or ${commands[i + 1]}: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ')"
		before=$after
	done
	check_eq "$1, as $2: ${#commands[@]} commands leave every file byte-identical, none created or deleted" "" "$bad"
}

# checks USER: the capability checks report reads (-u: this test's user only)
checks() { (cd "$dir" && as "$1" "$report" capable -v -u "$test_uid" k.db 2> "$dir.err" | grep -c ' CAP_SETUID '); }

# setup CASE USER COMMANDS: a directory of USER's holding what COMMANDS make
setup() {
	dir=$SCRATCH/$1-$2
	mkdir -m 755 "$dir"
	(cd "$dir" && eval "$3")
	chown -R "$([ "$2" == root ] && echo root || echo nobody)" "$dir"
}

# --- A capture being recorded (the recorder stopped for a moment) ------------------
dir=$SCRATCH/live
mkdir "$dir"
start_record "$dir/k.db" -e capable -u "$test_uid"
setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups "$HELPERS/capcheck" setuid $N > /dev/null
sleep 1.5 # a commit a second
kill -STOP "$RECORD_PID"
check_eq "the capture being recorded: a -wal and a -shm beside it" "k.db k.db-shm k.db-wal" "$(files "$dir" | sed 's/ k.db.stderr//')"
every_command "being recorded" root
check_eq "... its committed checks are read" $N "$(checks root)"
mkdir "$SCRATCH/orig"
cp "$dir"/k.db "$dir"/k.db-wal "$dir"/k.db-shm "$SCRATCH/orig/" # as a killed recorder leaves them
kill -CONT "$RECORD_PID"
stop_record INT
check_eq "... and the recorder still finishes cleanly" "0|1" "$RECORD_RC|$(sql "$dir/k.db" 'select clean_stop from capture')"
cp "$dir/k.db" "$SCRATCH/clean.db"
check_eq "the killed recorder's capture holds every page in its -wal (nothing checkpointed)" 4096 "$(stat -c %s "$SCRATCH/orig/k.db")"

O=$SCRATCH/orig
# oracle: what SQLite itself reads of a private copy of the case's files
oracle() {
	local copy=$SCRATCH/oracle
	rm -rf "$copy" && mkdir "$copy" && cp -a "$dir"/. "$copy"/
	sqlite3 -batch "$copy/k.db" "select count(*) from ev_capable c join task t on t.id = c.task where t.uid = $test_uid and c.cap = 7" 2> /dev/null
}

for user in root nobody; do
	setup clean $user "cp $SCRATCH/clean.db k.db"
	every_command "a clean capture" $user
	check_eq "... every check read" "$N|" "$(checks $user)|$(cat "$dir.err")"

	setup killed $user "cp $O/k.db $O/k.db-wal $O/k.db-shm ."
	every_command "a killed recorder's -wal and -shm" $user
	check_eq "... every committed check read" $N "$(checks $user)"

	setup wal-only $user "cp $O/k.db $O/k.db-wal ."
	every_command "a -wal alone" $user
	check_eq "... every committed check read" $N "$(checks $user)"

	setup empty-main $user ": > k.db; cp $O/k.db-wal ."
	every_command "a 0-byte file beside a -wal holding the capture" $user
	check_eq "... every check read, from the -wal" $N "$(checks $user)"

	setup flip-100 $user "cp $O/k.db $O/k.db-wal .; printf '\\377' | dd of=k.db-wal bs=1 seek=100 conv=notrunc status=none"
	every_command "a -wal with byte 100 flipped" $user
	(cd "$dir" && as $user "$report" info k.db > /dev/null 2> "$dir.err")
	check_eq "... one line says what was left unread, then the refusal (nothing before it in the file)" \
		"report: k.db: its -wal is damaged at byte 32: $(($(stat -c %s "$O/k.db-wal") - 32)) of its $(stat -c %s "$O/k.db-wal") bytes were not read
report: k.db is not a Casefile capture" "$(cat "$dir.err")"

	size=$(stat -c %s "$O/k.db-wal")
	setup flip-middle $user "cp $O/k.db $O/k.db-wal .; printf '\\377' | dd of=k.db-wal bs=1 seek=$((size / 2)) conv=notrunc status=none"
	every_command "a -wal damaged in its middle" $user
	check_eq "... read up to the damage, as SQLite reads it" "$(oracle)" "$(checks $user)"
	check_match "... and one line says where, and what was left unread" \
		"^report: k.db: its -wal is damaged at byte [0-9]+: [0-9]+ of its $size bytes were not read$" "$(grep -e -wal "$dir.err")"

	setup random-wal $user "cp $SCRATCH/clean.db k.db; head -c 50000 /dev/urandom > k.db-wal"
	every_command "random bytes as a -wal beside a clean capture" $user
	check_eq "... every check read, and one line" \
		"$N|report: k.db: its -wal is not a write-ahead log: 50000 of its 50000 bytes were not read" "$(checks $user)|$(cat "$dir.err")"

	setup shm-only $user "cp $O/k.db $O/k.db-shm ."
	every_command "a -shm without its -wal" $user
	(cd "$dir" && as $user "$report" info k.db > /dev/null 2> "$dir.err")
	check_eq "... refused: the capture was in the -wal" "report: k.db is not a Casefile capture" "$(cat "$dir.err")"

	setup hot-journal $user "cp $SCRATCH/clean.db k.db; bash -c \"sqlite3 k.db 'PRAGMA cache_size = 1; BEGIN; UPDATE ev_capable SET ret = ret + 1' '.system kill -9 \\\$PPID'\" 2> /dev/null"
	check_eq "a hot journal (a write killed half-way)" "k.db k.db-journal" "$(files "$dir")"
	every_command "a hot journal" $user
	(cd "$dir" && as $user "$report" info k.db > /dev/null 2> "$dir.err")
	check_eq "... refused, not rolled back" \
		"report: cannot read k.db: its -journal holds a write never finished, and undoing it would change the evidence" "$(cat "$dir.err")"
done

# --- Only regular files are opened: a FIFO would block the open forever ----------
mkfifo "$SCRATCH/fifo.db"
mknod "$SCRATCH/device.db" c 1 3
mkdir "$SCRATCH/directory.db"
for what in "fifo:a FIFO" "device:a character device" "directory:a directory"; do
	name=${what%%:*}
	SECONDS=0
	err=$(timeout 10 "$report" info "$SCRATCH/$name.db" 2>&1 > /dev/null)
	check_eq "$name: refused at once, with one line" \
		"1|report: cannot open $SCRATCH/$name.db: it is ${what#*:}, not a capture file|0" "$?|$err|$((SECONDS > 2))"
done

# --- A capture is data, not a program -------------------------------------------
sqlite3 -batch "$SCRATCH/stacks.db" < fixtures/stacks.sql
capable_columns="t INTEGER NOT NULL, seq INTEGER NOT NULL, task INTEGER, cap INTEGER NOT NULL, ret INTEGER NOT NULL,
	userns_level INTEGER NOT NULL"
# hostile NAME SQL MESSAGE: the fixture changed by SQL is refused at once by
# capable -v and info, with exactly MESSAGE ("its ..."), and read nowhere else
hostile() {
	local db=$SCRATCH/$1.db out
	cp "$SCRATCH/stacks.db" "$db"
	sqlite3 -batch "$db" "$2" || fail "$1" "the fixture could not be changed"
	for command in "capable -v" info; do
		SECONDS=0
		# shellcheck disable=SC2086 # the command's words
		out=$(cd "$SCRATCH" && timeout 60 "$report" $command "$1.db" 2>&1 > /dev/null)
		check_eq "$1: $command refuses at once, in one line" \
			"1|report: $1.db is not a Casefile capture ($3)|0" "$?|$out|$((SECONDS > 2))"
	done
}
# Before: 988 MB of peak RSS and 1.3 s for these 1000 rows (1 MB a row read).
hostile generated-column "pragma legacy_alter_table = on;
	create table c2 ($capable_columns, audit AS (hex(zeroblob(500000))) VIRTUAL);
	with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000)
	insert into c2 (t, seq, task, cap, ret, userns_level) select i, 1000000 + i, (select min(id) from task), 21, 0, 0 from n;
	drop table ev_capable; alter table c2 rename to ev_capable" "its ev_capable.audit is a generated or hidden column"
hostile stored-column "pragma legacy_alter_table = on; create table c2 ($capable_columns, audit AS (1) STORED, PRIMARY KEY (t, seq)) WITHOUT ROWID;
	drop table ev_capable; alter table c2 rename to ev_capable" "its ev_capable.audit is a generated or hidden column"
hostile no-primary-key "pragma legacy_alter_table = on; create table c2 ($capable_columns, audit INTEGER);
	insert into c2 select * from ev_capable; drop table ev_capable; alter table c2 rename to ev_capable" \
	"its ev_capable is without the format's primary key"
hostile other-type "pragma legacy_alter_table = on; create table c2 ($capable_columns, audit BLOB, PRIMARY KEY (t, seq)) WITHOUT ROWID;
	drop table ev_capable; alter table c2 rename to ev_capable" "its ev_capable.audit is not a column of the format"
hostile rtree "drop table ev_capable; create virtual table ev_capable using rtree(id, t0, t1)" "its ev_capable is a virtual table"
hostile fts4 "drop table ev_capable; create virtual table ev_capable using fts4(t, seq, task, cap, ret, userns_level, audit)" \
	"its ev_capable is a virtual table"
hostile fts5 "drop table ev_capable; create virtual table ev_capable using fts5(t, seq, task, cap, ret, userns_level, audit)" \
	"its ev_capable is a virtual table"
hostile dbstat "drop table ev_capable; create virtual table ev_capable using dbstat" "its ev_capable is a virtual table"
hostile virtual-elsewhere "create virtual table notes using fts5(x)" "its notes is a virtual table"
hostile trigger "create trigger audit_trail after insert on task begin delete from task; end" "its audit_trail is a trigger"
hostile own-index "create index by_cap on ev_capable (cap)" "its by_cap is an index the format does not have"
hostile statistics "analyze" "its sqlite_stat1 is statistics that would steer SQLite's plans"
# Views are never read: one replaced by an endless one changes nothing.
cp "$SCRATCH/stacks.db" "$SCRATCH/view.db"
sqlite3 -batch "$SCRATCH/view.db" "drop view capable; create view capable as with recursive r(i) as (select 1 union all select i + 1 from r) select i from r"
SECONDS=0
# (Read, it would run until the timeout; the bound is a loaded host's.)
check_eq "a view replaced by an endless one: never read, capable -v as before, within 30 s" \
	"$(cd "$SCRATCH" && "$report" capable -v stacks.db 2>&1)|0" "$(cd "$SCRATCH" && timeout 60 "$report" capable -v view.db 2>&1)|$((SECONDS > 30))"

# --- record: its -wal and -shm are its own; -f replaces only a capture -------------
# A directory anyone may write, as /tmp (sticky); another user plants the -shm
# the moment the capture appears and holds it open.
shared=$SCRATCH/shared
mkdir -m 1777 "$shared"
setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups bash -c \
	"cd $shared && until [ -e x.db ]; do :; done; if exec 3> x.db-shm; then echo planted; sleep 3; else echo refused; fi" \
	> "$SCRATCH/planter" 2> /dev/null &
planter=$!
start_record "$shared/x.db" -e capable -d 2
wait "$planter"
wait "$RECORD_PID"
check_eq "another user cannot plant the -shm the moment the capture appears: record's own, it records" \
	"refused|0|root 600" "$(cat "$SCRATCH/planter")|$?|$(stat -c '%U %a' "$shared/x.db")"
rm -f "$shared"/x.db*
setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups bash -c "umask 0; : > $shared/x.db-shm"
"$RECORD" -o "$shared/x.db" -q -e capable -d 1 2> "$SCRATCH/err"
check_eq "a -shm planted before: refused in one line, the planted file left, no capture made" \
	"1|record: cannot create $shared/x.db: $shared/x.db-shm exists (use -f to replace both)|$test_uid|" \
	"$?|$(cat "$SCRATCH/err")|$(stat -c %u "$shared/x.db-shm")|$(ls "$shared/x.db" 2> /dev/null)"

# refuse_replace NAME PATH MESSAGE [OPTIONS]: record -f refuses to replace PATH, leaving it as it was
refuse_replace() {
	local before
	before=$(stat -c '%F %t %T %s %i' "$2")
	"$RECORD" -o "$2" -f "${@:4}" -q -e capable -d 1 2> "$SCRATCH/err"
	check_eq "record -f: $1 refused, in one line, left as it was" "1|record: cannot replace $2: $3|$before" \
		"$?|$(cat "$SCRATCH/err")|$(stat -c '%F %t %T %s %i' "$2")"
}
mknod "$SCRATCH/null" c 1 3
refuse_replace "a device node" "$SCRATCH/null" "it is a character device, not a capture file"
refuse_replace "a directory" "$SCRATCH/directory.db" "it is a directory, not a capture file"
ln -s "$SCRATCH/clean.db" "$SCRATCH/link.db"
refuse_replace "a symbolic link" "$SCRATCH/link.db" "it is a symbolic link (use -ff to replace the link itself)"
echo "not a capture" > "$SCRATCH/notes.txt"
refuse_replace "a regular file that is not a capture" "$SCRATCH/notes.txt" "it is not a Casefile capture (use -ff to replace it anyway)"
"$RECORD" -o "$SCRATCH/notes.txt" -ff -q -e capable -d 1 2> "$SCRATCH/err"
check_eq "record -ff: replaces it" "0|1" "$?|$(sql "$SCRATCH/notes.txt" 'select clean_stop from capture')"
cp "$SCRATCH/clean.db" "$SCRATCH/again.db"
"$RECORD" -o "$SCRATCH/again.db" -f -q -e capable -d 1 2> "$SCRATCH/err"
check_eq "record -f: replaces a capture, as before" "0|0" \
	"$?|$(sql "$SCRATCH/again.db" "select count(*) from ev_capable c join task t on t.id = c.task where t.uid = $test_uid")"

# --- record: a reader holding the capture as it stops -------------------------------
# Leaving WAL mode needs the file to itself; a follower on a loaded host can
# hold it for seconds. Held here until record says why it waits (after 5 s),
# and let go then.
# hold_read DB THEN: a reader holds DB in a read transaction until record's
# stderr says it waits for it (a minute at most), and THEN seconds more (sets reader)
hold_read() {
	python3 -c 'import sqlite3, sys, time
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, isolation_level=None)
c.execute("BEGIN")
c.execute("select count(*) from capture").fetchall()
print("held", flush=True)
for _ in range(600):
	time.sleep(0.1)
	if "being read" in open(sys.argv[2]).read():
		break
time.sleep(float(sys.argv[3]))
c.close()' "$1" "$RECORD_ERR" "$2" > "$1.held" &
	reader=$!
	until grep -q held "$1.held" 2> /dev/null || ! kill -0 "$reader" 2> /dev/null; do sleep 0.05; done
}
waiting_line() { echo "record: $1 is being read (report --follow?): waiting for the reader to let go, up to a minute, to close it"; }
db="$SCRATCH/held.db"
start_record "$db" -e capable
hold_read "$db" 0.5
stop_record
wait "$reader"
check_eq "record waits out a reader holding the capture past 5 s: a clean stop, one file" \
	"0|1|" "$RECORD_RC|$(sql "$db" 'select clean_stop from capture')|$(ls "$db-wal" 2> /dev/null)"
check_eq "... and says once, after 5 s, what it waits for" "$(waiting_line "$db")" "$(grep 'being read' "$RECORD_ERR")"

# A second Ctrl-C while it waits: the responder will not wait; the file
# stays in WAL mode, its -wal beside it, both whole and committed.
db="$SCRATCH/held-twice.db"
start_record "$db" -e capable -u "$test_uid"
setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups true
for _ in $(seq 200); do # until the check is committed
	[ "$(sql "$db" 'select count(*) from ev_capable' 2> /dev/null)" -gt 0 ] 2> /dev/null && break
	sleep 0.05
done
hold_read "$db" 60
kill -INT "$RECORD_PID"
for _ in $(seq 300); do
	grep -q 'being read' "$RECORD_ERR" && break
	sleep 0.05
done
stop_record
kill "$reader"
wait "$reader" 2> /dev/null
check_eq "a second Ctrl-C while a reader holds it: record ends at once, exit 1, the -wal kept" \
	"1|$(waiting_line "$db")|record: $db is still being read (asked again to stop): left with its -wal beside it, keep both: together they are the whole capture|yes" \
	"$RECORD_RC|$(grep 'being read' "$RECORD_ERR" | paste -sd '|')|$([ -s "$db-wal" ] && echo yes)"
check_eq "... and the capture and its -wal are whole: a clean stop, its checks there" "1|1" \
	"$(sql "$db" 'select clean_stop from capture')|$(sql "$db" "select count(*) > 0 from ev_capable c join task t on t.id = c.task where t.uid = $test_uid")"

# --- report info: the recorded stop reason, clean or not ---------------------------
cp "$SCRATCH/clean.db" "$SCRATCH/full.db"
sql "$SCRATCH/full.db" "update capture set clean_stop = 0, stopped_at_ns = null, stop_reason = 'error: database or disk is full'"
check_match "an unclean stop that said why: info says it" \
	"stop +NOT CLEAN \(error: database or disk is full\): the recorder did not finish; events after the last save are missing" \
	"$("$report" info "$SCRATCH/full.db" 2> /dev/null)"
check_match "... and so does every command's warning" "^report: .*full.db: no clean stop \(error: database or disk is full\): nothing after" \
	"$("$report" capable "$SCRATCH/full.db" 2>&1 > /dev/null)"
check_eq "... and JSON's stop_reason" '"error: database or disk is full"' \
	"$("$report" info --format json "$SCRATCH/full.db" 2> /dev/null | head -1 | sed -E 's/.*"stop_reason":("[^"]*"|null).*/\1/')"

# --- SHA-256: record prints each finished file's, report info a capture's -------
# Stopped once a second file has begun (30 s at most): a fixed duration, a
# sleep to attach in, or a stop as soon as the checks are made, could leave a
# loaded host's recorder with them all still to write (one file).
rotated=$SCRATCH/rot.db
start_record "$rotated" -e capable -u "$test_uid" -C 1M
setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups "$HELPERS/capcheck" setuid 100000 > /dev/null
for _ in $(seq 600); do
	[ -e "$SCRATCH/rot.2.db" ] && break
	sleep 0.05
done
stop_record
files=$(find "$SCRATCH" -maxdepth 1 -name 'rot*.db' | wc -l)
check_match "a recording rotated over several files ($files)" "^([2-9]|[1-9][0-9]+)$" "$files"
check_eq "record prints every finished file's SHA-256, as sha256sum prints it" \
	"$(cd "$SCRATCH" && sha256sum rot*.db | sed "s|  |  $SCRATCH/|" | sort)" \
	"$(grep -A20 '^record: SHA-256 of each file' "$RECORD_ERR" | tail -n +2 | sort)"
check_eq "report info prints it, reading the file only" \
	"$(sha256sum < "$rotated" | cut -c1-64)|$(sha256sum < "$rotated")" \
	"$("$report" info "$rotated" | sed -n 's/^sha256 *//p')|$(sha256sum < "$rotated")"
check_eq "... in JSON too" "\"$(sha256sum < "$rotated" | cut -c1-64)\"" \
	"$("$report" info --format json "$rotated" | head -1 | sed -E 's/.*"sha256":("[^"]*").*/\1/')"
# A -wal's hash too; its sizes (beside a clean capture, of random bytes) take
# SHA-256's padding through every case: 55, 56 and 64 bytes past a block...
bad=""
for size in 0 1 55 56 57 63 64 65 119 120 4096 100001; do
	head -c $size /dev/urandom > "$rotated-wal"
	[ "$("$report" info "$rotated" 2> /dev/null | sed -n 's/^sha256 *\(.*\) (its -wal)$/\1/p')" == "$(sha256sum < "$rotated-wal" | cut -c1-64)" ] ||
		bad+="$size "
done
rm -f "$rotated-wal"
check_eq "... and its -wal's, of any size" "" "$bad"

# --- record's messages: one line, before anything is made --------------------------
# refuse_options NAME MESSAGE STATUS [setpriv OPTIONS --] OPTIONS...: record
# refuses at once with MESSAGE and STATUS, creating nothing
refuse_options() {
	local out=$SCRATCH/shared/opts.db name=$1 message=$2 status=$3 as=()
	shift 3
	if [ "$1" == setpriv ]; then
		while [ "$1" != -- ]; do as+=("$1") && shift; done
		shift
	fi
	rm -f "$out"*
	"${as[@]}" "$RECORD" -o "$out" -q -d 1 "$@" 2> "$SCRATCH/err"
	check_eq "record $*: $name" "$status|$message|" "$?|$(cat "$SCRATCH/err")|$(ls "$out"* 2> /dev/null)"
}
pid_max=$(cat /proc/sys/kernel/pid_max)
refuse_options "a pid beyond pid_max, refused" "record: -p $pid_max: not a process id (this system's are 1 to $((pid_max - 1)))" 2 -p "$pid_max"
refuse_options "a kind named twice, refused" "record: -e names 'connect' twice" 2 -e connect,connect
refuse_options "an unknown kind: every kind listed" \
	"record: unknown event kind 'bogus' (known: connect,accept,reset,capable,process,dns,close; with :stack: connect,accept,reset,capable)" 2 -e bogus
# dns too: on the cgroup v2 root, its program needs no CAP_NET_RAW.
refuse_options "as another user: needs root, and which capabilities" \
	"record: needs root, or CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (missing: CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)" 1 \
	setpriv --reuid=nobody --regid=nogroup --clear-groups --
check_eq "the README's quick start, as printed, runs as root without sudo" "scripts/demo|scripts/test|yes" \
	"$(sed -n '/^## Quick start/,/^## /p' README.md | grep -E '^    [a-z]' | sed 's/^ *//' | paste -sd'|')|$([ -x scripts/demo ] && [ -x scripts/test ] && echo yes)"

# --- record -U: ELF files and /proc text are parsed in a confined process --------
db=$SCRATCH/user-stacks.db
start_record "$db" -e capable -K -U -u "$test_uid"
parser=$(cat /proc/"$RECORD_PID"/task/*/children | tr ' ' '\n' | grep -v '^$' | head -1)
check_eq "-U: one parser process, as nobody, no capability, no_new_privs, a seccomp filter, not dumpable" \
	"65534 65534 65534 65534|0000000000000000|0000000000000000|1|2|0" \
	"$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/"$parser"/status)|$(awk '/^CapEff:/ {print $2}' /proc/"$parser"/status)|$(awk '/^CapPrm:/ {print $2}' /proc/"$parser"/status)|$(awk '/^NoNewPrivs:/ {print $2}' /proc/"$parser"/status)|$(awk '/^Seccomp:/ {print $2}' /proc/"$parser"/status)|$(stat -c %u /proc/"$parser"/status)"
check_eq "... holding no file of the recorder's: /dev/null and its socket" "0 1 2 3|/dev/null /dev/null socket" \
	"$(find /proc/"$parser"/fd -mindepth 1 -printf '%f\n' | sort -n | tr '\n' ' ' | sed 's/ $//')|$(for fd in 0 1 3; do readlink /proc/"$parser"/fd/$fd | sed 's/:.*//'; done | tr '\n' ' ' | sed 's/ $//')"
# It lingers a second, not 50 ms: a loaded host's recorder reads its maps late.
setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups "$HELPERS/stackcheck" 5 --linger 1000 > /dev/null
stop_record
check_match "... and names the frames of a program it never ran" "casefile_inner" \
	"$(sql "$db" "select group_concat(symbol) from stack_frame where symbol like 'casefile_%'")"
# A program whose symbol table is hostile (names beyond its string table):
# recorded, its frames left unnamed, nothing else disturbed.
work=$(mktemp -d "$SCRATCH/prog.XXXX")
chmod 755 "$work"
cp tests/fuzz/elf-seeds/symtab-names-beyond "$work/a.out"
chmod 755 "$work/a.out"
db=$SCRATCH/hostile-elf.db
start_record "$db" -e capable -K -U -u "$test_uid"
parser=$(cat /proc/"$RECORD_PID"/task/*/children | tr ' ' '\n' | grep -v '^$' | head -1)
setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups "$work/a.out" 5 > /dev/null
sleep 0.5
# The parser killed (as a crash in it would end it): the recorder goes on.
kill -KILL "$parser"
setpriv --reuid="$test_uid" --regid="$test_uid" --clear-groups "$HELPERS/stackcheck" 7 > /dev/null
stop_record
check_eq "a hostile symbol table, then the parser killed: record goes on, stops cleanly, every check kept" \
	"0|12|1" "$RECORD_RC|$(sql "$db" "select count(*) from ev_capable c join task t on t.id = c.task where t.uid = $test_uid and c.cap = 7")|$(sql "$db" 'select clean_stop from capture')"
check_eq "... the hostile program's own frames unnamed" "" \
	"$(sql "$db" "select group_concat(distinct f.symbol) from stack_frame f join module m on m.id = f.module where m.name like '%/a.out' and f.symbol like 'casefile_%'")"
check_eq "... and one line says the parser stopped" 1 \
	"$(grep -c '^record: the parser process stopped (a hostile or broken file?): user frames are left unnamed from now on$' "$RECORD_ERR")"
inputs=$(find tests/fuzz/elf-seeds -type f | wc -l)
check_eq "the ELF and maps parsers' fuzz seeds ($inputs: hostile headers, sections, notes, symbols, maps lines) replayed" \
	"report-fuzz: $inputs inputs replayed|0" "$(timeout 120 "$HELPERS/elf-fuzz-replay" tests/fuzz/elf-seeds 2>&1)|$?"
