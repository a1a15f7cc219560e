/* report scans: inbound port scans, sweeps across hosts, and outbound scanning. */
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "detect.h"
#include "util.h"

enum {
	SCAN_KIND,
	SCAN_CONFIDENCE,
	SCAN_HOST,
	SCAN_WHO,     /* table: the scanner, an address or comm/pid */
	SCAN_SCANNER, /* JSON: the address */
	SCAN_PID,
	SCAN_COMM,
	SCAN_WHAT,   /* table: the target(s) in words */
	SCAN_TARGET, /* JSON: a port scan's target address */
	SCAN_TARGETS,
	SCAN_HOSTS,
	SCAN_ADDRESSES, /* sample targets (sweep), hosts connected to (outbound) */
	SCAN_PORTS,
	SCAN_COUNT, /* table: PROBES (connects, for outbound) */
	SCAN_PROBES,
	SCAN_CONNECTS,
	SCAN_FIRST,
	SCAN_LAST,
	SCAN_RATE,
	SCAN_PEAK_RATE,
	SCAN_SAMPLE_PORTS,
	SCAN_EVIDENCE, /* table */
	SCAN_ACCEPTS,
	SCAN_OPEN_PORTS,
	SCAN_FAILED,
	SCAN_REFUSED,
	SCAN_TIMEOUTS,
	SCAN_DESTINATIONS,
	SCAN_WINDOW,
	SCAN_THRESHOLD,
	SCAN_FIELDS
};

static struct {
	struct thresholds t;
	struct field fields[SCAN_FIELDS];
} sc;

static const char usage[] =
	"usage: report scans [-h] [--window SECONDS] [--ports N] [--low-ports N] [--targets N]\n"
	"                    [--destinations N] [--failed-share F] [common options] FILE...\n"
	"\n"
	"Port scans in the captures, seen from both ends:\n"
	"  portscan  one remote address probing many ports of one local address: the\n"
	"            resets its probes of closed ports made the kernel send (and those of\n"
	"            listeners answering segments without SYN), not counting late\n"
	"            segments of connections this host opened; below --ports, one of\n"
	"            --low-ports within 60 s is a port scan of low confidence (CONF);\n"
	"  sweep     one remote address probing several local addresses, of one capture\n"
	"            or of several hosts' captures given together;\n"
	"  outbound  a local process connecting to many destinations, mostly failing.\n"
	"An episode ends after a window without events; it is reported when one window\n"
	"of it crosses the threshold, with figures for the whole episode.  A raw-socket\n"
	"scanner (nmap -sS) makes no connects: see `report caps` (CAP_NET_RAW).\n"
	"\n"
	"options (defaults from Zeek and Snort 3: README, Detection):\n"
	"  --window SECONDS   the window of every rule (300)\n"
	"  --ports N          port scan: distinct ports of one address in a window (15)\n"
	"  --low-ports N      port scan of low confidence: distinct ports in 60 s (5; 0: off)\n"
	"  --targets N        sweep: distinct addresses (of any host) in a window (5)\n"
	"  --destinations N   outbound: distinct failed address:port in a window (15)\n"
	"  --failed-share F   outbound: and at least this share of its connects failed (0.5)\n"
	"\n"
	"Tables show one finding a line (TARGET: the address scanned, how many were\n"
	"swept, or where a process connected; RATE/s: events per second over the\n"
	"whole finding, PEAK/s: over its fastest 5 events in a row; EVIDENCE:\n"
	"connections the scanner got accepted and the open ports it reached, or the\n"
	"outcomes of the connects); JSON and CSV have every figure in a field of its own.\n"
	"\n"
	"examples:\n"
	"    report scans case42.db\n"
	"    report scans web-1.db web-2.db web-3.db   # sweeps across hosts\n"
	"    report scans --ports 5 --window 60 case42.db\n"
	"    report scans --format json --since 01:00 case42.db\n";

static const struct option long_options[] = {
	SCAN_OPTIONS("window"),
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)ctx;
	return threshold_option("scans", option, arg, &sc.t) < 0 ? -1 : 0;
}

static struct value text_of(const char *text)
{
	return text ? text_value(text, strlen(text)) : null_value();
}

static struct value count_of(bool has, int64_t n)
{
	return has ? int_value(n) : null_value();
}

