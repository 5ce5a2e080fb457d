/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * woof: the one contract shared by the kernel module, libwoof and the tools.
 *
 * This header defines the on-disk format of a WOOF (an append-only log of
 * fixed-size elements kept as a circular buffer) and of the per-namespace
 * bookkeeping files. Both engines - the user-space engine (files mapped
 * directly) and the kernel engine (woof.ko) - read and write exactly these
 * bytes, so a namespace directory can move between them.
 *
 * Rules of this header: __u64/__u32 types only, explicit padding, no
 * pointers, every struct ends in reserved space that writers zero and
 * readers ignore, and every size and offset is asserted at the bottom.
 * All integers are stored in the host's byte order: a WOOF file is a
 * page-cache format, not an interchange format.
 *
 * Changelog of WOOF_FORMAT_VERSION:
 *   1 - first version.
 */
#ifndef _UAPI_LINUX_WOOF_H
#define _UAPI_LINUX_WOOF_H

#include <linux/types.h>

/* ---- limits ----------------------------------------------------------- */

#define WOOF_FORMAT_MAGIC	0x31474f4c464f4f57ULL	/* "WOOFLOG1" */
#define WOOF_FORMAT_VERSION	1U
#define WOOF_HEADER_SIZE	4096U		/* slot 0 starts here */
#define WOOF_NAME_MAX		255U		/* bytes, without the NUL */
#define WOOF_SLOT_HEADER_SIZE	16U
#define WOOF_ELEMENT_SIZE_MAX	(1ULL << 30)	/* 1 GiB */
#define WOOF_HISTORY_MAX	(1ULL << 40)
#define WOOF_FILE_SIZE_MAX	(1ULL << 46)	/* 64 TiB, header included */

/*
 * Directory of per-namespace bookkeeping files. Names that begin with '.'
 * are therefore reserved and are never WOOF or handler names.
 */
#define WOOF_NS_META_DIR	".woof"

/* ---- persistent per-WOOF flags (woof_header.flags) --------------------- */

/* Every append is written to stable storage before it is acknowledged. */
#define WOOF_F_DURABLE		(1U << 0)
/*
 * Reserved for the trigger path: a put that would wrap over an element
 * whose handler has not read it yet overwrites it (and counts an overrun)
 * instead of waiting. Stored and reported; enforced by dispatcherd.
 */
#define WOOF_F_OVERWRITE	(1U << 1)
#define WOOF_F_ALL		(WOOF_F_DURABLE | WOOF_F_OVERWRITE)

/* ---- volatile state bits (woof_header.state) --------------------------- */

/* The file was replaced by a re-create; holders must reopen it by name. */
#define WOOF_STATE_REPLACED	(1U << 0)
/* The WOOF was removed; its name is gone from the namespace. */
#define WOOF_STATE_REMOVED	(1U << 1)
/*
 * The file is served by woof.ko: only the kernel appends. The user-space
 * engine refuses to append to a file with this bit set.
 */
#define WOOF_STATE_KERNEL	(1U << 2)

/*
 * struct woof_header - page 0 of every WOOF file.
 *
 * Cache line 0 is written once, at creation. Cache line 1 holds what every
 * append changes. The rest is reserved (zero) or descriptive.
 *
 * Slots follow the header: there are history_size + 1 of them. Slot i
 * (0 <= i < history_size) holds sequence number s when i == (s - 1) %
 * history_size. Slot history_size is the undo slot: before an append
 * overwrites the oldest element, it copies that element there. Readers of
 * the oldest element fall back to it while the ring slot is being
 * rewritten, and the next appender restores it if the appender died in the
 * middle (see Documentation/format.md). So every element in the retained
 * window [seq_no - history_size + 1, seq_no] is always readable.
 */
struct woof_header {
	/* line 0: immutable after creation */
	__u64 magic;		/* WOOF_FORMAT_MAGIC */
	__u32 version;		/* WOOF_FORMAT_VERSION */
	__u32 header_size;	/* WOOF_HEADER_SIZE */
	__u64 element_size;	/* bytes per element, 1..WOOF_ELEMENT_SIZE_MAX */
	__u64 history_size;	/* elements retained, 1..WOOF_HISTORY_MAX */
	__u64 slot_size;	/* WOOF_SLOT_SIZE(element_size) */
	__u64 create_time_ns;	/* CLOCK_REALTIME at creation */
	__u32 flags;		/* WOOF_F_* */
	__u32 reserved0;
	__u64 reserved1;

