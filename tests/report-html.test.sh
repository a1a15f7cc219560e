# report html: the page, loaded in a real browser (Debian's chromium,
# headless, in a network namespace of its own: no network at all), holds
# the findings and counts the fixtures hold; the browser made no request
# on the page's behalf (its net log); hostile process and host names are
# shown as text and run nothing; the page is bounded over a big capture.
# Needs chromium (scripts/install-deps; installed here when root can).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

load_fixtures scan-connect bruteforce-ssh caps lineage lost losses unclean shells logins-guessed logins-benign capgroups
files=(scan-connect.db bruteforce-ssh.db caps.db lineage.db)

if ! command -v chromium > /dev/null && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
		--no-install-recommends chromium > /dev/null 2>&1
fi
browser=$(command -v chromium)

# browse PAGE NAME [chromium options...]: load file://PAGE with no network,
# its DOM in $SCRATCH/NAME.dom, the browser's net log in $SCRATCH/NAME.net
browse() {
	local page=$1 name=$2 offline=(unshare --net)
	shift 2
	[ "$(id -u)" = 0 ] || offline=(unshare --user --map-root-user --net)
	(cd "$SCRATCH" && timeout 120 "${offline[@]}" "$browser" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --user-data-dir="$(mktemp -d "$SCRATCH/profile.XXXXXX")" \
		--log-net-log="$SCRATCH/$name.net" "$@" --dump-dom "file://$page") \
		> "$SCRATCH/$name.dom" 2> "$SCRATCH/$name.browser.err"
}

# The requests a page made: in chromium's net log, a request the browser
# makes for itself (its updater, which the flags do not all stop) has the
# initiator "not an origin"; one a file:// page makes, its opaque origin, "null".
page_requests() {
	grep -o '"initiator":"[^"]*"' "$SCRATCH/$1.net" | grep -vc '"not an origin"'
}

# in_dom NAME TEXT: how many times TEXT is in the DOM
in_dom() { grep -oF -- "$2" "$SCRATCH/$1.dom" | wc -l; }

run_report html -o page.html "${files[@]}"
check_eq "html: status 0, nothing on stdout or stderr" "0::" "$rc:$(cat "$SCRATCH/out"):$(cat "$SCRATCH/err")"

# --- Self-contained, by the file alone ------------------------------------------------
page=$SCRATCH/page.html
check_eq "html: one policy forbidding every fetch" \
	"1" "$(grep -cF "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">" "$page")"
check_eq "html: no reference outside the file (src, href but #, url(), @import)" "" \
	"$(grep -oiE '(src|href)="[^#"][^"]*"|url\(|@import' "$page" | head -3)"

# Losses and an unclean stop, said at the top and per capture.
run_report html -o lost.html lost.db unclean.db
for kind in $(sqlite3 "$SCRATCH/lost.db" "select name from event_kind where lost > 0"); do
	check_eq "losses: $kind's, as event_kind counts them" "1" \
		"$(grep -c "<span class=\"kind bad\" data-kind=\"$kind\" data-lost=\"$(q lost "select lost from event_kind where name = '$kind'")\">" "$SCRATCH/lost.html")"
done
check_eq "losses: the verdict counts them all" "1" \
	"$(grep -c "data-lost=\"$(q lost "select sum(lost) from event_kind")\">[0-9]* lost</span> <span class=\"verdict found\">NO CLEAN STOP" "$SCRATCH/lost.html")"
check_eq "losses: the capture that did not stop cleanly says so" "1" \
	"$(grep -c '<td>unclean.db</td>.*NO CLEAN STOP (killed, or still recording)' "$SCRATCH/lost.html")"
check_eq "losses: a capture of an older recorder says it does not tell when, nor who" "1:1" \
	"$(grep -c 'when and by whom: not kept by its recorder' "$SCRATCH/lost.html"):$(grep -c 'not told by captures of older recorders' "$SCRATCH/lost.html")"
