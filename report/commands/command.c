/*
 * A report subcommand and its life: parse its command line, open its
 * captures (telling what they lack), run it, flush, and the exit status.
 */
#include <string.h>
#include <unistd.h>

#include "command.h"
#include "output.h"
#include "progress.h"
#include "terminal.h"

int run_command(const struct command *command, int argc, char **argv)
{
	struct options opts;
	struct captures set;
	int rc, width;

	if (command->state)
		memset(command->state, 0, command->state_size);
	rc = parse_options(argc, argv, &command->spec, &opts);

	if (rc == 0 && command->operands)
		rc = command->operands(&opts);
	if (rc == 0 && command->check)
		rc = command->check(&opts);
	if (rc) {
		free_options(&opts);
		return rc > 0 ? 0 : 2;
	}
	if (captures_open(&set, &opts, command->kinds)) {
		free_options(&opts);
		return 1;
	}
	/* Progress on a terminal's stderr; --follow waits, it does not work. */
	progress_enable(isatty(STDERR_FILENO) && !opts.follow);
	width = terminal_width(&opts);
	output_set_width(width);
	terminal_wrap(width);
	rc = command->run(&set, &opts);
	progress_end();
	if (output_end(rc == 0))
		rc = -1;
	terminal_unwrap();
	captures_close(&set);
	free_options(&opts);
	return rc ? 1 : 0;
}
