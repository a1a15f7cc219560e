/*
 * The parts of a rotated recording (record -C): FILE, then FILE with ".n"
 * before its extension, each a complete capture that names its part.
 */
#ifndef CASEFILE_REPORT_PARTS_H
#define CASEFILE_REPORT_PARTS_H

#include "capture.h"

/* The capture's part number: 1 for one made before rotation existed. */
int capture_part(struct capture *cap);

/*
 * The path of part n of the recording whose part `part` lies at path, as
 * record names them; NULL when path does not have that part's form.
 */
char *part_path(const char *path, int part, int n);

/*
 * The numbers of the files beside cap named as parts of its recording
 * (record's names: not yet checked to be), cap's own left out, ascending;
 * their count in *n.  From the directory, never by counting: a capture may
 * say it is part 2,147,483,647.
 */
int *part_numbers_beside(struct capture *cap, int *n);

/*
 * Part n of cap's recording, opened, once it is there and written far
 * enough to say it belongs to the same recording (same boot, recorder and
 * clock base); NULL, quietly, until then.  tell: as capture_open's.
 */
struct capture *capture_open_part(struct capture *cap, int n, bool tell);

#endif