run_report html -o losses.html losses.db
check_eq "losses: the process that lost most, in the captures table" "1" \
	"$(grep -c "<span class=\"note\">capable: $(q losses "select count || ' from pid ' || pid || ' ' || comm from process_loss where kind = 'capable' order by count desc limit 1")</span>" "$SCRATCH/losses.html")"

if [ -z "$browser" ]; then
	skip "html: in a browser" "no chromium (scripts/install-deps installs it; installing needs root)"
	exit 0
fi

# --- The method, shown able to fail: a page without the policy that fetches ------------
printf '<!DOCTYPE html><html><head><title>t</title></head><body><img src="http://127.0.0.1:9/x.png"></body></html>' \
	> "$SCRATCH/fetching.html"
browse "$SCRATCH/fetching.html" fetching
check "control: the net log sees a page's request" test "$(page_requests fetching)" -ge 1
{
	sed -n '1,/<\/head>/p' "$page" | sed 's/<title>.*<\/title>/<title>t<\/title>/'
	echo "<body><div id=\"blocked\" hidden><ul></ul></div><img src=x onerror=document.title='pwned'><img src=\"http://127.0.0.1:9/x.png\"></body></html>"
} > "$SCRATCH/unescaped.html"
browse "$SCRATCH/unescaped.html" unescaped
check_eq "control: a name left unescaped would run, under the same policy" "1" \
	"$(in_dom unescaped '<title>pwned</title>')"
check_eq "control: a fetch the policy blocks is listed in the page" "1" \
	"$(grep -c '<div id="blocked">.*img-src http://127.0.0.1:9/x.png' "$SCRATCH/unescaped.dom")"
check_eq "control: ... and never requested" "0" "$(page_requests unescaped)"

# --- The page in the browser ------------------------------------------------------------
browse "$page" page --screenshot="$SCRATCH/page.png" --window-size=1280,2400
check_eq "browser: loaded the page" "1" "$(in_dom page '<h1>Casefile report</h1>')"
check_eq "browser: no request on the page's behalf (net log)" "0" "$(page_requests page)"
check_eq "browser: nothing blocked (no violation of the policy)" "1" "$(in_dom page '<div id="blocked" hidden="">')"
check_eq "browser: the script ran (a filter box per sortable table)" \
	"$(grep -o 'class="sortable' "$page" | wc -l)" "$(in_dom page 'class="filter"')"
check "browser: a screenshot of 1280x2400" test "$(od -An -tx1 -j16 -N8 "$SCRATCH/page.png" | tr -d ' \n')" = 0000050000000960
[ -n "${UPDATE_GOLDEN:-}" ] && cp "$SCRATCH/page.png" docs/report-example.png

