# report on a terminal.  80 columns: tables fitted (columns dropped by rank,
# long cells cut with "..."), pages wrapped between words, times never split,
# COMM cut as BCC cuts it; full width in a pipe, JSON and CSV never cut.
# Terminal mode is forced with --width, and found through a pty (script).
# Long work: progress on stderr when it is a terminal, never in a pipe.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures basic lineage scan-connect bruteforce-ssh stacks web1 web2 logins-guessed lives beacons

# longest FILE: the widest line of FILE, in characters
longest() { awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }' "$1"; }

# --- Every view fits 80 columns ------------------------------------------------------------
lineage_pid=$(q lineage "select pid from process where instr(args, char(10)) > 0 limit 1")
over=""
while read -r view; do
	# shellcheck disable=SC2086 # a view is a command, its options and its files
	run_report $view --width 80
	if [ "$rc" != 0 ] || [ ! -s "$SCRATCH/out" ]; then
		over+="[$view: status $rc, $(wc -l < "$SCRATCH/out") lines] "
	elif [ "$(longest "$SCRATCH/out")" -gt 80 ]; then
		over+="[$view: $(longest "$SCRATCH/out") columns] "
	fi
done << VIEWS
summary basic.db scan-connect.db lineage.db
info basic.db
timeline lineage.db
timeline -l lineage.db
timeline -c basic.db scan-connect.db
timeline -c lives.db
tcplife lives.db
exfil --min-bytes 1 lives.db
beacons beacons.db
tcpconnect -t -o -d -l -L -U lineage.db web1.db web2.db
tcpaccept -t -l basic.db
tcpreset -r -l basic.db
capable -x -l -v basic.db
capable -K -U stacks.db
caps basic.db
scans scan-connect.db
bruteforce bruteforce-ssh.db
bruteforce logins-guessed.db
logins logins-guessed.db
proc $lineage_pid lineage.db
VIEWS
check_eq "--width 80: every view's every line within 80 columns" "" "$over"

# --- What is fitted, and what is not -------------------------------------------------------
run_report timeline lineage.db
cp "$SCRATCH/out" "$SCRATCH/full"
check_match "in a pipe, full width: the timeline is wider than 80 columns" "^(8[1-9]|9[0-9]|[1-9][0-9][0-9]+)$" \
	"$(longest "$SCRATCH/full")"
run_report timeline --width 0 lineage.db
check "--width 0: the same as in a pipe" cmp "$SCRATCH/full" "$SCRATCH/out"
run_report timeline --width 80 lineage.db
check_eq "--width 80: the same lines, one each" "$(wc -l < "$SCRATCH/full")" "$(wc -l < "$SCRATCH/out")"
# A cut cell ends in "...", and is the start of the full line.
cut_line=$(grep -m1 '\.\.\.$' "$SCRATCH/out")
check_match "a command line too long for the line is cut, marked" "x0a|exec" "$cut_line"
check "... and is the full line's start (times and all in place)" \
	grep -qF "${cut_line:0:40}" "$SCRATCH/full"
run_report timeline --width 250 lineage.db
check_eq "a command line with newlines stays on one line, as \\x0a" \
	"$(grep -c 'x0a' "$SCRATCH/full")|$(wc -l < "$SCRATCH/full")" "$(grep -c 'x0a' "$SCRATCH/out")|$(wc -l < "$SCRATCH/out")"
check_eq "every time of the timeline whole, in its column" \
	"$(awk 'NR > 1 { print $2 }' "$SCRATCH/full")" "$(awk 'NR > 1 { print $2 }' "$SCRATCH/out")"
for format in json csv; do
	run_report timeline -c --format "$format" basic.db
	cp "$SCRATCH/out" "$SCRATCH/plain"
	run_report timeline -c --format "$format" --width 80 basic.db
	check "--format $format: never cut, whatever the width" cmp "$SCRATCH/plain" "$SCRATCH/out"
done
run_report timeline -c --width 80 basic.db
check_eq "timeline -c at 80: time, name, both ends and the outcome stay" \
	"TIME COMM CLIENT SERVER OUTCOME" "$(head -1 "$SCRATCH/out" | tr -s ' ')"
run_report timeline -c --width 132 basic.db
check_eq "... at 132, the acceptor and the resets too" \
	"TIME PID COMM CLIENT SERVER OUTCOME LAT(ms) ACCEPTED RESETS" "$(head -1 "$SCRATCH/out" | tr -s ' ')"

