/* Several blocks of a file in one system call (batchread.h). */
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>

#include "batchread.h"

static __thread struct io_uring ring;
static __thread int ring_state; /* 0: not tried; 1: ready; -1: refused */
static pthread_key_t ring_key;
static bool ring_key_made; /* written once, under ring_key_once */
static pthread_once_t ring_key_once = PTHREAD_ONCE_INIT;

/* At a thread's exit: its ring's descriptor and mappings given back. */
static void ring_exit(void *r)
{
	io_uring_queue_exit(r);
}

static void make_ring_key(void)
{
	ring_key_made = !pthread_key_create(&ring_key, ring_exit);
}

static bool ring_ready(void)
{
	if (ring_state)
		return ring_state > 0;
	ring_state = -1;
	pthread_once(&ring_key_once, make_ring_key);
	if (!ring_key_made || io_uring_queue_init(BATCH_READ_MAX, &ring, 0) < 0)
		return false;
	if (pthread_setspecific(ring_key, &ring)) {
		io_uring_queue_exit(&ring);
		return false;
	}
	ring_state = 1;
	return true;
}

/* The ring, after a call that went wrong, closed for good in this thread: reads go one by one. */
static void give_up(void)
{
	io_uring_queue_exit(&ring);
	pthread_setspecific(ring_key, NULL);
	ring_state = -1;
}

int batch_read(int fd, const uint64_t *offset, int n, size_t size, uint8_t *const *to, int *got)
{
	struct io_uring_cqe *cqe;
	int submitted;

	if (n < 1 || n > BATCH_READ_MAX || !ring_ready())
		return -1;
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_read(sqe, fd, to[i], (unsigned)size, offset[i]);
		sqe->user_data = (uint64_t)i;
		got[i] = -1;
	}
	/* A negative result submitted none; fewer than n left some in the ring: both end it. */
	submitted = io_uring_submit_and_wait(&ring, (unsigned)n);
	for (int seen = 0; seen < submitted;) {
		int rc = io_uring_wait_cqe(&ring, &cqe);

		if (rc == -EINTR)
			continue;
		if (rc < 0)
			break;
		if (cqe->user_data < (uint64_t)n)
			got[cqe->user_data] = cqe->res >= 0 ? cqe->res : -1;
		io_uring_cqe_seen(&ring, cqe);
		if (++seen == n)
			return 0;
	}
	give_up();
	return -1;
}