static int64_t threshold_of(const struct finding *f)
{
	return f->kind == FINDING_PORTSCAN ? sc.t.ports
	       : f->kind == FINDING_SWEEP  ? sc.t.targets
					   : sc.t.destinations;
}

static void print_finding(const struct finding *f)
{
	char who[CAPTURE_TEXT_MAX * 6], what[256], evidence[1024];
	bool inbound = f->kind != FINDING_OUTBOUND, port_scan = f->kind == FINDING_PORTSCAN;
	int64_t rate = finding_rate(f);
	bool low = f->low_confidence;
	struct value v[SCAN_FIELDS];

	const struct peers *peers = f->peers;

	finding_actor(f, who, sizeof(who));
	finding_target(f, what, sizeof(what));
	finding_evidence(f, evidence, sizeof(evidence));
	v[SCAN_KIND] = text_of(finding_kind_name(f->kind));
	v[SCAN_CONFIDENCE] = text_of(finding_confidence(f));
	v[SCAN_HOST] = f->host >= 0 ? text_of(peers_host_name(peers, f->host)) : null_value();
	v[SCAN_WHO] = text_of(who);
	v[SCAN_SCANNER] = inbound ? text_of(peer_text(peers, f->remote)) : null_value();
	v[SCAN_PID] = count_of(!inbound, f->pid);
	v[SCAN_COMM] = inbound ? null_value() : text_of(f->process);
	v[SCAN_WHAT] = text_of(what);
	v[SCAN_TARGET] = port_scan ? text_of(peer_text(peers, f->local)) : null_value();
	v[SCAN_TARGETS] = count_of(f->kind == FINDING_SWEEP, f->targets);
	v[SCAN_HOSTS] = count_of(!port_scan, f->hosts);
	v[SCAN_ADDRESSES] = text_of(f->sample_addresses);
	v[SCAN_PORTS] = int_value(f->ports);
	v[SCAN_COUNT] = int_value(f->events);
	v[SCAN_PROBES] = count_of(inbound, f->events);
	v[SCAN_CONNECTS] = count_of(!inbound, f->events);
	v[SCAN_FIRST] = int_value(f->first_ns);
	v[SCAN_LAST] = int_value(f->last_ns);
	v[SCAN_RATE] = rate < 0 ? null_value() : int_value(rate);
	v[SCAN_PEAK_RATE] = f->peak_rate < 0 ? null_value() : int_value(f->peak_rate);
	v[SCAN_SAMPLE_PORTS] = text_of(f->sample_ports);
	v[SCAN_EVIDENCE] = text_of(evidence);
	v[SCAN_ACCEPTS] = count_of(inbound, f->accepts);
	v[SCAN_OPEN_PORTS] = port_scan ? text_of(f->open_ports) : null_value();
	v[SCAN_FAILED] = count_of(!inbound, f->failed);
	v[SCAN_REFUSED] = count_of(!inbound, f->refused);
	v[SCAN_TIMEOUTS] = count_of(!inbound, f->timeouts);
	v[SCAN_DESTINATIONS] = count_of(!inbound, f->destinations);
	v[SCAN_WINDOW] = int_value(low ? sc.t.low_window_ns : sc.t.scan_window_ns);
	v[SCAN_THRESHOLD] = int_value(low ? sc.t.low_ports : threshold_of(f));
	output_row(v);
}