	/* line 1: changed by appends */
	__u64 seq_no;		/* highest committed sequence number, 0 = empty */
	__u64 lock;		/* user-space engine: append lock owner token, 0 = free */
	__u32 state;		/* WOOF_STATE_* */
	__u32 wait_flag;	/* a reader sleeps on the low 32 bits of seq_no */
	__u64 reserved2[5];

	/* lines 2-3: reserved for trigger and consumer state */
	__u64 reserved3[16];

	/* descriptive */
	char filename[WOOF_NAME_MAX + 1];	/* the WOOF's name, NUL-terminated */
	__u8 reserved4[WOOF_HEADER_SIZE - 512];
};

/*
 * struct woof_slot - the head of every slot; element_size bytes follow.
 *
 * stamp is the sequence number the slot holds when that element is
 * complete, and 0 while it is empty or being written. A reader copies the
 * element only between two reads of an equal, expected stamp (a seqlock),
 * so it never returns a torn or overwritten element.
 */
struct woof_slot {
	__u64 stamp;
	__u32 aux;		/* reserved for trigger bookkeeping, 0 */
	__u32 reserved;
};

#define WOOF_SLOT_SIZE(element_size) \
	(WOOF_SLOT_HEADER_SIZE + (((__u64)(element_size) + 7) & ~7ULL))
/* bytes of a WOOF file: the header, history_size ring slots, one undo slot */
#define WOOF_FILE_SIZE(element_size, history_size) \
	(WOOF_HEADER_SIZE + ((__u64)(history_size) + 1) * WOOF_SLOT_SIZE(element_size))

/* ---- the namespace's owner table: .woof/owners ------------------------- */

/*
 * Appenders of the user-space engine identify themselves by an owner token
 * when they take a WOOF's append lock. A process claims an owner id by
 * taking an OFD write lock on byte WOOF_OWNER_LOCK_BASE + id of this file
 * (the kernel drops it when the process dies, in any PID namespace), then
 * increments gen[id]. The token is (gen << 16) | id. A token is alive while
 * its byte is locked and gen[id] still equals its generation.
 */
#define WOOF_OWNERS_FILE	"owners"
#define WOOF_OWNERS_MAGIC	0x3153524e574f4f57ULL	/* "WOOWNRS1" */
#define WOOF_OWNERS_MAX		65536U
#define WOOF_OWNER_LOCK_BASE	(1ULL << 40)
#define WOOF_TOKEN_ID(tok)	((__u32)((tok) & 0xffffU))
#define WOOF_TOKEN_GEN(tok)	((tok) >> 16)

struct woof_owners {
	__u64 magic;		/* WOOF_OWNERS_MAGIC */
	__u32 version;		/* WOOF_FORMAT_VERSION */
	__u32 reserved0;
	__u64 reserved1[6];
	__u64 gen[WOOF_OWNERS_MAX];	/* generation of each owner id */
};

/* ---- layout asserts ----------------------------------------------------- */

#ifdef __cplusplus
#define WOOF_STATIC_ASSERT static_assert
#else
#define WOOF_STATIC_ASSERT _Static_assert
#endif
#define WOOF_OFFSET(type, member) __builtin_offsetof(type, member)

WOOF_STATIC_ASSERT(sizeof(struct woof_header) == WOOF_HEADER_SIZE, "woof_header size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, magic) == 0, "magic");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, version) == 8, "version");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, header_size) == 12, "header_size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, element_size) == 16, "element_size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, history_size) == 24, "history_size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, slot_size) == 32, "slot_size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, create_time_ns) == 40, "create_time_ns");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, flags) == 48, "flags");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, seq_no) == 64, "seq_no");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, lock) == 72, "lock");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, state) == 80, "state");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, wait_flag) == 84, "wait_flag");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, reserved3) == 128, "reserved3");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, filename) == 256, "filename");
WOOF_STATIC_ASSERT(sizeof(struct woof_slot) == WOOF_SLOT_HEADER_SIZE, "woof_slot size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_owners, gen) == 64, "owners gen");
WOOF_STATIC_ASSERT(sizeof(struct woof_owners) == 64 + 8 * WOOF_OWNERS_MAX, "owners size");

#endif /* _UAPI_LINUX_WOOF_H */