# Pages wrap between words: every word and time as the full page has it.
run_report summary basic.db scan-connect.db lineage.db
tr -s ' ' '\n' < "$SCRATCH/out" > "$SCRATCH/words.full"
run_report summary --width 80 basic.db scan-connect.db lineage.db
tr -s ' ' '\n' < "$SCRATCH/out" > "$SCRATCH/words.80"
check "summary at 80: wrapped between words, none cut or lost" cmp "$SCRATCH/words.full" "$SCRATCH/words.80"
check_eq "... no line ends inside a date and time, nor before its zone" 0 \
	"$(grep -cE '(^ *UTC|[0-9]-[0-9]{2}$)' "$SCRATCH/out")"

# --- COMM as BCC cuts it (%-12.12s), in tables only ---------------------------------------
comm=$(q lineage "select comm from task where length(comm) > 12 limit 1")
run_report timeline -v --comm "$comm" lineage.db
check_match "a ${#comm}-character COMM: 12 in a table, its columns in line" "^[0-9.]+ +[0-9:.]+ +[0-9]+ +${comm:0:12} [a-z]" \
	"$(sed -n 2p "$SCRATCH/out")"
run_report timeline -v --comm "$comm" --format json lineage.db
check_match "... whole in JSON" "\"comm\":\"$comm\"" "$(head -1 "$SCRATCH/out")"
run_report tcpconnect web1.db
check_match "an escaped COMM counts its bytes, as BCC's: 10 of them stay whole" '^7510 +\\x1b\]0;pwned\\x07 4 ' \
	"$(grep '^7510 ' "$SCRATCH/out")"

# --- On a terminal: its width, without asking -------------------------------------------------
if script --version > /dev/null 2>&1; then
	(cd "$SCRATCH" && COLUMNS=80 TZ=$TEST_TZ script -qec "$report timeline lineage.db" /dev/null) |
		tr -d '\r' > "$SCRATCH/tty"
	run_report timeline --width 80 lineage.db
	check "on a terminal (a pty, COLUMNS=80): as --width 80" cmp "$SCRATCH/out" "$SCRATCH/tty"
	(cd "$SCRATCH" && COLUMNS=80 TZ=$TEST_TZ script -qec "$report timeline --format csv lineage.db" /dev/null) |
		tr -d '\r' > "$SCRATCH/tty"
	run_report timeline --format csv lineage.db
	check "... but CSV whole" cmp "$SCRATCH/out" "$SCRATCH/tty"
else
	skip "on a terminal: as --width 80" "no script(1) to make a pty"
fi

run_report timeline --width 30 basic.db
check_eq "--width: too narrow is refused in one line" "2|report: timeline: --width wants 0 or 40 to 10000 columns, not '30'" \
	"$rc|$(cat "$SCRATCH/err")"

# --- Long work: progress on a terminal's stderr, nowhere else -------------------------------
# REPORT_PROGRESS_AFTER=0 shows it from the first events, not after 1.5 s.
"$BUILD/bench/gen" 200000 "$SCRATCH/busy.db" > /dev/null 2>&1
run_report timeline busy.db
cp "$SCRATCH/out" "$SCRATCH/timeline"
if script --version > /dev/null 2>&1; then
	for view in timeline bruteforce summary; do
		(cd "$SCRATCH" && REPORT_PROGRESS_AFTER=0 script -qec "$report $view busy.db > $view.out" /dev/null) \
			> "$SCRATCH/progress"
		check_match "$view, stderr a terminal: events read of the total, rate, time left" \
			'^.report: [0-9.]+[kM]? of [0-9.]+[kM]? events read \([0-9]+%\), [0-9.]+[kM]?/s' \
			"$(tr '\r' '\n' < "$SCRATCH/progress" | grep -m1 -a 'events read' | sed 's/^/./')"
		check_eq "... then cleared, the line left empty" "$(printf '\r\033[K')" "$(tail -c 4 "$SCRATCH/progress")"
	done
	check "... standard output as without a terminal" cmp "$SCRATCH/timeline" "$SCRATCH/timeline.out"
else
	skip "progress on a terminal's stderr" "no script(1) to make a pty"
fi
(cd "$SCRATCH" && REPORT_PROGRESS_AFTER=0 "$report" timeline busy.db > "$SCRATCH/out" 2> "$SCRATCH/err")
check_eq "stderr not a terminal: no progress at all" "" "$(cat "$SCRATCH/err")"
check "... and the same output" cmp "$SCRATCH/timeline" "$SCRATCH/out"