# Captures: every kind's records, as event_kind holds them.
for f in scan-connect bruteforce-ssh caps lineage; do
	expected=$(sqlite3 "$SCRATCH/$f.db" "select group_concat(name || '=' || recorded, ' ') from
		(select * from event_kind where enabled order by name)")
	actual=$(sed -n "/<td>$f.db<\/td>/p" "$SCRATCH/page.dom" | grep -o 'data-kind="[a-z]*" data-recorded="[0-9]*"' |
		sed 's/data-kind="\([a-z]*\)" data-recorded="\([0-9]*\)"/\1=\2/' | sort | paste -sd' ')
	check_eq "captures: $f's events per kind" "$expected" "$actual"
done
check_eq "captures: nothing lost, all four stopped cleanly" "1:4" \
	"$(in_dom page 'data-lost="0">0 lost</span> <span class="verdict none">clean stop'):$(grep -o '<td class="">clean' "$SCRATCH/page.dom" | wc -l)"

# Detections: each finding of scans and bruteforce (which tests/attacks.test.sh
# holds to the SQL reference), with its count; the verdicts.
(cd "$SCRATCH" && "$report" scans --format json "${files[@]}") > "$SCRATCH/scans.json" 2> /dev/null
(cd "$SCRATCH" && "$report" bruteforce --format json "${files[@]}") > "$SCRATCH/bruteforce.json" 2> /dev/null
for kind in portscan outbound; do
	check_eq "detections: every $kind with its events" \
		"$(jq -r "select(.detection == \"$kind\") | .probes // .connects" "$SCRATCH/scans.json" | paste -sd,)" \
		"$(grep -o "class=\"finding\" data-kind=\"$kind\" data-events=\"[0-9]*\"" "$SCRATCH/page.dom" | grep -o '[0-9]*"$' | tr -d '"' | paste -sd,)"
done
check_eq "detections: the brute force with its connections" \
	"$(jq -r .connections "$SCRATCH/bruteforce.json" | paste -sd,)" \
	"$(grep -o 'class="finding" data-kind="bruteforce" data-events="[0-9]*"' "$SCRATCH/page.dom" | grep -o '[0-9]*"$' | tr -d '"' | paste -sd,)"
check_eq "detections: port scans of 996 ports and 996 probes (fixtures/ATTACKS.md)" "2" \
	"$(grep -c 'data-kind="portscan" data-events="996"><td class="n">[0-9]*</td><td class="who">[^<]*</td><td class="who">[^<]*</td><td class="n" data-count="996">996</td><td class="n" data-count="996">' "$SCRATCH/page.dom")"
check_eq "verdicts: no guessed login, 2 port scans, no sweep, 2 outbound, 1 brute force" \
	"guessed=0 portscan=2 sweep=0 outbound=2 bruteforce=1" \
	"$(grep -o '<li id="verdict-[a-z]*"><a href="[^"]*">[^<]*</a>: <span class="verdict [a-z]*" data-found="[0-9]*"' "$SCRATCH/page.dom" |
		sed 's/<li id="verdict-\([a-z]*\)".*data-found="\([0-9]*\)"/\1=\2/' | paste -sd' ')"
check_eq "detections: each names the command that shows its events" "5" \
	"$(grep -o '<code>report timeline --since [^<]* scan-connect.db bruteforce-ssh.db caps.db lineage.db</code>' "$SCRATCH/page.dom" | wc -l)"

# The chart: each kind's total over the captures, and a mark per finding.
for kind in connect:ev_connect accept:ev_accept reset:ev_reset capable:ev_capable "exec:process where how = 'exec'" dns:dns; do
	total=0
	for f in scan-connect bruteforce-ssh caps lineage; do
		table=${kind#*:}
		n=$(sqlite3 "$SCRATCH/$f.db" "select count(*) from ${table%% where*} ${table#"${table%% where*}"}" 2> /dev/null || echo 0)
		total=$((total + n))
	done
	check_eq "chart: ${kind%%:*} events, all of them" "$total" \
		"$(grep -o "class=\"strip\" data-kind=\"${kind%%:*}\" data-total=\"[0-9]*\"" "$SCRATCH/page.dom" | grep -o '[0-9]*"$' | tr -d '"')"
done
check_eq "chart: a mark per finding" "5" "$(grep -o 'class="mark" data-finding=' "$SCRATCH/page.dom" | wc -l)"

# Talkers: nmap's two processes, 1000 connects each, as tcpconnect has them.
for pid in $(q scan-connect "select pid from tcpconnect where comm = 'nmap' group by pid" | tr , ' '); do
	check_eq "talkers: nmap/$pid with its connects and failures" "1" \
		"$(in_dom page "<tr class=\"talker\"><td>nmap/$pid</td><td class=\"n\" data-count=\"$(q scan-connect "select count(*) from tcpconnect where pid = $pid")\">")"
done

# Programs that stand out, and the process tree of what they and the findings involve.
check_eq "programs: the five of lineage, as summary has them" \
	"$(cd "$SCRATCH" && "$report" summary --format json "${files[@]}" 2> /dev/null | jq -r 'select(.section == "program") | .subject' | paste -sd,)" \
	"$(grep -o '<tr class="program"><td>[^<]*' "$SCRATCH/page.dom" | sed 's/.*<td>//' | paste -sd,)"
