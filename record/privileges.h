/* Giving up, once attached, the privileges recording no longer needs. */
#ifndef CASEFILE_RECORD_PRIVILEGES_H
#define CASEFILE_RECORD_PRIVILEGES_H

/*
 * Drop every capability (effective, permitted, inheritable, ambient and
 * bounding) and set no_new_privs.  CAP_DAC_OVERRIDE stays only when the
 * directory of output needs it for the recorder to create its journal and
 * rotated files.  Returns -1 after one line on stderr.
 */
int drop_privileges(const char *output);

#endif
