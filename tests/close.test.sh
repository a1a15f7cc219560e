# close: connection lives recorded for real.  Loopback connections of known
# size, length and ending (tests/helpers/traffic carry), and what the close
# kind makes of them: exactly the bytes each way, the duration within the
# clock's brackets, who closed first, the process when it closed in one.
# Needs root.
source "$(dirname "$0")/lib.sh"
needs_root "close tests" || exit 0

db="$SCRATCH/close.db"
start_record "$db" -e connect,accept,close || { fail "record starts" "$(cat "$RECORD_ERR")"; exit 0; }
# SENT RECEIVED MS ENDING, per family: sizes that cross many segments, and none.
client4=$("$HELPERS/traffic" carry 4 1000003 4321 300 client)
server4=$("$HELPERS/traffic" carry 4 77 2500000 100 server)
reset4=$("$HELPERS/traffic" carry 4 65536 1 250 reset)
client6=$("$HELPERS/traffic" carry 6 0 0 50 client)
reset6=$("$HELPERS/traffic" carry 6 12345 67890 400 reset)
refused4=$("$HELPERS/traffic" refused 4)
sleep 0.3
stop_record INT

check_eq "close: recorded, none lost" "1|1|0" \
	"$(sql "$db" "SELECT enabled, recorded > 0, lost FROM event_kind WHERE name = 'close'")"

# life NAME OUTPUT: both ends' rows of that connection, the client's first:
# tx, rx, who closed first, and whether it was established
life() {
	sql "$db" "SELECT tx_bytes, rx_bytes, closed_by, established FROM tcpclose
		WHERE $(value lport "$2") IN (lport, rport) AND $(value port "$2") IN (lport, rport)
		ORDER BY lport = $(value lport "$2") DESC"
}
check_eq "client closes first (IPv4): 1000003 bytes out, 4321 back, exactly; its FIN first" \
	"1000003|4321|local FIN|1
4321|1000003|remote FIN|1" "$(life client4 "$client4")"
check_eq "server closes first (IPv4): 77 bytes out, 2500000 back; the server's FIN first" \
	"77|2500000|remote FIN|1
2500000|77|local FIN|1" "$(life server4 "$server4")"
check_eq "client resets (IPv4): 65536 out, 1 back; its RST" \
	"65536|1|local RST|1
1|65536|remote RST|1" "$(life reset4 "$reset4")"
check_eq "an empty connection (IPv6): 0 and 0, the client's FIN" \
	"0|0|local FIN|1
0|0|remote FIN|1" "$(life client6 "$client6")"
check_eq "client resets (IPv6): 12345 out, 67890 back" \
	"12345|67890|local RST|1
67890|12345|remote RST|1" "$(life reset6 "$reset6")"

# An abortive close happens in close(): its process, and its time, bracketed by
# the helper's own CLOCK_BOOTTIME around connect() and close().
for name in reset4 reset6; do
	out=${!name}
	IFS=, read -r connect_start connect_end <<< "$(value connect_ns "$out")"
	IFS=, read -r close_start close_end <<< "$(value close_ns "$out")"
	row=$(sql "$db" "SELECT pid, duration_ns FROM tcpclose WHERE lport = $(value lport "$out") AND rport = $(value port "$out")")
	check_eq "$name: closed in the client's close(), its pid" "$(value client_pid "$out")" "${row%|*}"
	duration=${row#*|}
	check "$name: duration ${duration} ns within [close() began - connect() ended, close() ended - connect() began]" \
		test "$duration" -ge $((close_start - connect_end)) -a "$duration" -le $((close_end - connect_start))
done
check "client4: held 300 ms: its life is at least that" \
	test "$(sql "$db" "SELECT duration_ns FROM tcpclose WHERE lport = $(value lport "$client4") AND rport = $(value port "$client4")")" -ge 300000000

check_eq "a refused connect: never established, closed by their RST, no bytes" "0|0|remote RST|0|SYN_SENT" \
	"$(sql "$db" "SELECT tx_bytes, rx_bytes, closed_by, established, closed_from FROM tcpclose WHERE rport = $(value port "$refused4") AND pid = $(value client_pid "$refused4")")"
check_eq "... timed from its connect: its outcome's latency, one clock reading" 1 \
	"$(sql "$db" "SELECT c.duration_ns = t.latency_ns FROM tcpclose c JOIN tcpconnect t ON t.dport = c.rport AND t.lport = c.lport WHERE c.rport = $(value port "$refused4") AND c.pid > 0")"
check_eq "no listener's close is a connection" 0 \
	"$(sql "$db" "SELECT count(*) FROM ev_close WHERE closed_from = 10")"
