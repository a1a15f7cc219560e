/*
 * The SQLite VFS report reads captures through.  A capture is evidence: no
 * write may reach it, or anything beside it, whatever SQLite decides (it
 * deletes a -wal it finds useless, checkpoints and truncates on close,
 * creates a -wal or rewrites a -shm to share it).  So every file is opened
 * here, read-only, and must be a regular file (a FIFO would hang the open);
 * writing, truncating, syncing, deleting and any lock beyond SHARED are
 * refused; and the WAL index SQLite would share through the -shm lives in
 * this process's own memory, built by SQLite from the -wal (up to its first
 * frame that does not check out).
 *
 * A capture still being recorded: while report reads it, the recorder must
 * neither copy log frames into the file (a checkpoint) nor start the log over.
 * Holding shared locks on the -shm's read slots 0 and 1, as SQLite's readers
 * do, keeps it from both, and touches no byte of the -shm.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rovfs.h"
#include "util.h"

/* SQLite's lock bytes (os_unix.c): in the database file... */
#define PENDING_BYTE  0x40000000
#define RESERVED_BYTE (PENDING_BYTE + 1)
#define SHARED_FIRST  (PENDING_BYTE + 2)
#define SHARED_SIZE   510
/* ...and in the -shm: WAL_READ_LOCK(0) and (1), and the "in use" byte (wal.c) */
#define SHM_READ_LOCK_0 123
#define SHM_DMS		128

/* How long a recorder's checkpoint may keep report from its read slots. */
#define SHM_LOCK_WAIT_MS 5000

#define WAL_HEADER	 32
#define WAL_FRAME_HEADER 24
#define WAL_MAGIC	 0x377f0682u
#define WAL_VERSION	 3007000u

struct ro_file {
	sqlite3_file base;
	int fd;		  /* -1: a -wal that is not there, read as empty (ro_open) */
	const char *path; /* the database's: its -shm is path + "-shm" */
	int lock;	  /* SQLITE_LOCK_NONE or SQLITE_LOCK_SHARED */
	int64_t min_size; /* a size to report at least: see ro_open */
	int64_t max_size; /* a -wal's: a size to report at most (wal_end), or -1 */
	int shm_fd;	  /* a live -shm whose read slots this holds, or -1 */
	void **regions;	  /* the private WAL index */
	int nregions;
};

static sqlite3_vfs *unix_vfs;

/* --- Files: opened read-only, regular only ----------------------------------- */

static char *sibling_path(const char *path, const char *suffix)
{
	char *name = xmalloc(strlen(path) + strlen(suffix) + 1);

	return strcat(strcpy(name, path), suffix);
}

/* A regular file, read-only; never a FIFO or device, whose open could block. */
static int open_regular(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0 && (fstat(fd, st) || !S_ISREG(st->st_mode))) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* An open file description lock: closing another descriptor keeps it. */
static int ofd_lock(int fd, short type, off_t start, off_t len)
{
	struct flock lock = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	return fcntl(fd, F_OFD_SETLK, &lock);
}

/* Whether another holds a lock on the byte that a write lock would conflict with. */
static bool locked_by_other(int fd, off_t byte)
{
	struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1};

	return !fcntl(fd, F_OFD_GETLK, &lock) && lock.l_type != F_UNLCK;
}

static int ro_close(sqlite3_file *file)
{
	struct ro_file *f = (struct ro_file *)file;

	for (int i = 0; i < f->nregions; i++)
		free(f->regions[i]);
	free(f->regions);
	if (f->shm_fd >= 0)
		close(f->shm_fd);
	if (f->fd >= 0)
		close(f->fd);
	return SQLITE_OK;
}