check_eq "programs: each with its command line" "1" "$(in_dom page '<td>./gone.out evil.casefile.test 9 4</td>')"
check_eq "tree: each program that stands out, shaded, under its parents" "5" \
	"$(grep -o '<span class="involved">[^<]*<code>/tmp/casefile-lineage[^<]*</code>[^<]*<b class="bad">stands out' "$SCRATCH/page.dom" | wc -l)"
check_eq "tree: up to the first process the capture knows" "1" "$(grep -c '<li data-pid="1"><span>process_api(1)' "$SCRATCH/page.dom")"

# Capability use: the checks that audit or may, as the capture counts them.
# (caps and lineage recorded checks)
audited() { # SQL condition: the checks of caps and lineage that audit or may, as one count
	echo $(($(sqlite3 "$SCRATCH/caps.db" "select count(*) from capable where audit is not 0 $1") +
		$(sqlite3 "$SCRATCH/lineage.db" "select count(*) from capable where audit is not 0 $1")))
}
# Both captures predate ev_capable.denies: a refused CAP_SETPCAP may be cap_capset's, no denial.
check_eq "capabilities: checks that audit or may, and denials" \
	"$(audited ""):$(audited "and verdict = 'deny' and cap != 8")" \
	"$(grep -o 'data-checks="[0-9]*"' "$SCRATCH/page.dom" | grep -o '[0-9]*'):$(grep -o 'data-denied="[0-9]*"' "$SCRATCH/page.dom" | grep -o '[0-9]*')"
check_eq "capabilities: the flags of caps (report caps)" \
	"$(cd "$SCRATCH" && "$report" caps --format json "${files[@]}" 2> /dev/null | jq -r 'select(.flag != null) | .flag' | paste -sd,)" \
	"$(grep -o '<tr class="flag" data-flag="[a-z_]*"' "$SCRATCH/page.dom" | grep -o '"[a-z_]*"$' | tr -d '"' | paste -sd,)"
check_eq "capabilities: a histogram bar per capability checked" \
	"$(sqlite3 "$SCRATCH/caps.db" "attach '$SCRATCH/lineage.db' as l; select count(distinct cap) from
		(select cap from capable where audit is not 0 union all select cap from l.capable where audit is not 0)")" \
	"$(sed -n '/<h3>By capability<\/h3>/,/<\/table>/p' "$SCRATCH/page.dom" | grep -c '<rect width')"

# --- Capability flags grouped, as caps and summary group them -----------------------------
# fixtures/capgroups: capcheck run three times by nobody, each run refused
# CAP_SYS_ADMIN twice (privileged, denied: one row each for the three), then
# refused CAP_SETUID once (a row of one process).  Each row, counts and span,
# exactly as `report caps --format csv` has the group, in the page as written
# (no script needed) and in the browser's DOM.
run_report html -o groups.html capgroups.db
check_eq "groups: the page is written" "0" "$rc"
(cd "$SCRATCH" && "$report" caps --format csv capgroups.db) > "$SCRATCH/groups.csv"
groups_of_caps() { # flag|program|user|capability|processes|checks|denied|first|last
	awk -F, '$1 == "flag" {
		program = $16 > 1 ? $4 ", " $16 " processes" : $4 "/" $3
		user = $6 != "" ? $6 " (uid " $5 ")" : "uid " $5
		first = $11; last = $12
		sub(/T/, " ", first); sub(/Z$/, " UTC", first); sub(/T/, " ", last); sub(/Z$/, " UTC", last)
		print $13 "|" program "|" user "|" $8 "|" $16 "|" $9 "|" $10 "|" first "|" last
	}' "$SCRATCH/groups.csv"
}
groups_of_page() {
	sed -n 's|.*<tr class="flag" data-flag="\([a-z_]*\)"><td>[^<]*</td><td>\([^<]*\)</td><td>\([^<]*\)</td><td>\([^<]*\)</td><td class="n" data-count="\([0-9]*\)">[0-9]*</td><td class="n" data-count="\([0-9]*\)">[0-9]*</td><td class="n" data-count="\([0-9]*\)">[0-9]*</td><td><time title="\([^"]*\)">[^<]*</time></td><td><time title="\([^"]*\)">.*|\1\|\2\|\3\|\4\|\5\|\6\|\7\|\8\|\9|p' "$1"
}
runs=$(q capgroups "SELECT count(DISTINCT pid) FROM capable WHERE comm = 'capcheck' AND cap = 21 AND verdict = 'deny' AND audit IS NOT 0")
check_eq "groups: the fixture's $runs runs of capcheck, privileged and denied, one row each" "2" \
	"$(groups_of_caps | grep -c "^[a-z]*|capcheck, $runs processes|nobody (uid 65534)|CAP_SYS_ADMIN|$runs|")"
