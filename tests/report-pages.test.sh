# report reads an immutable capture's event tables from their b-tree pages
# (report/engine/pages.c), not through SQLite's statements: every command
# that reads events prints exactly what the SQL path prints, and a damaged
# page gets one line and a non-zero exit, never a crash or a wrong row.
# An empty -wal beside a copy makes report read it through SQL (capture.c:
# only a file with neither -wal nor journal is read as immutable).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

mkdir -p "$SCRATCH/direct" "$SCRATCH/sql"
fixtures=(basic lives stacks beacons scan-syn bruteforce-ssh logins-guessed shells caps first-format web1 web2)
# and a fleet of five, whose connections share their captures' pages (SQLite's shared cache)
fleet=(sweep-host1 sweep-host2 sweep-host3 sweep-host4 sweep-host5)
for name in "${fixtures[@]}" "${fleet[@]}"; do
	sqlite3 -batch "$SCRATCH/direct/$name.db" < "fixtures/$name.sql" ||
		fail "load fixture $name" "sqlite3 failed"
done
# bench/gen's busy hour: event tables of tens of pages, under an interior one
"$BUILD/bench/gen" 30000 "$SCRATCH/direct/gen.db" > /dev/null 2>&1 ||
	fail "bench/gen made a capture" "status $?"
# Its DNS answers with names too long for a page: the columns after the name
# (address, ttl) are in overflow pages, some in the second of a chain.
cp "$SCRATCH/direct/gen.db" "$SCRATCH/direct/long.db"
sqlite3 -batch "$SCRATCH/direct/long.db" "UPDATE dns SET name = name || printf('%.*c', 16000 + seq % 7 * 20000, 'x') WHERE seq % 3 = 0"
check_eq "long: DNS answers of names longer than a page" "1" \
	"$(sqlite3 -batch "$SCRATCH/direct/long.db" "SELECT count(*) > 50 FROM dbstat WHERE name = 'dns' AND pagetype = 'overflow'")"