static int ro_read(sqlite3_file *file, void *buf, int amount, sqlite3_int64 offset)
{
	struct ro_file *f = (struct ro_file *)file;
	size_t done = 0;

	while (f->fd >= 0 && done < (size_t)amount) {
		ssize_t n = pread(f->fd, (char *)buf + done, (size_t)amount - done,
				  (off_t)offset + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return SQLITE_IOERR_READ;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	if (done < (size_t)amount) {
		memset((char *)buf + done, 0, (size_t)amount - done);
		return SQLITE_IOERR_SHORT_READ;
	}
	return SQLITE_OK;
}

static int ro_write(sqlite3_file *file, const void *buf, int amount, sqlite3_int64 offset)
{
	(void)file, (void)buf, (void)amount, (void)offset;
	return SQLITE_READONLY;
}

static int ro_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	(void)file, (void)size;
	return SQLITE_READONLY;
}

static int ro_sync(sqlite3_file *file, int flags)
{
	(void)file, (void)flags;
	return SQLITE_READONLY;
}

static int ro_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct ro_file *f = (struct ro_file *)file;
	struct stat st = {0};

	if (f->fd >= 0 && fstat(f->fd, &st))
		return SQLITE_IOERR_FSTAT;
	*size = st.st_size > f->min_size ? st.st_size : f->min_size;
	if (f->max_size >= 0 && *size > f->max_size)
		*size = f->max_size;
	return SQLITE_OK;
}

/*
 * SHARED as SQLite's unix VFS takes it (a read lock on the pending byte
 * first, so that a writer waiting for EXCLUSIVE goes first), so that a
 * recorder cannot leave WAL mode under a reader.  Nothing more: those
 * locks are for writing.
 */
static int ro_lock(sqlite3_file *file, int level)
{
	struct ro_file *f = (struct ro_file *)file;
	int rc = SQLITE_OK;

	if (level > SQLITE_LOCK_SHARED)
		return SQLITE_READONLY;
	if (f->lock >= level)
		return SQLITE_OK;
	if (ofd_lock(f->fd, F_RDLCK, PENDING_BYTE, 1))
		return SQLITE_BUSY;
	if (ofd_lock(f->fd, F_RDLCK, SHARED_FIRST, SHARED_SIZE))
		rc = SQLITE_BUSY;
	else
		f->lock = SQLITE_LOCK_SHARED;
	ofd_lock(f->fd, F_UNLCK, PENDING_BYTE, 1);
	return rc;
}

static int ro_unlock(sqlite3_file *file, int level)
{
	struct ro_file *f = (struct ro_file *)file;

	if (level < SQLITE_LOCK_SHARED && f->lock == SQLITE_LOCK_SHARED) {
		ofd_lock(f->fd, F_UNLCK, SHARED_FIRST, SHARED_SIZE);
		f->lock = SQLITE_LOCK_NONE;
	}
	return SQLITE_OK;
}

static int ro_check_reserved_lock(sqlite3_file *file, int *reserved)
{
	struct ro_file *f = (struct ro_file *)file;

	*reserved = locked_by_other(f->fd, RESERVED_BYTE);
	return SQLITE_OK;
}

static int ro_file_control(sqlite3_file *file, int op, void *arg)
{
	(void)file, (void)op, (void)arg;
	return SQLITE_NOTFOUND;
}

static int ro_sector_size(sqlite3_file *file)
{
	(void)file;
	return 4096;
}

static int ro_device_characteristics(sqlite3_file *file)
{
	(void)file;
	return 0;
}

/* --- The WAL index: private memory, and the live -shm's read slots held ---- */

/*
 * A recorder that has the capture open holds its -shm: take shared locks on
 * read slots 0 and 1 there (a checkpoint needs slot 0 exclusively, starting
 * the log over slots 1 to 4), waiting out a checkpoint under way.  A -shm
 * nobody holds, or none, or one this user cannot read: nothing to keep off.
 */
static int hold_read_slots(struct ro_file *f)
{
	char *shm = sibling_path(f->path, "-shm");
	struct stat st;
	int fd = open_regular(shm, &st);

	free(shm);
	if (fd < 0)
		return SQLITE_OK;
	for (int waited = 0; ofd_lock(fd, F_RDLCK, SHM_READ_LOCK_0, 2); waited++) {
		if ((errno != EAGAIN && errno != EACCES) || waited == SHM_LOCK_WAIT_MS) {
			close(fd);
			return SQLITE_BUSY;
		}
		usleep(1000);
	}
	f->shm_fd = fd;
	return SQLITE_OK;
}

