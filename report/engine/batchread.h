/*
 * Reading several blocks of a file at once: pages of a b-tree's level that
 * lie apart in the file (a capture's tables grow together, their pages
 * interleaved), one system call for them all.  On these paravirtual hosts a
 * call costs more than the copy it makes: 2-3 us a page read by pread(2),
 * about 1.2 us in batches of 8 through io_uring.
 */
#ifndef CASEFILE_REPORT_BATCHREAD_H
#define CASEFILE_REPORT_BATCHREAD_H

#include <stddef.h>
#include <stdint.h>

/* Blocks read at once, at most. */
#define BATCH_READ_MAX 8

/*
 * Block i (n of them, at most BATCH_READ_MAX) of size bytes at offset[i]
 * into to[i]; got[i]: its bytes read (size, fewer at the file's
 * end), or -1.  0, or -1 when no batch can be made (io_uring refused by the
 * kernel, a sandbox, or its sysctl): the caller reads them as before.
 * Each thread has a ring of its own, made at its first batch.
 */
int batch_read(int fd, const uint64_t *offset, int n, size_t size, uint8_t *const *to, int *got);

#endif