for db in "$SCRATCH"/direct/*.db; do
	cp "$db" "$SCRATCH/sql/"
	: > "$SCRATCH/sql/$(basename "$db")-wal"
done

# read_as DIR ARGS...: report's stdout, stderr and status, run in DIR (the same file names)
read_as() {
	local dir=$1
	shift
	(cd "$SCRATCH/$dir" && TZ=$TEST_TZ "$report" "$@" 2>&1)
	echo "status $?"
}

# sql_read KEY FUNCTION ARGS...: FUNCTION sql ARGS..., the read through SQL,
# made once for every build of a run (kept): the pages are read by each.
# KEY names the output; the captures' contents are added to it.
sql_read() {
	local key=$1 word captures=()
	shift
	for word in "$@"; do
		[[ $word != *.db ]] || captures+=("$SCRATCH/sql/$word")
	done
	kept "pages: $key $(contents "${captures[@]}")" "$@"
}

# same NAME ARGS...: the same output read either way, and not an empty one.
# Some 550 pairs, most of this file's time: two pairs are read at once, and
# each pair's outcome is told in order (compared).
reading=() # the pairs being read: "PID NUMBER NAME"
pairs=0
same() {
	local name=$1
	shift
	pairs=$((pairs + 1))
	{
		sql_read "$*" read_as sql "$@" > "$SCRATCH/$pairs.sql"
		read_as direct "$@" > "$SCRATCH/$pairs.direct"
	} &
	reading+=("$! $pairs $name")
	[ ${#reading[@]} -lt 2 ] || compared
}

# compared [all]: the outcome of the oldest pair being read (or of all)
compared() {
	local pid number name direct sql
	while [ ${#reading[@]} -gt 0 ]; do
		read -r pid number name <<< "${reading[0]}"
		reading=("${reading[@]:1}")
		wait "$pid"
		direct=$(< "$SCRATCH/$number.direct")
		sql=$(< "$SCRATCH/$number.sql")
		if [ "$direct" != "$sql" ]; then
			fail "same: $name" "differs: $(diff <(echo "$sql") <(echo "$direct") | head -6 | tr '\n' ' ')"
		elif [ "$(wc -l <<< "$direct")" -lt 2 ]; then
			fail "same: $name" "next to nothing printed: $direct"
		else
			pass "same: $name"
		fi
		[ "${1:-}" == all ] || return 0
	done
}

# page DIR FILE: html's status and page, less its "Made by" line (the time it was made)
page() {
	read_as "$1" html -o "$2.html" "$2"
	grep -v 'Made by' "$SCRATCH/$1/$2.html"
}

# same_html FILE: the same page either way
same_html() {
	sql_read "html $1" page sql "$1" > "$SCRATCH/sql/$1.page" &
	page direct "$1" > "$SCRATCH/direct/$1.page"
	wait $!
	check "same: html $1" cmp "$SCRATCH/direct/$1.page" "$SCRATCH/sql/$1.page"
}

for name in "${fixtures[@]}" gen; do
	file=$name.db
	for command in summary timeline "timeline -c" tcpconnect "tcpconnect -d -l" tcpaccept \
		tcpreset tcplife capable "capable -v" caps scans exfil beacons bruteforce logins; do
		# shellcheck disable=SC2086 # the command's words
		same "$command $file" $command "$file"
	done
	for format in ocsf ecs timesketch; do
		same "export $format $file" export --format "$format" "$file"
	done
	# (a capture of the first format has no process table)
	pid=$(sqlite3 -batch "$SCRATCH/direct/$file" "SELECT pid FROM process ORDER BY t LIMIT 1 OFFSET 2" 2> /dev/null)
	[ -z "$pid" ] || same "proc $pid $file" proc "$pid" "$file"
	same_html "$file"
done
for command in timeline "tcpconnect -d -l" "export --format ecs"; do
	# shellcheck disable=SC2086 # the command's words
	same "$command long.db" $command long.db
done
# html's activity chart counts each table's rows by t from its pages; the
# long DNS answers' leaves hold a row or two, counted one by one.
same_html long.db
# A t that is a real, between two integers of a leaf: SQLite compares it as
# a number, so the pages' counting leaves that table to SQL.
cp "$SCRATCH/direct/gen.db" "$SCRATCH/direct/real.db"
sqlite3 -batch "$SCRATCH/direct/real.db" \
	"INSERT INTO ev_exit (t, seq, task, exit_code) SELECT t + 0.5, seq + 1000000000, task, exit_code FROM ev_exit WHERE seq % 40 = 0"
check_eq "real: a t that is a real in ev_exit" "real" \
	"$(sqlite3 -batch "$SCRATCH/direct/real.db" "SELECT DISTINCT typeof(t) FROM ev_exit WHERE typeof(t) = 'real'")"
cp "$SCRATCH/direct/real.db" "$SCRATCH/sql/"
: > "$SCRATCH/sql/real.db-wal"
same_html real.db
# --since and --until: the pages read from the range's first row (down the
# tree to it, not through the rows before it) to its last, as SQL reads
# them, a time given being in the range; a t that is a real (real.db)
# compared as a number either way.
# time_of FILE N: the time of the Nth event timeline gives (its JSON)
time_of() {
	(cd "$SCRATCH/direct" && "$report" timeline --format json "$1") | sed -n "$2{s/^{\"time\":\"\([^\"]*\)\".*/\1/p;q}"
}
events=$(cd "$SCRATCH/direct" && "$report" timeline --format json gen.db | wc -l)
early=$(time_of gen.db $((events / 10)))
middle=$(time_of gen.db $((events / 2)))
late=$(time_of gen.db $((events * 9 / 10)))
last=$(time_of gen.db "$events")
check "ranges: times of gen.db's events" test -n "$early" -a -n "$middle" -a -n "$late" -a -n "$last"
for range in "--since $early" "--until $middle" "--since $middle --until $middle" "--since $last"; do
	for command in timeline "timeline -c" tcpconnect scans summary; do
		# shellcheck disable=SC2086 # the command's and range's words
		same "$command $range gen.db" $command $range gen.db
	done
	# shellcheck disable=SC2086 # the range's words
	same "timeline $range real.db" timeline $range real.db