check_eq "groups: each row as report caps --format csv, in the page as written" "$(groups_of_caps)" \
	"$(groups_of_page "$SCRATCH/groups.html")"
browse "$SCRATCH/groups.html" groups
check_eq "groups: ... and in the browser" "$(groups_of_caps)" "$(groups_of_page "$SCRATCH/groups.dom")"
check_eq "groups: the user's bar named from the capture's accounts" "1" \
	"$(in_dom groups "<tr><td>nobody (uid 65534)</td><td class=\"n\" data-count=\"$(q capgroups "SELECT count(*) FROM capable WHERE audit IS NOT 0")\">")"

# --- Hostile names ----------------------------------------------------------------------
cp "$SCRATCH/scan-connect.db" "$SCRATCH/hostile.db"
nmap=$(q scan-connect "select pid from tcpconnect where comm = 'nmap' group by pid order by pid" | tr ',' ' ')
read -r first second <<< "$nmap"
sqlite3 "$SCRATCH/hostile.db" "
	UPDATE task SET comm = '<img src=x onerror=document.title=''pwned''>' WHERE pid = $first;
	UPDATE task SET comm = char(27) || '[31mRED' || char(27) || ']0;t' || char(7) || '<script>document.title=''pwned2''</script>' WHERE pid = $second;
	UPDATE capture SET hostname = '<img src=http://127.0.0.1:9/h.png>';
	UPDATE event_kind SET name = '\"><img src=x onerror=document.title=1>' WHERE name = 'unaccepted';"
run_report html -o hostile.html hostile.db
check_eq "hostile: the page is written" "0" "$rc"
browse "$SCRATCH/hostile.html" hostile
check_eq "hostile: no script of a name ran (the title is the page's)" "1" \
	"$(in_dom hostile '<title>Casefile report: &lt;img src=http://127.0.0.1:9/h.png&gt;</title>')"
check_eq "hostile: no element made from a name" "0" "$(grep -c '<img\|<script>document' "$SCRATCH/hostile.dom")"
check_eq "hostile: the names shown as text (a talker, and an outbound scanner)" "2 2" \
	"$(in_dom hostile ">&lt;img src=x onerror=document.title='pwned'&gt;/$first</td>") $(in_dom hostile ">\\x1b[31mRED\\x1b]0;t\\x07&lt;script&gt;document.title='pwned2'&lt;/script&gt;/$second</td>")"
check_eq "hostile: no request, nothing blocked" "0:1" "$(page_requests hostile):$(in_dom hostile '<div id="blocked" hidden="">')"

# --- Losses on the time axis, where the capture says they were -------------------------------
# fixtures/losses.sql: two storms a second apart, each losing records in an
# interval.  One capture and no --since: the axis runs from its start to its
# stop in 120 buckets of whole nanoseconds, x = 110 + 1000 * (t - start) / span.
browse "$SCRATCH/losses.html" losses
check_eq "chart losses: a shade per loss interval, with its kind, count and times" \
	"$(q losses "select group_concat(l.kind || ':' || l.count || ':' || (m.base_ns + l.first_t + m.realtime_offset_ns) || ':' ||
		(m.base_ns + l.last_t + m.realtime_offset_ns), ' ') from (select * from loss order by first_t) l, capture m")" \
	"$(grep -o '<rect class="loss" data-kind="[a-z]*" data-lost="[0-9]*" data-first-ns="[0-9]*" data-last-ns="[0-9]*"' "$SCRATCH/losses.dom" |
		sed 's/.*data-kind="\([a-z]*\)" data-lost="\([0-9]*\)" data-first-ns="\([0-9]*\)" data-last-ns="\([0-9]*\)"/\1:\2:\3:\4/' | paste -sd' ')"
