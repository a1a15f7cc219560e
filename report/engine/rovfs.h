/*
 * The SQLite VFS report reads captures through: nothing it does can write,
 * truncate, create or delete a file, whatever SQLite decides to do.
 */
#ifndef CASEFILE_REPORT_ROVFS_H
#define CASEFILE_REPORT_ROVFS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* The VFS's name for sqlite3_open_v2 (registered on the first call). */
const char *rovfs_name(void);

/*
 * The file a connection opened through the VFS reads its database from, as
 * fstat(2) tells it: 0, or -1 (not through this VFS, or fstat failed).
 */
int rovfs_file_stat(sqlite3 *db, struct stat *st);

/* That file's descriptor, for reads of its own (pages.c): -1 when not through this VFS. */
int rovfs_file_fd(sqlite3 *db);

/*
 * The bytes of its -wal a connection reads (through the last commit its
 * recovery found), given its main file (rovfs_file()), or -1 (none: not in WAL mode, or nothing
 * read yet).  A connection opened with the URI parameter wal_end=N reads no further than byte N:
 * opened while the first holds the -wal's read slots (the recorder can then neither checkpoint nor
 * start the log over), with N the first's end, it reads what the first reads.
 */
int64_t rovfs_wal_end(const sqlite3_file *file);

/* A connection's main file, for rovfs_wal_end(); NULL when not through this VFS. */
const sqlite3_file *rovfs_file(sqlite3 *db);

/* What a capture's -wal holds, as SQLite's recovery reads it. */
struct wal_scan {
	int64_t size;	  /* bytes in the -wal */
	int64_t read_end; /* bytes SQLite reads: to the end of the last whole commit */
	char trouble[80]; /* why bytes past read_end are left unread; "": none are */
	bool live;	  /* a recorder has the capture open (it holds the -shm) */
};

/* Scan path's -wal: 0, or -1 when there is none (or it is not a readable file). */
int rovfs_scan_wal(const char *path, struct wal_scan *scan);

#endif