done
same "export --format ecs --since $early --until $late gen.db" export --format ecs --since "$early" --until "$late" gen.db
# A real t in a second table (ev_connect's, the first two minutes in, before
# ev_exit's): two streams fail, in two readers, and the one the merge comes
# to first in time is told, in one line, whichever reader failed first.
# (summary's three analyses read apart: the first to fail is told.)
cp "$SCRATCH/direct/real.db" "$SCRATCH/direct/real2.db"
sqlite3 -batch "$SCRATCH/direct/real2.db" \
	"INSERT INTO ev_connect (t, seq, task, saddr, lport, daddr, dport) SELECT t + 0.25, seq + 1000000000, task, saddr, lport, daddr, dport FROM ev_connect WHERE seq % 50 = 0"
for command in timeline "export --format ocsf" summary; do
	for run in 1 2 3; do
		# shellcheck disable=SC2086 # the command's words
		(cd "$SCRATCH/direct" && "$report" $command real2.db) > /dev/null 2> "$SCRATCH/err.$run"
		echo "status $?" >> "$SCRATCH/err.$run"
	done
	told="report: real2.db: cannot read ev_connect: corrupt capture: a number that is not one"
	[ "$command" != summary ] || told=$(head -1 "$SCRATCH/err.1")
	check_eq "real2.db: $command, two tables failing, tells one line" \
		"$told
status 1" "$(cat "$SCRATCH/err.1")"
	[ "$command" = summary ] ||
		check_eq "real2.db: $command tells the same in three runs" \
			"$(cat "$SCRATCH/err.1" "$SCRATCH/err.1")" "$(cat "$SCRATCH/err.2" "$SCRATCH/err.3")"
done
range="--since $(time_of scan-syn.db 20) --until $(time_of scan-syn.db 60)"
for command in scans summary timeline; do
	# shellcheck disable=SC2086 # the command's and range's words
	same "$command $range scan-syn.db" $command $range scan-syn.db
	# shellcheck disable=SC2086 # the command's and range's words
	same "$command $range of a fleet of five" $command $range sweep-host{1,2,3,4,5}.db
done
# ev_capable read without the checks not audited (e.audit IS NOT 0): the
# pages drop those rows, never one whose audit is NULL (audit.db); nor a
# real or text, which either way is then "a number that is not one" (odd.db).
cp "$SCRATCH/direct/gen.db" "$SCRATCH/direct/audit.db"
sqlite3 -batch "$SCRATCH/direct/audit.db" "UPDATE ev_capable SET audit = NULL WHERE seq % 5 = 0"
cp "$SCRATCH/direct/audit.db" "$SCRATCH/direct/odd.db"
for value in 0.5 "'x'"; do
	sqlite3 -batch "$SCRATCH/direct/odd.db" \
		"UPDATE ev_capable SET audit = $value WHERE seq = (SELECT seq FROM ev_capable WHERE audit IS NULL LIMIT 1 OFFSET 10)"
done
check_eq "audit: NULL, 0 and 1 in ev_capable" "0 1 2" \
	"$(sqlite3 -batch "$SCRATCH/direct/audit.db" "SELECT group_concat(k, ' ') FROM (SELECT DISTINCT coalesce(audit, 2) k FROM ev_capable ORDER BY 1)")"
check_eq "odd: a real and text in ev_capable's audits" "integer null real text" \
	"$(sqlite3 -batch "$SCRATCH/direct/odd.db" "SELECT group_concat(k, ' ') FROM (SELECT DISTINCT typeof(audit) k FROM ev_capable ORDER BY 1)")"
for name in audit odd; do
	cp "$SCRATCH/direct/$name.db" "$SCRATCH/sql/"
	: > "$SCRATCH/sql/$name.db-wal"
	for command in capable caps timeline summary; do
		same "$command $name.db" "$command" "$name.db"
	done
