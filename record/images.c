/* The image watcher: snapshots process mappings as soon as BPF alerts. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images.h"
#include "privileges.h"
#include "util.h"

struct image_watcher {
	struct ring_buffer *alerts;
	struct usyms *usyms;
	pthread_t thread;
	atomic_bool stop;
};

static int on_alert(void *ctx, void *data, size_t size)
{
	struct image_watcher *watcher = ctx;

	if (size >= sizeof(struct process_image))
		usyms_snapshot(watcher->usyms, data);
	return 0;
}

static void *watch(void *arg)
{
	struct image_watcher *watcher = arg;

	/* This thread starts with the recorder's privileges: keep only its own. */
	if (drop_privileges(user_stack_privileges()))
		return NULL;
	while (!atomic_load(&watcher->stop))
		ring_buffer__poll(watcher->alerts, 100);
	return NULL;
}

struct image_watcher *image_watcher_start(int alerts_fd, struct usyms *usyms)
{
	struct image_watcher *watcher = xcalloc(1, sizeof(*watcher));
	int err;

	watcher->usyms = usyms;
	watcher->alerts = ring_buffer__new(alerts_fd, on_alert, watcher, NULL);
	if (!watcher->alerts) {
		fprintf(stderr, "record: cannot map the image alert ring: %s\n", strerror(errno));
		free(watcher);
		return NULL;
	}
	err = pthread_create(&watcher->thread, NULL, watch, watcher);
	if (err) {
		fprintf(stderr, "record: cannot start the image watcher: %s\n", strerror(err));
		ring_buffer__free(watcher->alerts);
		free(watcher);
		return NULL;
	}
	return watcher;
}

void image_watcher_stop(struct image_watcher *watcher)
{
	if (!watcher)
		return;
	atomic_store(&watcher->stop, true);
	pthread_join(watcher->thread, NULL);
	ring_buffer__free(watcher->alerts);
	free(watcher);
}