static int ro_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **map)
{
	struct ro_file *f = (struct ro_file *)file;

	if (!f->nregions && f->shm_fd < 0) {
		int rc = hold_read_slots(f);

		if (rc != SQLITE_OK)
			return rc;
	}
	if (region >= f->nregions) {
		if (!extend) {
			*map = NULL;
			return SQLITE_OK;
		}
		f->regions = xrealloc(f->regions, (size_t)(region + 1) * sizeof(*f->regions));
		for (; f->nregions <= region; f->nregions++)
			f->regions[f->nregions] = xcalloc(1, (size_t)size);
	}
	*map = f->regions[region];
	return SQLITE_OK;
}

/* This connection is the index's only user: every lock is its already. */
static int ro_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	(void)file, (void)offset, (void)n, (void)flags;
	return SQLITE_OK;
}

static void ro_shm_barrier(sqlite3_file *file)
{
	(void)file;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static int ro_shm_unmap(sqlite3_file *file, int delete_flag)
{
	struct ro_file *f = (struct ro_file *)file;

	(void)delete_flag; /* there is no file to delete */
	for (int i = 0; i < f->nregions; i++)
		free(f->regions[i]);
	free(f->regions);
	f->regions = NULL;
	f->nregions = 0;
	if (f->shm_fd >= 0)
		close(f->shm_fd);
	f->shm_fd = -1;
	return SQLITE_OK;
}

static const sqlite3_io_methods ro_methods = {
	.iVersion = 2,
	.xClose = ro_close,
	.xRead = ro_read,
	.xWrite = ro_write,
	.xTruncate = ro_truncate,
	.xSync = ro_sync,
	.xFileSize = ro_file_size,
	.xLock = ro_lock,
	.xUnlock = ro_unlock,
	.xCheckReservedLock = ro_check_reserved_lock,
	.xFileControl = ro_file_control,
	.xSectorSize = ro_sector_size,
	.xDeviceCharacteristics = ro_device_characteristics,
	.xShmMap = ro_shm_map,
	.xShmLock = ro_shm_lock,
	.xShmBarrier = ro_shm_barrier,
	.xShmUnmap = ro_shm_unmap,
};

/* --- The VFS ------------------------------------------------------------------ */

/*
 * The database, its -wal and its rollback journal (read to tell whether it
 * is hot), as they are; nothing else (temporary files stay in memory, see
 * capture.c).  A database of 0 bytes beside a -wal that holds commits (a
 * copy cut short): SQLite would delete the -wal as stale; say the file has
 * a page (its bytes read as zeros) so that SQLite reads the -wal instead.
 */
static int ro_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
		   int *out_flags)
{
	const int types = SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL;
	struct ro_file *f = (struct ro_file *)file;
	struct stat st;
	struct wal_scan wal;
	int fd;

	(void)vfs;
	file->pMethods = NULL;
	if (!name || !(flags & types))
		return SQLITE_CANTOPEN;
	fd = open_regular(name, &st);
	/*
	 * A -wal that is not there reads as an empty one, as SQLite would
	 * create it: a writer that closes in WAL mode (record when a reader
	 * kept it from leaving it, sqlite3) checkpoints every page into the
	 * file, then deletes its -wal, and the file still says WAL.  Refused,
	 * SQLite's read "unable to open database file".
	 */
	if (fd < 0 && !((flags & SQLITE_OPEN_WAL) && errno == ENOENT))
		return SQLITE_CANTOPEN;
	*f = (struct ro_file){
		.base.pMethods = &ro_methods, .fd = fd, .path = name, .shm_fd = -1, .max_size = -1};
	/* SQLite's recovery reads a -wal as far as its size: no further than wal_end. */
	if (flags & SQLITE_OPEN_WAL)
		f->max_size = sqlite3_uri_int64(name, "wal_end", -1);
	if ((flags & SQLITE_OPEN_MAIN_DB) && st.st_size == 0 && !rovfs_scan_wal(name, &wal) &&
	    wal.read_end > WAL_HEADER)
		f->min_size = 1;
	if (out_flags)
		*out_flags = (flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					SQLITE_OPEN_DELETEONCLOSE | SQLITE_OPEN_EXCLUSIVE)) |
			     SQLITE_OPEN_READONLY;
	return SQLITE_OK;
}

