/* SPDX-License-Identifier: MIT */
/*
 * woofc.h - the CSPOT API, source compatible with CSPOT programs.
 *
 * CSPOT's conventions: calls that return a sequence number return
 * (unsigned long)-1 on failure (test it with WooFInvalid()); calls that
 * return int return a negative value on failure. In addition every failing
 * call sets errno and, unless WOOF_QUIET=1 is in the environment, writes a
 * one-line reason to stderr ("woof: WooFPut(hello): no such WOOF").
 *
 * The namespace is the directory in $WOOFC_DIR (the current directory when
 * unset). WooFInit() is accepted but optional. Names are plain names in
 * that namespace or woof://host/abs/path/name URIs.
 *
 * Handlers have the signature
 *     int handler(WOOF *wf, unsigned long seq_no, void *element);
 * and may read wf->shared->filename, ->element_size, ->history_size and
 * ->seq_no (the header of the WOOF file, mapped read-only for them).
 */
#ifndef WOOFC_H
#define WOOFC_H

#include <woof.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct woof_header WOOF_SHARED;

typedef struct woof_stc {
	WOOF_SHARED *shared;	/* the WOOF's header, in the shared mapping */
	struct woof *handle;	/* the woof.h handle behind it */
	unsigned long ino;	/* inode number of the WOOF file */
} WOOF;

WOOF_API int WooFInit(void);
WOOF_API int WooFCreate(const char *name, unsigned long element_size,
			unsigned long history_size);
WOOF_API unsigned long WooFPut(const char *name, const char *handler, void *element);
WOOF_API int WooFGet(const char *name, void *element, unsigned long seq_no);
WOOF_API unsigned long WooFGetLatestSeqno(const char *name);
WOOF_API unsigned long WooFGetElSize(const char *name);
WOOF_API int WooFInvalid(unsigned long seq_no);
WOOF_API int WooFValidURI(const char *str);
WOOF_API WOOF *WooFOpen(const char *name);
WOOF_API unsigned long WooFAppend(WOOF *wf, const char *handler, void *element);
WOOF_API int WooFRead(WOOF *wf, void *element, unsigned long seq_no);
WOOF_API void WooFFree(WOOF *wf);
WOOF_API int WooFRemove(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* WOOFC_H */