# Where each interval should be (x, width: 2 at least), then where it is, side by side.
misplaced=$(paste -d' ' <(sqlite3 -separator ' ' "$SCRATCH/losses.db" "select 110 + 1000.0 * (m.base_ns + l.first_t + m.realtime_offset_ns - m.started_at_ns) / s.span,
		max(2, 1000.0 * (l.last_t - l.first_t) / s.span) from (select * from loss order by first_t) l, capture m,
		(select ((stopped_at_ns - started_at_ns + 119) / 120) * 120 as span from capture) s") \
	<(grep -o '<rect class="loss"[^>]* x="[0-9.]*" y="[0-9]*" width="[0-9.]*"' "$SCRATCH/losses.dom" |
		sed 's/.* x="\([0-9.]*\)" y="[0-9]*" width="\([0-9.]*\)"/\1 \2/') |
	awk '{ n++; if ($1 - $3 > 0.06 || $3 - $1 > 0.06 || $2 - $4 > 0.11 || $4 - $2 > 0.11) bad = bad " [" $0 "]" }
		END { print n + 0 ":" bad }')
check_eq "chart losses: each drawn from the look before its losses to the look that found them" \
	"$(q losses "select count(*) from loss"):" "$misplaced"
check_eq "chart losses: the row of losses, counting them" "1" \
	"$(in_dom losses "<g class=\"strip losses\" data-kind=\"lost\" data-total=\"$(q losses "select lost from event_kind where name = 'capable'")\">")"

# --- Logins and shells: summary's findings, first -------------------------------------------
# fixtures/shells.truth: 1 reverse shell, 2 listeners (ncat, socat) of 2
# shells each; logins-guessed.truth: uid 4246 let in after the failures.
run_report html -o got-in.html shells.db logins-guessed.db
check_eq "got in: the page is written" "0" "$rc"
check_eq "got in: the verdicts, those where someone got in first" \
	"netshell=1 bindshell=2 guessed=1 portscan=0 sweep=0 outbound=0 bruteforce=1" \
	"$(grep -o '<li id="verdict-[a-z]*"><a href="[^"]*">[^<]*</a>: <span class="verdict [a-z]*" data-found="[0-9]*"' "$SCRATCH/got-in.html" |
		sed 's/<li id="verdict-\([a-z]*\)".*data-found="\([0-9]*\)"/\1=\2/' | paste -sd' ')"
check_eq "got in: a row per finding, as summary has them" \
	"$(cd "$SCRATCH" && "$report" summary --format json shells.db logins-guessed.db | jq -r 'select(.section == "detection" and .count > 0) | .kind' | sort | uniq -c | awk '{ print $2 "=" $1 }' | paste -sd' ')" \
	"$(grep -o 'class="finding" data-kind="[a-z]*"' "$SCRATCH/got-in.html" | sed 's/.*data-kind="\([a-z]*\)"/\1/' | sort | uniq -c | awk '{ print $2 "=" $1 }' | paste -sd' ')"
check_eq "got in: the guessed login's rows named" "1" \
	"$(grep -c 'its rows: <code>report proc 4305@[0-9]* logins-guessed.db</code>' "$SCRATCH/got-in.html")"