const sqlite3_file *rovfs_file(sqlite3 *db)
{
	sqlite3_file *file = NULL;

	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
	    !file || file->pMethods != &ro_methods)
		return NULL;
	return file;
}

int rovfs_file_fd(sqlite3 *db)
{
	const sqlite3_file *file = rovfs_file(db);

	return file ? ((const struct ro_file *)file)->fd : -1;
}

/*
 * The wal-index header (SQLite's file format, "WAL-Index Format"), native
 * byte order: the page size at byte 14 (1 for 65536), mxFrame at 16, the
 * last frame the connection reads.  isInit (byte 12): recovered.
 */
#define WAL_INDEX_PAGE_SIZE 14
#define WAL_INDEX_MX_FRAME  16
#define WAL_INDEX_IS_INIT   12

int64_t rovfs_wal_end(const sqlite3_file *file)
{
	const struct ro_file *f = (const struct ro_file *)file;
	const unsigned char *h;
	uint16_t page;
	uint32_t frames;

	assert(file->pMethods == &ro_methods);
	if (!f->nregions || !((const unsigned char *)f->regions[0])[WAL_INDEX_IS_INIT])
		return -1;
	h = f->regions[0];
	memcpy(&page, h + WAL_INDEX_PAGE_SIZE, sizeof(page));
	memcpy(&frames, h + WAL_INDEX_MX_FRAME, sizeof(frames));
	return WAL_HEADER +
	       (int64_t)frames * (WAL_FRAME_HEADER + (page == 1 ? 65536 : (int64_t)page));
}

int rovfs_file_stat(sqlite3 *db, struct stat *st)
{
	int fd = rovfs_file_fd(db);

	return fd < 0 || fstat(fd, st) ? -1 : 0;
}

static int ro_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs, (void)name, (void)sync_dir;
	return SQLITE_IOERR_DELETE;
}

static int ro_access(sqlite3_vfs *vfs, const char *name, int flags, int *result)
{
	(void)vfs;
	return unix_vfs->xAccess(unix_vfs, name, flags, result);
}

static int ro_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out)
{
	(void)vfs;
	return unix_vfs->xFullPathname(unix_vfs, name, size, out);
}

static int ro_randomness(sqlite3_vfs *vfs, int size, char *out)
{
	(void)vfs;
	return unix_vfs->xRandomness(unix_vfs, size, out);
}

static int ro_sleep(sqlite3_vfs *vfs, int microseconds)
{
	(void)vfs;
	return unix_vfs->xSleep(unix_vfs, microseconds);
}

static int ro_current_time(sqlite3_vfs *vfs, double *now)
{
	(void)vfs;
	return unix_vfs->xCurrentTime(unix_vfs, now);
}

static int ro_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *now)
{
	(void)vfs;
	return unix_vfs->xCurrentTimeInt64(unix_vfs, now);
}

static int ro_get_last_error(sqlite3_vfs *vfs, int size, char *out)
{
	(void)vfs;
	return unix_vfs->xGetLastError(unix_vfs, size, out);
}

static sqlite3_vfs ro_vfs = {
	.iVersion = 2,
	.szOsFile = sizeof(struct ro_file),
	.zName = "casefile-ro",
	.xOpen = ro_open,
	.xDelete = ro_delete,
	.xAccess = ro_access,
	.xFullPathname = ro_full_pathname,
	.xRandomness = ro_randomness,
	.xSleep = ro_sleep,
	.xCurrentTime = ro_current_time,
	.xGetLastError = ro_get_last_error,
	.xCurrentTimeInt64 = ro_current_time_int64,
};

static void register_vfs(void)
{
	/*
	 * Each page of a connection's cache its own allocation, not one block of
	 * 20 pages (87 kB) kept until the connection closes: a fleet's captures
	 * are all open at once, each having read a few pages, and fresh memory's
	 * first touch is what this VM's kernel time went to.  Before SQLite
	 * starts (this finds a VFS, which starts it); a no-op otherwise.
	 */
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
	unix_vfs = sqlite3_vfs_find("unix");
	if (unix_vfs) {
		ro_vfs.mxPathname = unix_vfs->mxPathname;
		if (sqlite3_vfs_register(&ro_vfs, 0) == SQLITE_OK)
			return;
	}
	fprintf(stderr, "report: cannot set up SQLite's read-only file access\n");
	exit(1);
}