static int run(struct captures *set, const struct options *opts)
{
	const struct field fields[SCAN_FIELDS] = {
		[SCAN_KIND] = {"KIND", "detection", 8, FIELD_TEXT, true},
		[SCAN_CONFIDENCE] = {"CONF", "confidence", 4, FIELD_TEXT, true},
		[SCAN_HOST] = {"HOST", "host", set->host_width, FIELD_TEXT, set->many_hosts},
		[SCAN_WHO] = {"SCANNER", NULL, 16, FIELD_TEXT, true},
		[SCAN_SCANNER] = {NULL, "scanner", 0, FIELD_TEXT, false},
		[SCAN_PID] = {NULL, "pid", 0, FIELD_INT, false},
		[SCAN_COMM] = {NULL, "comm", 0, FIELD_TEXT, false},
		[SCAN_WHAT] = {"TARGET", NULL, 16, FIELD_TEXT, true},
		[SCAN_TARGET] = {NULL, "target", 0, FIELD_TEXT, false},
		[SCAN_TARGETS] = {NULL, "targets", 0, FIELD_INT, false},
		[SCAN_HOSTS] = {NULL, "hosts", 0, FIELD_INT, false},
		[SCAN_ADDRESSES] = {NULL, "sample_addresses", 0, FIELD_TEXT, false},
		[SCAN_PORTS] = {"PORTS", "ports", 5, FIELD_INT, true},
		[SCAN_COUNT] = {"PROBES", NULL, 6, FIELD_INT, true},
		[SCAN_PROBES] = {NULL, "probes", 0, FIELD_INT, false},
		[SCAN_CONNECTS] = {NULL, "connects", 0, FIELD_INT, false},
		[SCAN_FIRST] = {"FIRST", "first", 12, FIELD_CLOCK, true},
		[SCAN_LAST] = {"LAST", "last", 12, FIELD_CLOCK, true},
		[SCAN_RATE] = {"RATE/s", "rate", 10, FIELD_FIXED3, true},
		[SCAN_PEAK_RATE] = {"PEAK/s", "peak_rate", 11, FIELD_FIXED3, true},
		[SCAN_SAMPLE_PORTS] = {"SAMPLE PORTS", "sample_ports", 28, FIELD_TEXT, true},
		[SCAN_EVIDENCE] = {"EVIDENCE", NULL, 0, FIELD_TEXT, true},
		[SCAN_ACCEPTS] = {NULL, "accepts", 0, FIELD_INT, false},
		[SCAN_OPEN_PORTS] = {NULL, "open_ports", 0, FIELD_TEXT, false},
		[SCAN_FAILED] = {NULL, "failed", 0, FIELD_INT, false},
		[SCAN_REFUSED] = {NULL, "refused", 0, FIELD_INT, false},
		[SCAN_TIMEOUTS] = {NULL, "timeouts", 0, FIELD_INT, false},
		[SCAN_DESTINATIONS] = {NULL, "destinations", 0, FIELD_INT, false},
		[SCAN_WINDOW] = {NULL, "window_ns", 0, FIELD_INT, false},
		[SCAN_THRESHOLD] = {NULL, "threshold", 0, FIELD_INT, false},
	};
	struct peers *peers = peers_new(set);
	struct findings findings = {0};
	int err;

	memcpy(sc.fields, fields, sizeof(fields));
	thresholds_ready(&sc.t);
	err = find_scans(set, opts, &sc.t, peers, SCANS_INBOUND | SCANS_OUTBOUND, NULL, &findings);
	if (!err) {
		char rules[4][256];

		findings_sort(&findings);
		for (int k = FINDING_PORTSCAN; k <= FINDING_OUTBOUND; k++)
			describe_rule(&sc.t, (enum finding_kind)k, rules[k], sizeof(rules[k]));
		describe_low_rule(&sc.t, rules[3], sizeof(rules[3]));
		if (opts->format == FORMAT_TABLE)
			printf("# portscan: %s (low confidence: %s); sweep: %s; outbound: %s\n",
			       rules[0], rules[3], rules[1], rules[2]);
		output_begin(opts->format, opts->local, sc.fields, SCAN_FIELDS);
		/*
		 * To fit a terminal: the sample ports, the peak rate, the rate, the
		 * last time (the first stays), the probes (the ports stay), so that
		 * the evidence keeps a readable start.
		 */
		output_column_fit(SCAN_SAMPLE_PORTS, 0, 1);
		output_column_fit(SCAN_PEAK_RATE, 0, 2);
		output_column_fit(SCAN_RATE, 0, 3);
		output_column_fit(SCAN_LAST, 0, 4);
		output_column_fit(SCAN_COUNT, 0, 5);
		for (size_t i = 0; i < findings.count; i++)
			print_finding(&findings.list[i]);
	}
	findings_free(&findings);
	peers_free(peers);
	thresholds_free(&sc.t);
	return err;
}

static const char *const kinds[] = {"connect", "outcome", "accept", "reset", NULL};

const struct command scans_command = {
	.summary = "port scans, sweeps across hosts, outbound scanning",
	.spec = {.name = "scans",
		 .usage = usage,
		 .short_options = "",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS,
		 .own_option = own_option},
	.kinds = kinds,
	.run = run,
};
