/*
 * The image watcher: a thread that snapshots a process's mappings as soon as
 * the BPF programs see its first user stack, before a short-lived process can
 * exit, instead of when the recorder reaches its record.
 */
#ifndef CASEFILE_RECORD_IMAGES_H
#define CASEFILE_RECORD_IMAGES_H

#include "usyms.h"

struct image_watcher;

/*
 * Watch the ring buffer of image alerts at alerts_fd; NULL after one line on
 * stderr.  The thread gives up at once every capability it does not need.
 */
struct image_watcher *image_watcher_start(int alerts_fd, struct usyms *usyms);

/* Stop and join the thread. */
void image_watcher_stop(struct image_watcher *watcher);

#endif
