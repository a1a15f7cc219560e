# report redact: the copy finds what the original finds (every detection,
# the same counts), holds none of the original addresses, host names, DNS
# names or user names in any of its bytes, and the same key gives the same
# pseudonyms across a fleet's captures.  No root.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/report-lib.sh"

attacks=(scan-syn scan-connect scan-ack bruteforce-ssh bruteforce-hydra sweep caps benign-busy benign-http
	logins-guessed shells denials)
fleet=(sweep-host1 sweep-host2 sweep-host3 sweep-host4 sweep-host5)
load_fixtures "${attacks[@]}" "${fleet[@]}" lineage stacks losses

printf 'casefile test key, 32 bytes long' > "$SCRATCH/fleet.key"
printf 'another key, also 32 bytes long!' > "$SCRATCH/other.key"

# A capture with what a user's machine holds: a home directory, a user's
# command line naming a host and a user, record's own path under /home.
cp "$SCRATCH/lineage.db" "$SCRATCH/home.db"
sqlite3 "$SCRATCH/home.db" "
	UPDATE process SET exe = '/home/alice/bin/tool', filename = '/home/alice/bin/tool',
		args = '/home/alice/bin/tool --user alice --host db.corp.example'
		WHERE seq IN (SELECT seq FROM process WHERE exe IS NOT NULL LIMIT 3);
	UPDATE capture SET command_line = 'record -o /home/alice/cases/vm-case.db',
		stop_reason = 'signal SIGINT';
	CREATE TABLE IF NOT EXISTS account (kind TEXT NOT NULL, id INTEGER NOT NULL, name TEXT NOT NULL);
	INSERT INTO account VALUES ('user', 4242, 'alice'), ('group', 4242, 'alice');"

# redact NAME [KEY]: $SCRATCH/NAME.db to $SCRATCH/NAME.red.db (NAME.KEY.db with another key)
redact() {
	local key=${2:-fleet} out=$SCRATCH/$1.red.db
	[ "$key" = fleet ] || out=$SCRATCH/$1.$key.db
	rm -f "$out"
	(cd "$SCRATCH" && "$report" redact --key-file "$key.key" "$1.db" "$out") 2> "$SCRATCH/redact.err"
}

inputs=("${attacks[@]}" "${fleet[@]}" lineage stacks losses home)
sha_before=$(cd "$SCRATCH" && sha256sum "${inputs[@]/%/.db}")
failed=()
for name in "${inputs[@]}"; do
	redact "$name" || failed+=("$name: $(head -1 "$SCRATCH/redact.err")")
done
check_eq "redact: every capture (${#inputs[@]})" "" "${failed[*]}"
check_eq "redact: the inputs unchanged" "$sha_before" "$(cd "$SCRATCH" && sha256sum "${inputs[@]/%/.db}")"
check_eq "redact: the copy is a capture, as the original (format, id)" \
	"$(sqlite3 "$SCRATCH/scan-syn.db" 'pragma user_version; pragma application_id' | paste -sd:)" \
	"$(sqlite3 "$SCRATCH/scan-syn.red.db" 'pragma user_version; pragma application_id' | paste -sd:)"

# --- The same findings, the same counts ------------------------------------------------
# Each row of a command's JSON with its numbers, booleans and words (kind,
# section, detection, flag, outcome), not the names and addresses that change;
# sorted, as rows of equal counts are in the order of their addresses.
numbers() {
	(cd "$SCRATCH" && "$report" "$@" --format json 2> /dev/null) |
		jq -c 'with_entries(select((.value | type) != "string" or
			(.key | IN("kind", "section", "detection", "flag", "name", "outcome", "verdict"))))' | sort
}
# Two pairs are read at once, one a core; the originals' numbers once for
# every build of a run (kept).
pairs=()
for name in "${attacks[@]}" lineage stacks losses home; do
	for command in scans bruteforce logins caps summary info "tcpconnect -c" tcpaccept tcpreset capable timeline; do
		read -r -a words <<< "$command"
		pairs+=("$command $name")
		{
			kept "redact: numbers $command $(contents "$SCRATCH/$name.db")" \
				numbers "${words[@]}" "$name.db" > "$SCRATCH/numbers.${#pairs[@]}.original"
			numbers "${words[@]}" "$name.red.db" > "$SCRATCH/numbers.${#pairs[@]}.copy"
		} &
		[ "$(jobs -rp | wc -l)" -lt 2 ] || wait -n
	done
