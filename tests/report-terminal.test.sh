# report on a terminal.  80 columns: tables fitted (columns dropped by rank,
# long cells cut with "..."), pages wrapped between words, times never split,
# COMM cut as BCC cuts it; full width in a pipe, JSON and CSV never cut.
# Terminal mode is forced with --width, and found through a pty (script).
# Long work: progress on stderr when it is a terminal, never in a pipe.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures basic lineage scan-connect bruteforce-ssh stacks web1 web2 logins-guessed lives beacons \
	caps logins-benign

# longest FILE: the widest line of FILE, in characters
longest() { awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }' "$1"; }

# --- Every view fits 80 columns ------------------------------------------------------------
lineage_pid=$(q lineage "select pid from process where instr(args, char(10)) > 0 limit 1")
session=$(q logins-benign "SELECT pid FROM process WHERE how = 'exec' AND args LIKE '%sshd_config -R' LIMIT 1")
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
tcplife -w lives.db
exfil --min-bytes 1 lives.db
exfil lives.db
beacons beacons.db
tcpconnect -t -o -d -l -L -U lineage.db web1.db web2.db
tcpaccept -t -l basic.db
tcpreset -r -l basic.db
capable -x -l -v basic.db
capable -K -U stacks.db
caps basic.db
caps caps.db
caps -v -n 0 web1.db web2.db
tcpconnect -c basic.db
tcpconnect -c web1.db web2.db
info lives.db
summary lives.db beacons.db logins-guessed.db caps.db
scans scan-connect.db
bruteforce bruteforce-ssh.db
bruteforce logins-guessed.db
logins logins-guessed.db
proc $lineage_pid lineage.db
proc --depth 2 $session logins-benign.db
VIEWS
check_eq "--width 80: every view's every line within 80 columns" "" "$over"

# A table's rows and a page's tables (caps' bars, proc's processes) stay one line each: only
# prose wraps ("#" headings, summary, info), its lines then indented.  rows FILE: how many
# lines start neither with a space nor "#", or are a caps bar or a proc process.
rows() { grep -cE '^[^ #]|^  .* : |^ +(fork|exec|running) +[0-9]|^  [0-9]+ ' "$1"; }
wrapped=""
while read -r view; do
	# shellcheck disable=SC2086 # a view is a command, its options and its files
	run_report $view
	full=$(rows "$SCRATCH/out")
	# shellcheck disable=SC2086
	run_report $view --width 80
	[ "$(rows "$SCRATCH/out")" == "$full" ] || wrapped+="[$view: $full rows, $(rows "$SCRATCH/out") at 80] "
done << VIEWS
timeline -c basic.db scan-connect.db
tcplife -w lives.db
exfil lives.db
beacons beacons.db
logins logins-benign.db
scans scan-connect.db
bruteforce logins-guessed.db
caps caps.db
caps -v -n 0 web1.db web2.db
tcpconnect -c basic.db
tcpconnect -c web1.db web2.db
proc --depth 2 $session logins-benign.db
proc $lineage_pid lineage.db
VIEWS
check_eq "--width 80: every row of a table one line, as in a pipe" "" "$wrapped"

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

run_report tcpconnect -c web1.db web2.db
check_eq "tcpconnect -c in a pipe: BCC's columns" "HOST LADDR RADDR RPORT CONNECTS" "$(head -1 "$SCRATCH/out" | tr -s ' ')"
cp "$SCRATCH/out" "$SCRATCH/full"
run_report tcpconnect -c --width 80 web1.db web2.db
check_eq "... at 80, our own address gives way" "HOST RADDR RPORT CONNECTS" "$(head -1 "$SCRATCH/out" | tr -s ' ')"
check_eq "... every count as in the pipe" "$(awk '{ print $1, $3, $4, $5 }' "$SCRATCH/full")" \
	"$(awk 'NR == 1 { print "HOST RADDR RPORT CONNECTS"; next } { print $1, $2, $3, $4 }' "$SCRATCH/out")"
run_report caps -v -n 0 web1.db web2.db
cp "$SCRATCH/out" "$SCRATCH/full"
run_report caps -v -n 0 --width 80 web1.db web2.db
check_eq "caps at 80: the bars give way, every label and count as in the pipe" \
	"$(grep ' : ' "$SCRATCH/full" | sed 's/ *|.*//')" "$(grep ' : ' "$SCRATCH/out" | sed 's/ *|.*//')"
check_eq "... each bar as long as the longest fits (80 columns), its stars in proportion" \
	"80" "$(grep -m1 '|\*' "$SCRATCH/out" | awk '{ print length($0) }')"
run_report caps -v -n 0 --width 40 web1.db web2.db
check_eq "caps at 40: no bars, labels cut with ..., the counts kept" \
	"$(grep ' : ' "$SCRATCH/full" | awk -F' : ' '{ print $2 }' | awk '{ print $1, $2 }')" \
	"$(grep ' : ' "$SCRATCH/out" | awk -F' : ' '{ print $2 }' | awk '{ print $1, $2 }')"
check_match "... a long label cut, marked" '^  web-2:=cmd\|"/\.\.\. : [0-9]+ +[0-9]+$' "$(grep -F 'web-2:=cmd' "$SCRATCH/out" | head -1)"
for format in json csv; do
	for view in "caps -v -n 0" "tcpconnect -c"; do
		# shellcheck disable=SC2086 # the view's words
		run_report $view --format "$format" web1.db web2.db
		cp "$SCRATCH/out" "$SCRATCH/plain"
		# shellcheck disable=SC2086
		run_report $view --format "$format" --width 40 web1.db web2.db
		check "$view --format $format: never cut" cmp "$SCRATCH/plain" "$SCRATCH/out"
	done
done
run_report proc --depth 2 "$session" logins-benign.db
cp "$SCRATCH/out" "$SCRATCH/full"
run_report proc --width 80 --depth 2 "$session" logins-benign.db
check_eq "proc at 80: each process on one line, its time of day whole, its command line cut ..." \
	"$(grep -cE '^ +(fork|exec|running) ' "$SCRATCH/full")" \
	"$(grep -cE '^ +(fork|exec|running) +[0-9]+ +[^ ]+ +uid [0-9]+ +[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}  .*' "$SCRATCH/out")"
check_eq "... and a cut line is the start of the full one's command line" "" \
	"$(grep '\.\.\.$' "$SCRATCH/out" | grep -E '^ +(fork|exec)' | sed -E 's/.*[0-9]{3}  //; s/\.\.\.$//' | while read -r start; do grep -qF -- "$start" "$SCRATCH/full" || echo "$start"; done)"

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
	for view in "caps caps.db" "tcpconnect -c web1.db web2.db" "proc --depth 2 $session logins-benign.db"; do
		(cd "$SCRATCH" && COLUMNS=80 TZ=$TEST_TZ script -qec "$report $view" /dev/null) | tr -d '\r' > "$SCRATCH/tty"
		# shellcheck disable=SC2086 # the view's words
		run_report $view --width 80
		check "on a terminal: ${view%% *} as --width 80" cmp "$SCRATCH/out" "$SCRATCH/tty"
	done
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