const char *rovfs_name(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, register_vfs);
	return ro_vfs.zName;
}

/* --- Scanning a -wal as SQLite's recovery does (wal.c) ------------------------ */

static uint32_t big32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t little32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* walChecksumBytes: over pairs of 32-bit words, in the byte order the magic names. */
static void wal_checksum(bool big_endian, const unsigned char *data, size_t len, uint32_t sum[2])
{
	uint32_t (*word)(const unsigned char *) = big_endian ? big32 : little32;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		sum[0] += word(data + i) + sum[1];
		sum[1] += word(data + i + 4) + sum[0];
	}
}

static bool checksum_is(const uint32_t sum[2], const unsigned char *stored)
{
	return sum[0] == big32(stored) && sum[1] == big32(stored + 4);
}

static bool wal_header_valid(const unsigned char *h, uint32_t sum[2])
{
	uint32_t page = big32(h + 8);

	sum[0] = sum[1] = 0;
	if ((big32(h) & ~1u) != WAL_MAGIC || big32(h + 4) != WAL_VERSION || page < 512 ||
	    page > 65536 || (page & (page - 1)))
		return false;
	wal_checksum(big32(h) & 1, h, 24, sum);
	return checksum_is(sum, h + 24);
}

/*
 * Frames count while their salts are the header's and their checksums chain;
 * SQLite reads up to the last that ends a commit.  A frame with other salts
 * is from before the log started over (already in the file): not damage.
 */
static void scan_frames(int fd, const unsigned char *h, uint32_t sum[2], struct wal_scan *scan)
{
	char *trouble = scan->trouble;
	size_t size = sizeof(scan->trouble);
	size_t frame = WAL_FRAME_HEADER + big32(h + 8);
	unsigned char *buf = xmalloc(frame);
	int64_t offset = WAL_HEADER;

	scan->read_end = WAL_HEADER;
	for (;; offset += (int64_t)frame) {
		ssize_t n = pread(fd, buf, frame, offset);
		uint32_t next[2] = {sum[0], sum[1]};

		if (n <= 0)
			break;
		if (n >= 16 && memcmp(buf + 8, h + 16, 8))
			break;
		if ((size_t)n < frame) {
			snprintf(trouble, size, "ends in a partial frame at byte %lld",
				 (long long)offset);
			break;
		}
		wal_checksum(big32(h) & 1, buf, 8, next);
		wal_checksum(big32(h) & 1, buf + WAL_FRAME_HEADER, frame - WAL_FRAME_HEADER, next);
		if (!big32(buf) || !checksum_is(next, buf + 16)) {
			snprintf(trouble, size, "is damaged at byte %lld", (long long)offset);
			break;
		}
		sum[0] = next[0], sum[1] = next[1];
		if (big32(buf + 4))
			scan->read_end = offset + (int64_t)frame;
	}
	if (!*trouble && offset > scan->read_end)
		snprintf(trouble, size, "ends in a write never committed (at byte %lld)",
			 (long long)scan->read_end);
	free(buf);
}

int rovfs_scan_wal(const char *path, struct wal_scan *scan)
{
	char *wal = sibling_path(path, "-wal"), *shm = sibling_path(path, "-shm");
	unsigned char header[WAL_HEADER];
	uint32_t sum[2];
	struct stat st;
	int fd = open_regular(wal, &st), shm_fd = open_regular(shm, &st);

	free(wal);
	free(shm);
	*scan = (struct wal_scan){0};
	if (shm_fd >= 0) {
		scan->live = locked_by_other(shm_fd, SHM_DMS);
		close(shm_fd);
	}
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	scan->size = st.st_size;
	if (scan->size &&
	    (pread(fd, header, WAL_HEADER, 0) != WAL_HEADER || !wal_header_valid(header, sum)))
		snprintf(scan->trouble, sizeof(scan->trouble), "is not a write-ahead log");
	else if (scan->size)
		scan_frames(fd, header, sum, scan);
	close(fd);
	return 0;
}