done
wait
same=0 differ=()
for i in "${!pairs[@]}"; do
	if cmp -s "$SCRATCH/numbers.$((i + 1)).original" "$SCRATCH/numbers.$((i + 1)).copy"; then
		same=$((same + 1))
	else
		differ+=("${pairs[i]}")
	fi
done
check_eq "same: every command's numbers on the copy as on the original ($same)" "" "${differ[*]}"
fleet_numbers() { # KEY-SUFFIX: scans over the fleet's five copies (.db: the originals)
	numbers scans "${fleet[@]/%/$1}"
}
check_eq "same: the fleet's sweep over the five copies" "$(fleet_numbers .db)" "$(fleet_numbers .red.db)"
check_eq "same: ... which is the sweep of fixtures/ATTACKS.md: 5 targets on 5 hosts, 35 probes" \
	"sweep 5 5 35" "$(fleet_numbers .red.db | jq -r 'select(.detection == "sweep") | [.detection, .targets, .hosts, .probes] | join(" ")')"
check_eq "same: findings to compare (scans on scan-syn: 996 ports, 996 probes)" "portscan 996 996" \
	"$(numbers scans scan-syn.red.db | jq -r '[.detection, .ports, .probes] | join(" ")')"
check_eq "same: the brute force of bruteforce-ssh on its copy: 50 connections" "50" \
	"$(numbers bruteforce bruteforce-ssh.red.db | jq -r .connections)"
check_eq "same: the guessed password of logins-guessed on its copy: uid 4246 after 7 failures" "4246 7" \
	"$(numbers bruteforce logins-guessed.red.db | jq -r 'select(.kind == "guessed") | "\(.uid) \(.failed)"')"
check_eq "same: the shells of the shells fixture on its copy (bindshell twice, netshell)" "2 1" \
	"$(numbers summary shells.red.db | jq -r 'select(.kind == "netshell" or .kind == "bindshell") | .kind' |
		sort | uniq -c | awk '{ print $1 }' | paste -sd' ')"
check_eq "accounts: every user and group name keyed, none kept (denials)" \
	"$(sqlite3 "$SCRATCH/denials.db" 'select count(*) from account')|0" \
	"$(sqlite3 "$SCRATCH/denials.red.db" "select count(*), count(*) filter (where name not glob 'user-[0-9a-f]*' or length(name) != 15) from account")"
check_eq "accounts: a user's name keyed as their home in a path (alice)" \
	"$(sqlite3 "$SCRATCH/home.red.db" "select '/home/' || name || '/' from account where kind = 'user' and id = 4242")" \
	"$(sqlite3 "$SCRATCH/home.red.db" "select exe from process where exe like '/home/%' limit 1" | grep -oE '^/home/[^/]+/')"

