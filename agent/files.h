/* files.h: the manifests source: a YAML file, or a directory of .yaml/.yml/.json files, loaded
 * into the agent's store and reloaded when a file is written, replaced by rename, added
 * or removed (inotify on the directory, driven by the agent's loop). */
#ifndef NPD_AGENT_FILES_H
#define NPD_AGENT_FILES_H

#include "agent.h"

struct files;

/* Registers the source "files", loads path (a file or a directory) and watches it; the
 * source is ready once the initial load is done. A full load decodes on up to threads
 * threads (0: one per CPU). Returns 0 and a new source in *out, or -errno: -ENOENT when
 * path does not exist, or an inotify error. */
int files_start(struct npd_agent *a, const char *path, unsigned threads, struct files **out);
/* Stops watching; objects stay in the store. files_free(NULL) is a no-op. */
void files_free(struct files *f);

#endif