done
# The small tables the lookups read whole (task, address, cgroup...) are
# read from their pages too: cgroup paths longer than a page (overflow
# pages, their ends kept), NULL and blob paths, NULL netns and nspid (-1).
cp "$SCRATCH/direct/gen.db" "$SCRATCH/direct/lookups.db"
sqlite3 -batch "$SCRATCH/direct/lookups.db" \
	"UPDATE task SET cgroup = cgroup % 1000 + 10;
	 INSERT INTO cgroup (id, path) SELECT DISTINCT cgroup, CASE cgroup % 4 WHEN 0 THEN NULL
	 WHEN 1 THEN '/short/' || cgroup WHEN 2 THEN CAST('/blob/' || cgroup AS BLOB)
	 ELSE '/long/' || printf('%.*c', 3000 + cgroup % 7 * 1500, 'c') || '/end-' || cgroup END FROM task;
	 UPDATE task SET netns = NULL, nspid = NULL WHERE id % 3 = 0;
	 UPDATE task SET comm = comm || '-a-longer-name' WHERE id % 5 = 0"
check_eq "lookups: cgroup paths in overflow pages" "1" \
	"$(sqlite3 -batch "$SCRATCH/direct/lookups.db" "SELECT count(*) > 2 FROM dbstat WHERE name = 'cgroup' AND pagetype = 'overflow'")"
# A task whose uid is a real: its lookup fails either way, in the same words.
cp "$SCRATCH/direct/gen.db" "$SCRATCH/direct/realtask.db"
sqlite3 -batch "$SCRATCH/direct/realtask.db" "UPDATE task SET uid = 0.5 WHERE id = (SELECT task FROM ev_connect LIMIT 1 OFFSET 500)"
# A table read whole from its pages, every row kept, answers for the ids
# it lacks itself (none, or "not there" for a task or address), as SQL's
# read of their block does: half the cgroups unnamed and a connection's
# remote address gone (missing.db), a task gone (notask.db).
cp "$SCRATCH/direct/lookups.db" "$SCRATCH/direct/missing.db"
sqlite3 -batch "$SCRATCH/direct/missing.db" \
	"DELETE FROM cgroup WHERE id % 2 = 0;
	 DELETE FROM address WHERE id = (SELECT daddr FROM ev_connect LIMIT 1 OFFSET 900)"
cp "$SCRATCH/direct/gen.db" "$SCRATCH/direct/notask.db"
sqlite3 -batch "$SCRATCH/direct/notask.db" \
	"DELETE FROM task WHERE id = (SELECT task FROM ev_connect LIMIT 1 OFFSET 700)"
for name in lookups realtask missing notask; do
	cp "$SCRATCH/direct/$name.db" "$SCRATCH/sql/"
	: > "$SCRATCH/sql/$name.db-wal"
	for command in timeline tcpconnect "tcpconnect -d -l" tcpreset tcplife summary "export --format ecs"; do
		# shellcheck disable=SC2086 # the command's words
		same "$command $name.db" $command "$name.db"
	done
done
# An address table too large for a slot per id (32,768): each connection's
# own cache, where ids share a slot, told apart by the id the slot keeps
# (a table read whole keeps none).  Half the connects name a copy of their
# address 32,768 ids on, of another text, in the original's slot.
cp "$SCRATCH/direct/gen.db" "$SCRATCH/direct/wide.db"
sqlite3 -batch "$SCRATCH/direct/wide.db" \
	"INSERT INTO address (id, ip, addr) SELECT id + 32768, 4, '198.18.' || (id / 256 % 256) || '.' || (id % 256) FROM address;
	 UPDATE ev_connect SET daddr = daddr + 32768 WHERE seq % 2 = 0"