# --- Nothing of the original in the copy's bytes --------------------------------------
# What names someone: the addresses (but those that name no one: loopback,
# unspecified), the DNS names, the host names, the user's name.
secrets() {
	{
		sqlite3 "$SCRATCH/$1.db" "select addr from address where addr not like '127.%'
			and addr not like '::ffff:127.%' and addr not in ('::1', '::', '0.0.0.0')
			union select name from dns union select hostname from capture"
		sqlite3 "$SCRATCH/$1.db" "select exe || ' ' || args from process" | grep -o '/home/[^/ ]*' | cut -d/ -f3
		# the host's people (the system's accounts, "root" or "daemon", are in any path)
		sqlite3 "$SCRATCH/$1.db" "select name from account where id between 1000 and 65533" 2> /dev/null
	} | sort -u
}
# scrub COPY FILE: FILE's bytes (in FILE.scrubbed) without the pseudonyms of
# the capture COPY (its addresses, DNS names, host name), longest first: a
# pseudonym keeps a prefix, and 192.0.2.102 holds 192.0.2.1 without naming it.
scrub() {
	local pseudonyms
	pseudonyms=$(sqlite3 "$1" 'select addr from address union select name from dns
		union select hostname from capture')
	perl -0777 -e 'my @p = sort { length $b <=> length $a } grep { length } split /\n/, shift;
		my $d = <STDIN>; $d =~ s/\Q$_\E/#/g for @p; print $d' "$pseudonyms" < "$2" > "$2.scrubbed"
}
checked=0 long=0 found=0 leaked=()
for name in "${inputs[@]}"; do
	scrub "$SCRATCH/$name.red.db" "$SCRATCH/$name.red.db"
	while read -r secret; do
		[ -n "$secret" ] || continue
		checked=$((checked + 1))
		# a host name of two letters ("vm") is in any file's bytes: its column is checked below
		[ ${#secret} -ge 4 ] || continue
		long=$((long + 1))
		grep -qaF -- "$secret" "$SCRATCH/$name.db" && found=$((found + 1))
		grep -qaF -- "$secret" "$SCRATCH/$name.red.db.scrubbed" && leaked+=("$name: $secret")
	done < <(secrets "$name")
done
check_eq "bytes: the search finds each of them in the originals ($long)" "$long" "$found"
check_eq "bytes: no original address, DNS name, host or user name in any copy ($checked checked)" "" "${leaked[*]}"
check_eq "bytes: the DNS names checked (lineage)" "evil.casefile.test evil6.casefile.test" "$(sqlite3 "$SCRATCH/lineage.db" 'select distinct name from dns order by 1' | paste -sd' ')"
check_eq "bytes: host names replaced (the short ones too)" "0" \
	"$(for n in "${inputs[@]}"; do sqlite3 "$SCRATCH/$n.red.db" "attach '$SCRATCH/$n.db' as o; select count(*) from capture c, o.capture p where c.hostname = p.hostname"; done | paste -sd+ | bc)"
check_eq "bytes: the user's home, command line and host in it" "0 0 0" \
	"$(grep -caF alice "$SCRATCH/home.red.db") $(grep -caF corp.example "$SCRATCH/home.red.db") $(grep -caF -- '--user' "$SCRATCH/home.red.db")"
check_match "bytes: a program under /home keeps its name, its directories keyed" \
	'^/home/user-[0-9a-f]{10}/dir-[0-9a-f]{10}/tool \[args [0-9a-f]{12}\]$' \
	"$(sqlite3 "$SCRATCH/home.red.db" "select args from process where exe like '/home/%' limit 1")"
check_eq "bytes: the key is nowhere in the copy" "0" "$(grep -caF 'casefile test key' "$SCRATCH/home.red.db")"
check_eq "bytes: no free page (VACUUM'd)" "0" "$(sqlite3 "$SCRATCH/home.red.db" 'pragma freelist_count')"
check_eq "bytes: system binaries' paths stay" \
	"$(sqlite3 "$SCRATCH/lineage.db" "select group_concat(exe) from process where exe like '/usr/%'")" \
	"$(sqlite3 "$SCRATCH/lineage.red.db" "select group_concat(exe) from process where exe like '/usr/%'")"

# --- Pseudonyms: keyed, consistent, classes and prefixes kept -----------------------
pairs() { # NAME [SUFFIX]: "original pseudonym" per address, by id
	sqlite3 "$SCRATCH/$1.db" "attach '$SCRATCH/$1${2:-.red}.db' as r;
		select a.addr || ' ' || b.addr from address a join r.address b using (id) order by a.addr"
}
shared=$(join <(pairs sweep-host1 | sort -u) <(pairs sweep-host2 | sort -u) | sort -u)
check "fleet: addresses two hosts share" test -n "$shared"
check_eq "fleet: ... each has one pseudonym in both copies" "" \
	"$(awk '$2 != $3' <<< "$shared")"
check_eq "fleet: each address one pseudonym across the five copies" "" \
	"$(for h in "${fleet[@]}"; do pairs "$h"; done | sort -u | awk '{ n[$1]++ } n[$1] == 2 { print $1 }')"
check_eq "fleet: another key, other pseudonyms" "" \
	"$(redact sweep-host1 other && join <(pairs sweep-host1 | sort -u) <(pairs sweep-host1 .other | sort -u) | awk '$2 == $3 && $1 !~ /^(127\.|::1$|::ffff:127\.)/')"
check_eq "classes: private stays private, loopback stays loopback" "" \
	"$(for n in "${inputs[@]}"; do pairs "$n"; done | awk '
		function class(a) {
			if (a ~ /^10\./) return "10/8"
			if (a ~ /^127\./ || a == "::1") return "loopback"
			if (a ~ /^192\.168\./) return "192.168/16"
			if (a ~ /^192\.0\.2\./) return "192.0.2/24"
			if (a ~ /^fd/) return "unique local"
			if (a ~ /^fe80:/) return "link-local"
			if (a ~ /^::ffff:10\./) return "mapped 10/8"
			if (a ~ /^::ffff:127\./) return "mapped loopback"
			return "other"
		}
		class($1) != class($2)' | head -3)"
check_eq "classes: a /24 stays one /24 (10.200.0.0/24 of the fleet)" "1" \
	"$(for h in "${fleet[@]}"; do pairs "$h"; done | awk '$1 ~ /^10\.200\.0\./ { sub(/\.[0-9]+$/, "", $2); print $2 }' | sort -u | wc -l)"
check_eq "classes: an IPv4-mapped address maps as its IPv4 address" "" \
	"$(pairs scan-connect | awk '{ a[$1] = $2 } END { for (k in a) if (k ~ /^::ffff:/ && a[substr(k, 8)] != "" && "::ffff:" a[substr(k, 8)] != a[k]) print k }')"
key_hex=$(od -An -tx1 "$SCRATCH/fleet.key" | tr -d ' \n')
check_eq "keyed: a host's pseudonym is HMAC-SHA256 (openssl's) of its name under the key" \
	"host-$(printf 'host\0%s' "$(sqlite3 "$SCRATCH/sweep-host1.db" 'select hostname from capture')" |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" | sed 's/.*= //' | cut -c1-10)" \
	"$(sqlite3 "$SCRATCH/sweep-host1.red.db" 'select hostname from capture')"

# --- Every report command reads a copy; html of a copy is the page to share ---------------
bad=()
while read -r command; do
	case $command in
	proc) words=(proc "$(q lineage 'select pid from process where how = "exec" limit 1')") ;;
	html) words=(html -o shared.html) ;;
	redact) continue ;;
	*) words=("$command") ;;
	esac
	(cd "$SCRATCH" && "$report" "${words[@]}" lineage.red.db > /dev/null 2> "$SCRATCH/cmd.err") ||
		bad+=("$command: $(head -1 "$SCRATCH/cmd.err")")