# The user let in, as summary names it: by uid (logins-guessed has no accounts), then by the
# name the accounts of logins-benign (recorded on the same host) give it.
let_in() { grep -o '[^>:]* let in after [0-9]* failed logins' "$1"; }
guessed_uid=$(awk '$3 == "succeeded" { print $5 }' fixtures/logins-guessed.truth)
check_eq "got in: the user let in, by uid where no capture names it, as summary says" \
	"uid $guessed_uid|$(run_report summary shells.db logins-guessed.db && let_in "$SCRATCH/out" | sed 's/^ *//')" \
	"$(let_in "$SCRATCH/got-in.html" | sed 's/ let in.*//')|$(let_in "$SCRATCH/got-in.html")"
run_report html -o named.html logins-guessed.db logins-benign.db
check_eq "got in: ... and by the name the host's accounts give it" \
	"$(q logins-benign "SELECT name FROM account WHERE kind = 'user' AND id = $guessed_uid") (uid $guessed_uid)|$(run_report summary logins-guessed.db logins-benign.db && let_in "$SCRATCH/out" | sed 's/^ *//')" \
	"$(let_in "$SCRATCH/named.html" | sed 's/ let in.*//')|$(let_in "$SCRATCH/named.html")"
check_eq "got in: older captures say the shells were not recorded (no exec streams)" "2" \
	"$(grep -c 'No exec streams in the captures' "$SCRATCH/page.html")"

# --- Connection lives (the close kind) ------------------------------------------------------
load_fixtures lives
run_report html -o lives.html lives.db
pcr_pair=$(sqlite3 "$SCRATCH/lives.db" "select c.comm || '/' || c.pid || '</td><td>' || c.daddr || '</td>' ||
	'<td class=\"n\" data-count=\"1\">1</td><td class=\"n\" data-count=\"' || l.tx_bytes || '\">' || l.tx_bytes from tcpclose l
	join tcpconnect c on c.lport = l.lport and c.dport = l.rport where l.tx_bytes >= 1000000 and l.rx_bytes < 10000")
check_eq "lives: the upload's pair, its bytes out, flagged" "1" \
	"$(grep -cF "<tr class=\"pair\"><td>$pcr_pair</td>" "$SCRATCH/lives.html")"
check_eq "lives: one pair flagged, as report exfil flags" \
	"$(run_report exfil --format csv lives.db && grep -c ',exfil,' "$SCRATCH/out")" \
	"$(grep -c '<td>exfiltration?</td></tr>' "$SCRATCH/lives.html")"
run_report html -o nolives.html scan-connect.db
check "lives: a capture without the close kind says so" grep -q 'The captures hold no connection lives' "$SCRATCH/nolives.html"

# --- Bounded ------------------------------------------------------------------------------
# bench/gen's capture: 200k events, hundreds of processes and addresses.
if "$BUILD/bench/gen" 200000 "$SCRATCH/gen.db" > /dev/null 2>&1; then
	run_report html -o gen.html gen.db
	check_eq "bounded: a generated capture's page is written" "0" "$rc"
	check "bounded: under 200 KB" test "$(stat -c %s "$SCRATCH/gen.html")" -lt 200000
	check "bounded: says what it left out, and how to get it" grep -q '<li data-omitted="[0-9]*">[0-9]* more processes making connects: <code>report tcpconnect gen.db</code>' "$SCRATCH/gen.html"
	check_eq "bounded: at most 25 talkers shown" "25" "$(grep -c '<tr class="talker"><td>[^<]*/[0-9]*</td>' "$SCRATCH/gen.html")"
else
	fail "bounded: bench/gen made a capture" "$("$BUILD/bench/gen" 200000 "$SCRATCH/gen.db" 2>&1 | head -2)"
fi

# --- The command line -----------------------------------------------------------------------
refused "html: no -o" html scan-connect.db
refused "html: an unwritable page" html -o /nonexistent/dir/p.html scan-connect.db
sum_before=$(sha256sum < "$SCRATCH/caps.db")
refused "html: a page over one of its captures" html -o caps.db scan-connect.db caps.db
check_eq "html: ... left as it was" "$sum_before" "$(sha256sum < "$SCRATCH/caps.db")"