check_eq "wide: each connect's remote address, slots shared" \
	"$(sqlite3 -batch "$SCRATCH/direct/wide.db" "SELECT a.addr FROM ev_connect e JOIN address a ON a.id = e.daddr ORDER BY e.t, e.seq")" \
	"$(cd "$SCRATCH/direct" && "$report" tcpconnect --format json wide.db | grep -o '"raddr":"[^"]*"' | cut -d'"' -f4)"
cp "$SCRATCH/direct/wide.db" "$SCRATCH/sql/"
: > "$SCRATCH/sql/wide.db-wal"
same "tcpconnect wide.db" tcpconnect wide.db
same "summary of two hosts" summary web1.db web2.db
for command in summary timeline "timeline -c" tcpconnect scans; do
	# shellcheck disable=SC2086 # the command's words
	same "$command of a fleet of five" $command sweep-host{1,2,3,4,5}.db
done
same "timeline of two hosts" timeline web1.db web2.db
same "tcpconnect of two hosts" tcpconnect --format json web1.db web2.db
# The process table, which the lineage reads whole from its pages (a WITHOUT
# ROWID table keyed (t, seq), with texts): command lines in overflow pages,
# empty executables, texts stored as blobs (a blob is never 'fork' to SQL),
# streams that are no stream's name.
cp "$SCRATCH/direct/gen.db" "$SCRATCH/direct/process.db"
sqlite3 -batch "$SCRATCH/direct/process.db" \
	"UPDATE process SET args = args || ' ' || printf('%.*c', 3000 + seq % 5 * 4000, 'a') WHERE seq % 4 = 0;
	 UPDATE process SET exe = '' WHERE seq % 7 = 1;
	 UPDATE process SET how = CAST(how AS BLOB) WHERE seq % 11 = 2;
	 UPDATE process SET comm = CAST(comm AS BLOB), exe = CAST(exe AS BLOB) WHERE seq % 5 = 3;
	 UPDATE process SET stdin = 'tty2', stdout = CAST('pipe' AS BLOB) WHERE seq % 6 = 4"
check_eq "process: command lines in overflow pages" "1" \
	"$(sqlite3 -batch "$SCRATCH/direct/process.db" "SELECT count(*) > 10 FROM dbstat WHERE name = 'process' AND pagetype = 'overflow'")"
# A pid that is a text: corrupt, in the same words either way.
cp "$SCRATCH/direct/gen.db" "$SCRATCH/direct/textpid.db"
sqlite3 -batch "$SCRATCH/direct/textpid.db" \
	"UPDATE process SET pid = 'x' || pid WHERE seq = (SELECT seq FROM process LIMIT 1 OFFSET 40)"
pid=$(sqlite3 -batch "$SCRATCH/direct/process.db" "SELECT pid FROM process WHERE how = 'exec' AND seq % 4 = 0 LIMIT 1")
for name in process textpid; do
	cp "$SCRATCH/direct/$name.db" "$SCRATCH/sql/"
	: > "$SCRATCH/sql/$name.db-wal"
done
for command in "timeline -l" "tcpconnect -l" "proc $pid" summary "export --format ecs"; do
	# shellcheck disable=SC2086 # the command's words
	same "$command process.db" $command process.db
done
compared all
check_eq "textpid.db: tcpconnect -l tells one line, the same either way" \
	"report: textpid.db: cannot read process: corrupt capture: a number that is not one|status 1|same" \
	"$(read_as direct tcpconnect -l textpid.db | tail -2 | paste -sd'|')|$([ "$(read_as direct tcpconnect -l textpid.db)" == "$(read_as sql tcpconnect -l textpid.db)" ] && echo same)"

# Leaves are read a few siblings at a time through io_uring (batchread.h):
# fewer calls than leaves.  Where the kernel refuses io_uring, one at a
# time: the same rows either way.
leaves=$(sqlite3 -batch "$SCRATCH/direct/gen.db" \
	"SELECT count(*) FROM dbstat WHERE name LIKE 'ev_%' AND pagetype = 'leaf'")
calls=$(cd "$SCRATCH/direct" && strace -f -qq -c -e trace=io_uring_enter "$report" timeline gen.db 2>&1 > /dev/null |
	awk '$NF == "io_uring_enter" { print $4 }')
check "io_uring: $leaves leaves read in ${calls:-no} calls" test "${calls:-0}" -gt 0 -a "${calls:-0}" -lt "$leaves"
if [ -w /proc/sys/kernel/io_uring_disabled ]; then
	saved=$(cat /proc/sys/kernel/io_uring_disabled)
	echo 2 > /proc/sys/kernel/io_uring_disabled
	for command in timeline "timeline -c" summary; do
		# shellcheck disable=SC2086 # the command's words
		same "$command gen.db, io_uring refused" $command gen.db
	done
	compared all
	echo "$saved" > /proc/sys/kernel/io_uring_disabled
else
	skip "io_uring refused: the same rows" "no /proc/sys/kernel/io_uring_disabled to refuse it with"
fi

# --- Damaged pages ------------------------------------------------------------------
# A copy of gen.db with BYTES written at OFFSET in page PAGE: damaged/NAME.db.
mkdir -p "$SCRATCH/damaged"
page_size=$(sqlite3 -batch "$SCRATCH/direct/gen.db" "PRAGMA page_size")
# be32 N: N as four bytes for printf, big-endian (a page number)
be32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
damage() {
	local name=$1 page=$2 offset=$3 bytes=$4
	cp "$SCRATCH/direct/gen.db" "$SCRATCH/damaged/$name.db"
	# shellcheck disable=SC2059 # the bytes are printf's escapes
	printf "$bytes" | dd of="$SCRATCH/damaged/$name.db" bs=1 seek=$(((page - 1) * page_size + offset)) \
		conv=notrunc status=none
}
# ev_connect's root (an interior page) and a leaf of it
root=$(sqlite3 -batch "$SCRATCH/direct/gen.db" "SELECT rootpage FROM sqlite_schema WHERE name = 'ev_connect'")
leaf=$(sqlite3 -batch "$SCRATCH/direct/gen.db" \
	"SELECT pageno FROM dbstat WHERE name = 'ev_connect' AND pagetype = 'leaf' LIMIT 1 OFFSET 3")
check_eq "damage: ev_connect's root is an interior page" "02" \
	"$(od -An -tx1 -j $(((root - 1) * page_size)) -N1 "$SCRATCH/direct/gen.db" | tr -d ' ')"
# A cell's pointer (the leaf's first) past the page's end
damage pointer "$leaf" 8 '\xff\xf0'
# A cell count (the leaf's) more than its page holds
damage count "$leaf" 3 '\x7f\xff'
# A child page number (the root's first cell's) past the file's end
cell=$(od -An -tu2 --endian=big -j $(((root - 1) * page_size + 12)) -N2 "$SCRATCH/direct/gen.db" | tr -d ' ')
damage child "$root" "$cell" '\x7f\xff\xff\xff'
# A later child's page number past the file's end: its siblings before it read ahead
later=$(od -An -tu2 --endian=big -j $(((root - 1) * page_size + 12 + 2 * 3)) -N2 "$SCRATCH/direct/gen.db" | tr -d ' ')
damage ahead "$root" "$later" '\x7f\xff\xff\xff'
# A child that is the root itself: a cycle, bounded by the tree's depth
damage cycle "$root" "$cell" "$(be32 "$root")"
# A child that is another table's leaf (ev_close's), in key order nowhere
other=$(sqlite3 -batch "$SCRATCH/direct/gen.db" \
	"SELECT pageno FROM dbstat WHERE name = 'ev_close' AND pagetype = 'leaf' ORDER BY pageno DESC LIMIT 1")
damage other "$root" "$cell" "$(be32 "$other")"
# A child that is a page of another kind (a rowid table's: the task table's root)
task=$(sqlite3 -batch "$SCRATCH/direct/gen.db" "SELECT rootpage FROM sqlite_schema WHERE name = 'task'")
damage kind "$root" "$cell" "$(be32 "$task")"

# refuses NAME COMMAND LINE: one line on stderr, LINE (a pattern), and a non-zero status
refuses() {
	local name=$1 command=$2 line=$3
	# shellcheck disable=SC2086 # the command's words
	(cd "$SCRATCH/damaged" && "$report" $command "$name.db") > "$SCRATCH/out" 2> "$SCRATCH/err"
	rc=$?
	if [ $rc != 0 ] && [ "$(wc -l < "$SCRATCH/err")" == 1 ] && grep -q "^report: $name.db: $line" "$SCRATCH/err"; then
		pass "damaged $name: $command refuses in one line"
	else
		fail "damaged $name: $command refuses in one line" \
			"status $rc, stderr: $(head -c 300 "$SCRATCH/err" | tr '\n' ' ')"
	fi
}
for name in pointer count child ahead cycle other kind; do
	for command in tcpconnect timeline "timeline -c" tcplife exfil scans; do
		refuses "$name" "$command" "cannot read ev_connect: corrupt capture: "
	done
	# (its SQL aggregates over ev_connect may find the damage first, at once)
	refuses "$name" summary "cannot read ev_connect: "
done
# A range after the damage, which lies in the table's first leaves, never
# reads them (as SQLite's seek does not): the rows of the intact file.  One
# before it reads them, and refuses.
intact=$(cd "$SCRATCH/direct" && "$report" tcpconnect --since "$late" gen.db 2>&1)
for name in pointer count child ahead cycle other kind; do
	check_eq "damaged $name: tcpconnect --since (after the damage) reads the intact rows" "$intact" \
		"$(cd "$SCRATCH/damaged" && "$report" tcpconnect --since "$late" "$name.db" 2>&1)"
	refuses "$name" "tcpconnect --until $middle" "cannot read ev_connect: corrupt capture: "
done
# html counts ev_connect's rows by t (its activity chart) as it reads them,
# in another thread: either finds the damage first.
for name in pointer count child ahead cycle other kind; do
	refuses "$name" "html -o $SCRATCH/damaged.html" \
		"cannot \(count connect events\|read ev_connect\): corrupt capture: "
done
# The address table's pages (read whole by the lookups): a child of its root
# past the file's end, the root itself, another table's leaf (key order).
aroot=$(sqlite3 -batch "$SCRATCH/direct/gen.db" "SELECT rootpage FROM sqlite_schema WHERE name = 'address'")
check_eq "damage: address's root is an interior page" "05" \
	"$(od -An -tx1 -j $(((aroot - 1) * page_size)) -N1 "$SCRATCH/direct/gen.db" | tr -d ' ')"
cell=$(od -An -tu2 --endian=big -j $(((aroot - 1) * page_size + 12 + 2)) -N2 "$SCRATCH/direct/gen.db" | tr -d ' ')
damage achild "$aroot" "$cell" '\x7f\xff\xff\xff'
damage acycle "$aroot" "$cell" "$(be32 "$aroot")"
aother=$(sqlite3 -batch "$SCRATCH/direct/gen.db" \
	"SELECT pageno FROM dbstat WHERE name = 'task' AND pagetype = 'leaf' ORDER BY path LIMIT 1")
damage aother "$aroot" "$cell" "$(be32 "$aother")"
aleaf=$(sqlite3 -batch "$SCRATCH/direct/gen.db" \
	"SELECT pageno FROM dbstat WHERE name = 'address' AND pagetype = 'leaf' LIMIT 1 OFFSET 2")
damage acount "$aleaf" 3 '\x7f\xff'
for name in achild acycle aother acount; do
	for command in tcpconnect tcpreset timeline; do
		refuses "$name" "$command" "cannot read address [0-9]*: corrupt capture: "
	done
done
# ev_capable's rows are read by SQL (a condition on audit), which follows a
# child that is another table's leaf without a word: its count finds it, or
# html's events reader, whichever of its threads reaches the damage first.
root=$(sqlite3 -batch "$SCRATCH/direct/gen.db" "SELECT rootpage FROM sqlite_schema WHERE name = 'ev_capable'")
check_eq "damage: ev_capable's root is an interior page" "02" \
	"$(od -An -tx1 -j $(((root - 1) * page_size)) -N1 "$SCRATCH/direct/gen.db" | tr -d ' ')"
cell=$(od -An -tu2 --endian=big -j $(((root - 1) * page_size + 12)) -N2 "$SCRATCH/direct/gen.db" | tr -d ' ')
damage capable "$root" "$cell" "$(be32 "$other")"
refuses capable "html -o $SCRATCH/damaged.html" "cannot \(count capable events\|read ev_capable\): corrupt capture: rows out of key order"