done < <("$report" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
check_eq "read: every report command reads the copy" "" "${bad[*]}"
scrub "$SCRATCH/lineage.red.db" "$SCRATCH/shared.html"
check_eq "read: the shared page names no original address, host or DNS name" "" \
	"$(secrets lineage | while read -r secret; do
		[ ${#secret} -lt 4 ] || ! grep -qF -- "$secret" "$SCRATCH/shared.html.scrubbed" || echo "$secret"
	done)"

# --- Refused ---------------------------------------------------------------------------------
refused "redact: no key" redact scan-syn.db x.db
printf 'short' > "$SCRATCH/short.key"
refused "redact: a key shorter than 16 bytes" redact --key-file short.key scan-syn.db x.db
refused "redact: an existing output" redact --key-file fleet.key scan-syn.db scan-ack.db
refused "redact: one file only" redact --key-file fleet.key scan-syn.db
refused "redact: not a capture" redact --key-file fleet.key fleet.key x.db
cp "$SCRATCH/scan-syn.db" "$SCRATCH/newer.db"
sqlite3 "$SCRATCH/newer.db" "CREATE TABLE note (id INTEGER PRIMARY KEY, said TEXT); INSERT INTO note VALUES (1, '10.200.0.66')"
refused "redact: text of a table it does not know" redact --key-file fleet.key newer.db x.db
cp "$SCRATCH/scan-syn.db" "$SCRATCH/text-in-numbers.db"
sqlite3 "$SCRATCH/text-in-numbers.db" "UPDATE ev_reset SET lport = '10.200.0.66' WHERE rowid IN (SELECT rowid FROM ev_reset LIMIT 1)" 2> /dev/null ||
	sqlite3 "$SCRATCH/text-in-numbers.db" "UPDATE ev_reset SET rport = '10.200.0.66' WHERE seq = (SELECT min(seq) FROM ev_reset)"
refused "redact: text where numbers belong" redact --key-file fleet.key text-in-numbers.db x.db
check_eq "refused: no copy left behind, nor a temporary one" "" "$(cd "$SCRATCH" && ls x.db .redact-* 2> /dev/null)"
