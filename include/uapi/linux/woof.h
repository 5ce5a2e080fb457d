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

/*
 * The namespace's configuration file (dispatcherd's woof.conf), which lives
 * beside the WOOFs: refused as a WOOF name by the module and by libwoof.
 */
#define WOOF_NS_CONF_FILE	"woof.conf"

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
 * engine refuses to append to a file with this bit set while a loaded
 * woof.ko serves its directory; a bit left behind by a crash (no module
 * serves the directory) is cleared by the next user-space append.
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
	__u64 overruns;		/* triggered elements overwritten unread (WOOF_F_OVERWRITE) */
	__u64 reserved2[4];

	/*
	 * line 2: consumer state. Used in the namespace trigger log: the
	 * dispatcher finishes triggers and advances done_floor; appenders of
	 * triggers wait while the log would wrap over an unfinished one.
	 */
	__u64 done_floor;	/* every entry <= done_floor is finished */
	__u32 consumer_wait;	/* the consumer sleeps: notify WOOF_DISPATCH_SOCK */
	__u32 floor_wait;	/* appenders sleep on the low 32 bits of done_floor */
	__u64 reserved3[6];
	/* line 3 */
	__u64 reserved5[8];

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
	__u32 flags;		/* WOOF_SLOT_* */
	__u32 trigger;		/* low 32 bits of the element's trigger number, 0 = none */
};

/*
 * The element carries a trigger whose handler has not read it yet. An
 * append that would overwrite it waits (or fails with EAGAIN), unless the
 * WOOF has WOOF_F_OVERWRITE: then it overwrites and counts an overrun.
 */
#define WOOF_SLOT_PENDING	(1U << 0)
/* An appender sleeps (futex on flags) until PENDING clears. */
#define WOOF_SLOT_WAITER	(1U << 1)

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

/* ---- the namespace's trigger log: .woof/triggers ------------------------ */

/*
 * A put that names a handler appends one struct woof_trigger to the
 * namespace's trigger log, a WOOF file of its own, while it holds the
 * target WOOF's append lock, before it commits the element; the element's
 * slot records the trigger's number. So a committed element always has its
 * trigger, and a trigger whose element never committed is recognised as an
 * orphan (its WOOF slot does not carry its number) and dropped.
 *
 * The dispatcher reads entries after done_floor, runs their handlers, and
 * advances done_floor past finished ones. While the log is full of
 * unfinished entries, appenders of triggers wait (backpressure). To sleep,
 * the dispatcher sets consumer_wait; the next appender of a trigger clears
 * it and sends one datagram to the dispatcher's socket.
 */
#define WOOF_TRIGGERS_FILE	"triggers"
#define WOOF_DISPATCH_SOCK	"dispatch.sock"
#define WOOF_TRIGGERS_HISTORY	16384U

struct woof_trigger {
	__u64 woof_seq;		/* the element's sequence number in its WOOF */
	__u64 woof_ctime;	/* the WOOF's create_time_ns (tells re-creations apart) */
	__u64 put_time_ns;	/* CLOCK_REALTIME when the put was made */
	__u32 flags;		/* 0 */
	__u32 reserved0;
	__u64 reserved1[4];
	char woof[WOOF_NAME_MAX + 1];
	char handler[WOOF_NAME_MAX + 1];
};

/* ---- dispatcherd's records: .woof/calls and .woof/log -------------------- */

/*
 * dispatcherd keeps two WOOFs of its own in the namespace's bookkeeping
 * directory. They are ordinary WOOF files; because their names live inside
 * .woof/, libwoof reaches them as the WOOFs "calls" and "log" of the
 * namespace whose directory is <ns>/.woof (woof_ns_open("<ns>/.woof")).
 * Only dispatcherd appends to them; readers (woofctl trigger ls, logs -f)
 * read and woof_wait() like on any WOOF.
 *
 * .woof/calls: one struct woof_call_record per state change of a call:
 * one when the handler starts (RUNNING or REDELIVERED), one when it ends
 * (DONE or FAILED), or a single one for a trigger that never ran (ORPHAN,
 * or FAILED with a reason). A restarted dispatcherd reads it to learn
 * which triggers above the trigger log's done_floor already finished (they
 * are not run again) and which had started (they run again as attempt + 1).
 */
#define WOOF_CALLS_FILE		"calls"
#define WOOF_CALLS_HISTORY	8192U

/* woof_call_record.state */
#define WOOF_CALL_PENDING	0U	/* read from the trigger log, waiting for a slot */
#define WOOF_CALL_RUNNING	1U	/* handler started, attempt 1 */
#define WOOF_CALL_DONE		2U	/* handler returned >= 0 (exit status 0) */
#define WOOF_CALL_FAILED	3U	/* see reason */
#define WOOF_CALL_REDELIVERED	4U	/* handler started again after a dispatcherd crash */
#define WOOF_CALL_ORPHAN	5U	/* the put died before committing: nothing to run */

/* woof_call_record.reason (FAILED, and the cause of an ORPHAN) */
#define WOOF_CALL_R_NONE	0U
#define WOOF_CALL_R_EXIT	1U	/* exit status != 0 (the handler returned < 0) */
#define WOOF_CALL_R_SIGNAL	2U	/* killed by signal (signal holds it) */
#define WOOF_CALL_R_TIMEOUT	3U	/* past its timeout, killed */
#define WOOF_CALL_R_NOHANDLER	4U	/* no handler file of that name in the namespace */
#define WOOF_CALL_R_NOEXEC	5U	/* the handler file is not an executable regular file */
#define WOOF_CALL_R_SPAWN	6U	/* starting the handler failed (error holds the errno) */
#define WOOF_CALL_R_STALE	7U	/* the WOOF was re-created since the put */
#define WOOF_CALL_R_REMOVED	8U	/* the WOOF was removed */
#define WOOF_CALL_R_OVERWRITTEN	9U	/* the element was overwritten before it could be read */
#define WOOF_CALL_R_ORPHAN	10U	/* the put died before committing */
#define WOOF_CALL_R_CLAIM	11U	/* claiming the element failed otherwise (error) */
#define WOOF_CALL_R_CRASH	12U	/* the runtime process serving the call died (warm) */

/* woof_call_record.flags */
#define WOOF_CALL_F_OUTPUT_TRUNC (1U << 0)	/* output beyond output_max was not logged */
#define WOOF_CALL_F_SPOOLED	(1U << 1)	/* redelivered from the spool copy of the element */

/* woof_call_record.runtime */
#define WOOF_RUNTIME_EXEC	0U
#define WOOF_RUNTIME_ZYGOTE	1U
#define WOOF_RUNTIME_WARM	2U

struct woof_call_record {
	__u64 trigger;		/* the trigger's number in .woof/triggers */
	__u64 woof_seq;		/* the element's sequence number */
	__u64 put_time_ns;	/* copied from the trigger (tells trigger logs apart) */
	__u64 time_ns;		/* CLOCK_REALTIME when this record was written */
	__u64 start_ns;		/* CLOCK_REALTIME when the handler started, 0 = never */
	__u64 end_ns;		/* CLOCK_REALTIME when it ended, 0 = not yet */
	__u64 duration_ns;	/* CLOCK_MONOTONIC run time, 0 until it ends */
	__u64 output_bytes;	/* bytes the call wrote to stdout and stderr */
	__u32 attempt;		/* 1, 2, ... */
	__u32 state;		/* WOOF_CALL_* */
	__u32 reason;		/* WOOF_CALL_R_* */
	__u32 exit_status;	/* exit code when it exited */
	__u32 signal;		/* signal number when it was killed, else 0 */
	__u32 pid;		/* the handler's pid (in dispatcherd's PID namespace) */
	__u32 runtime;		/* WOOF_RUNTIME_* */
	__u32 flags;		/* WOOF_CALL_F_* */
	__s32 error;		/* errno for R_SPAWN and R_CLAIM, else 0 */
	__u32 reserved0;
	__u64 reserved1[3];
	char woof[WOOF_NAME_MAX + 1];
	char handler[WOOF_NAME_MAX + 1];
};

/*
 * .woof/log: the output of handlers, in chunks, bounded by the WOOF's
 * history (WOOF_LOG_HISTORY chunks; the oldest are overwritten). Every read
 * from a call's stdout or stderr pipe becomes one or more chunks, in order
 * per call and stream; chunks of concurrent calls interleave. Stream 0
 * holds one-line notes dispatcherd writes about a call (why it failed).
 */
#define WOOF_LOG_FILE		"log"
#define WOOF_LOG_HISTORY	8192U
#define WOOF_LOG_DATA		464U

#define WOOF_LOG_NOTE		0U	/* dispatcherd about the call */
#define WOOF_LOG_STDOUT		1U
#define WOOF_LOG_STDERR		2U

struct woof_log_chunk {
	__u64 trigger;		/* the call's trigger number */
	__u64 time_ns;		/* CLOCK_REALTIME when dispatcherd read it */
	__u32 attempt;		/* the call's attempt */
	__u16 stream;		/* WOOF_LOG_* */
	__u16 len;		/* bytes used in data, 1..WOOF_LOG_DATA */
	__u32 pid;		/* the handler's pid */
	__u32 reserved0;
	__u64 reserved1[2];
	char data[WOOF_LOG_DATA];	/* not NUL-terminated */
};

/*
 * Other files dispatcherd keeps in .woof/:
 *   dispatcherd.lock  flock()ed while a dispatcherd serves the namespace;
 *                     holds its pid in decimal
 *   status            text, rewritten (atomically, by rename) whenever the
 *                     state changes: see Documentation/dispatcherd.md
 *   spool/<trigger>   the claimed copy of a running call's element, so a
 *                     call that started before a crash can run again even
 *                     when its slot has been overwritten since
 *   recovery          text: the unfinished triggers dispatcherd had read
 *                     when it fenced the namespace (a fault on one of its
 *                     files); `woofctl ns repair` puts them back into the
 *                     trigger log (Documentation/dispatcherd.md)
 */
#define WOOF_DISPATCHERD_LOCK	"dispatcherd.lock"
#define WOOF_STATUS_FILE	"status"
#define WOOF_SPOOL_DIR		"spool"
#define WOOF_RECOVERY_FILE	"recovery"

/* ---- kernel interface: /dev/woof (woof.ko) ------------------------------ */

/*
 * woof.ko serves namespaces through character devices (see
 * Documentation/userspace-api.md for the whole contract):
 *
 *   /dev/woof/control   ioctls: VERSION, NS_MOUNT, NS_UMOUNT, NS_LIST
 *   /dev/woof/<ns>      one per mounted namespace; ioctls CREATE, OPEN,
 *                       REMOVE, TRIGGER_DONE, TRIGGER_CLAIM, TRIGGER_INFO,
 *                       NS_STAT;
 *                       read() delivers struct woof_trigger_record
 *   a WOOF fd           returned by CREATE and OPEN; mmap (read-only, the
 *                       file in this format), ioctls APPEND, APPEND_BATCH,
 *                       WAIT, SET_FLAGS; read() and poll() for new elements
 *   genetlink "woof"    events (namespace mounted/unmounted, WOOF created/
 *                       removed, overruns) on the multicast group "events"
 *
 * Rules shared by every ioctl argument struct:
 *   - it starts with __u32 size (the caller's sizeof of the struct) and
 *     __u32 flags; size < the size below is -EINVAL, size > PAGE_SIZE is
 *     -E2BIG, and bytes beyond the struct this kernel knows must be zero
 *     (-E2BIG), so a struct can grow at its end;
 *   - unknown flags and non-zero reserved fields are -EINVAL;
 *   - fields marked "out" are ignored on input; the kernel writes the
 *     struct back (up to size bytes) only when the ioctl succeeds, unless
 *     the field's comment says otherwise; APPEND writes only @seq;
 *   - pointers travel as __u64; names are NUL-terminated inside their
 *     array and follow woof_name_check()'s rules.
 */
#include <linux/ioctl.h>

#define WOOF_KAPI_VERSION	1U
#define WOOF_IOC_TYPE		0xB9
#define WOOF_DEV_DIR		"/dev/woof"
#define WOOF_CONTROL_DEV	"/dev/woof/control"
/* namespace names: 1..63 bytes of [A-Za-z0-9_.-], not starting with '.' or
 * '-', and not "control" */
#define WOOF_NS_NAME_MAX	63U
#define WOOF_NS_PATH_MAX	1024U	/* bytes of woof_ns_info.path */
#define WOOF_BATCH_MAX		4096U	/* elements per APPEND_BATCH */

/* Feature bits (woof_version.features); woofctl features names them. */
#define WOOF_FEAT_NS		(1ULL << 0)	/* NS_MOUNT/UMOUNT/LIST, /dev/woof/<ns> */
#define WOOF_FEAT_WOOF		(1ULL << 1)	/* CREATE/OPEN/REMOVE, WOOF fds */
#define WOOF_FEAT_MMAP		(1ULL << 2)	/* read-only mmap of a WOOF fd */
#define WOOF_FEAT_APPEND	(1ULL << 3)	/* APPEND: seq assigned by the kernel */
#define WOOF_FEAT_BATCH		(1ULL << 4)	/* APPEND_BATCH */
#define WOOF_FEAT_WAIT		(1ULL << 5)	/* WAIT, read() and poll() on WOOF fds */
#define WOOF_FEAT_TRIGGERS	(1ULL << 6)	/* trigger records, DONE, CLAIM, INFO */
#define WOOF_FEAT_BACKPRESSURE	(1ULL << 7)	/* appends wait for PENDING slots / a full log */
#define WOOF_FEAT_GENL		(1ULL << 8)	/* generic netlink family "woof", events */
#define WOOF_FEAT_TRACE		(1ULL << 9)	/* tracepoints woof:woof_append, woof_trigger* */
#define WOOF_FEAT_SET_FLAGS	(1ULL << 10)	/* SET_FLAGS on WOOF fds */
#define WOOF_FEAT_NS_STAT	(1ULL << 11)	/* NS_STAT on /dev/woof/<ns> */

/* ---- /dev/woof/control ---- */

/* WOOF_IOC_VERSION: what this module speaks. Anyone may ask. */
struct woof_version {
	__u32 size;		/* sizeof(struct woof_version) */
	__u32 flags;		/* 0 */
	__u32 api_version;	/* out: WOOF_KAPI_VERSION */
	__u32 format_version;	/* out: WOOF_FORMAT_VERSION */
	__u64 features;		/* out: WOOF_FEAT_* */
	__u32 ns_max;		/* out: namespaces that can be mounted at once */
	__u32 ns_count;		/* out: namespaces mounted now */
	__u64 reserved[4];	/* 0 */
};

/*
 * WOOF_IOC_NS_MOUNT (CAP_SYS_ADMIN): serve the namespace directory @dirfd
 * as /dev/woof/<name>, owned by @uid:@gid with permission bits @mode.
 * Every file operation in the directory later runs with the credentials
 * of the mounting process.
 */
struct woof_ns_mount {
	__u32 size;		/* sizeof(struct woof_ns_mount) */
	__u32 flags;		/* 0 */
	__s32 dirfd;		/* the directory (O_RDONLY or O_PATH) */
	__u32 mode;		/* 0 .. 0777; 0 means 0600 */
	__u32 uid;		/* in the caller's user namespace */
	__u32 gid;
	__u32 dev_major;	/* out */
	__u32 dev_minor;	/* out */
	__u64 reserved[4];	/* 0 */
	char name[WOOF_NS_NAME_MAX + 1];
};

/* Unmount even while the device or WOOF fds are open: they get -ENODEV. */
#define WOOF_UMOUNT_DETACH	(1U << 0)
#define WOOF_UMOUNT_ALL		WOOF_UMOUNT_DETACH

/* WOOF_IOC_NS_UMOUNT (CAP_SYS_ADMIN). */
struct woof_ns_umount {
	__u32 size;		/* sizeof(struct woof_ns_umount) */
	__u32 flags;		/* WOOF_UMOUNT_* */
	__u64 reserved[3];	/* 0 */
	char name[WOOF_NS_NAME_MAX + 1];
};

/* woof_ns_info.flags */
#define WOOF_NSI_PATH_TRUNC	(1U << 0)	/* path did not fit */

struct woof_ns_info {
	char name[WOOF_NS_NAME_MAX + 1];
	__u32 dev_major;
	__u32 dev_minor;
	__u32 uid;		/* of the device node, in the caller's user namespace */
	__u32 gid;
	__u32 mode;
	__u32 flags;		/* WOOF_NSI_* */
	__u64 woofs;		/* WOOFs the kernel serves in it now */
	__u64 users;		/* open device and WOOF file descriptors */
	__u64 reserved[4];
	char path[WOOF_NS_PATH_MAX];	/* the directory, as seen by the caller */
};

/*
 * WOOF_IOC_NS_LIST: fill up to @count entries of @entry_size bytes at
 * @entries; @count returns how many namespaces are mounted (which may be
 * more than fit: call again with a bigger array).
 */
struct woof_ns_list {
	__u32 size;		/* sizeof(struct woof_ns_list) */
	__u32 flags;		/* 0 */
	__u32 count;		/* in: entries at @entries; out: namespaces mounted */
	__u32 entry_size;	/* sizeof(struct woof_ns_info) (or larger) */
	__u64 entries;		/* pointer to the array, may be 0 when count is 0 */
	__u64 reserved[2];	/* 0 */
};

/* ---- /dev/woof/<ns> ---- */

/* woof_open.flags */
#define WOOF_OPEN_RDONLY	(1U << 0)	/* the fd can read, wait, mmap; not append */
#define WOOF_OPEN_CLOEXEC	(1U << 1)	/* O_CLOEXEC on the new fd */
#define WOOF_OPEN_ALL		(WOOF_OPEN_RDONLY | WOOF_OPEN_CLOEXEC)
/* CREATE only: how an existing WOOF of that name is treated (neither: open
 * it if element and history size match, else -EEXIST) */
#define WOOF_CREATE_F_EXCL	(1U << 8)	/* fail with -EEXIST */
#define WOOF_CREATE_F_RESET	(1U << 9)	/* replace it by an empty WOOF */
#define WOOF_CREATE_ALL		(WOOF_OPEN_ALL | WOOF_CREATE_F_EXCL | WOOF_CREATE_F_RESET)

/*
 * WOOF_IOC_CREATE and WOOF_IOC_OPEN: a new file descriptor for the WOOF
 * @name (in @fd). CREATE needs the device open for writing, and so does an
 * OPEN without WOOF_OPEN_RDONLY.
 */
struct woof_open {
	__u32 size;		/* sizeof(struct woof_open) */
	__u32 flags;		/* WOOF_OPEN_*, and WOOF_CREATE_F_* for CREATE */
	__u64 element_size;	/* CREATE: 1..WOOF_ELEMENT_SIZE_MAX; OPEN: 0. out */
	__u64 history_size;	/* CREATE: 1..WOOF_HISTORY_MAX; OPEN: 0. out */
	__u32 woof_flags;	/* CREATE: WOOF_F_* of a new WOOF; OPEN: 0. out */
	__u32 mode;		/* CREATE: file mode bits, 0 = 0664 (umask applies); OPEN: 0 */
	__s32 fd;		/* out */
	__u32 state;		/* out: WOOF_STATE_* */
	__u64 create_time_ns;	/* out */
	__u64 latest;		/* out: seq_no when opened */
	__u64 file_size;	/* out: bytes to mmap */
	__u64 reserved[4];	/* 0 */
	char name[WOOF_NAME_MAX + 1];
};

/* WOOF_IOC_REMOVE (device open for writing). */
struct woof_remove {
	__u32 size;		/* sizeof(struct woof_remove) */
	__u32 flags;		/* 0 */
	__u64 reserved[3];	/* 0 */
	char name[WOOF_NAME_MAX + 1];
};

/* woof_trigger_record.flags */
#define WOOF_TREC_REDELIVERED	(1U << 0)	/* delivered before (a reader closed without finishing) */

/*
 * read() on /dev/woof/<ns> (open for writing) returns whole records, as many
 * as fit (a buffer smaller than one record is -EINVAL). Each trigger goes to
 * exactly one reader. Triggers above done_floor that were delivered but not
 * finished are delivered again once every reader has closed the device.
 */
struct woof_trigger_record {
	__u64 trigger;		/* the entry's number in .woof/triggers */
	__u32 flags;		/* WOOF_TREC_* */
	__u32 reserved0;
	__u64 reserved1[2];
	struct woof_trigger entry;
};

/* WOOF_IOC_TRIGGER_DONE: every trigger <= @floor is finished. */
struct woof_trigger_done {
	__u32 size;		/* sizeof(struct woof_trigger_done) */
	__u32 flags;		/* 0 */
	__u64 floor;		/* <= the log's latest (-ERANGE); lower than now: no-op */
	__u64 reserved[2];	/* 0 */
};

/* woof_trigger_claim.result */
#define WOOF_CLAIM_ALREADY	(1U << 0)	/* an earlier claim took it: a redelivery */

/*
 * WOOF_IOC_TRIGGER_CLAIM: copy the element of trigger @trigger to @element
 * and clear its PENDING flag (appenders waiting for the slot go on).
 */
struct woof_trigger_claim {
	__u32 size;		/* sizeof(struct woof_trigger_claim) */
	__u32 flags;		/* 0 */
	__u64 trigger;		/* in */
	__u64 element;		/* in: buffer pointer */
	__u64 element_size;	/* in: bytes at @element; out: the element's size
				 * (also written with -EMSGSIZE) */
	__u64 woof_seq;		/* out */
	__u64 woof_latest;	/* out */
	__u32 result;		/* out: WOOF_CLAIM_* */
	__u32 reserved0;	/* 0 */
	__u64 reserved[2];	/* 0 */
};

/* WOOF_IOC_TRIGGER_INFO: the namespace's trigger log. */
struct woof_trigger_info {
	__u32 size;		/* sizeof(struct woof_trigger_info) */
	__u32 flags;		/* 0 */
	__u64 latest;		/* out: highest trigger number */
	__u64 done_floor;	/* out */
	__u64 history;		/* out: entries the log holds */
	__u64 next;		/* out: the next trigger read() delivers */
	__u32 readers;		/* out: open descriptors that have read triggers */
	__u32 reserved0;	/* 0 */
	__u64 reserved[3];	/* 0 */
};

/*
 * WOOF_IOC_NS_STAT: which directory this namespace device serves, as
 * stat(2) of it would say (device and inode, no path: a process in another
 * mount namespace, e.g. a sandboxed handler given only this node, can
 * check that a directory it sees is the one served), and the device's own
 * name and number. Needs the device open (for reading is enough).
 */
struct woof_ns_stat {
	__u32 size;		/* sizeof(struct woof_ns_stat) */
	__u32 flags;		/* 0 */
	__u32 dir_dev_major;	/* out: st_dev of the namespace directory */
	__u32 dir_dev_minor;	/* out */
	__u64 dir_ino;		/* out: st_ino of the namespace directory */
	__u32 dev_major;	/* out: this device, /dev/woof/<name> */
	__u32 dev_minor;	/* out */
	__u64 reserved[4];	/* 0 */
	char name[WOOF_NS_NAME_MAX + 1];	/* out */
};

/* ---- WOOF fds ---- */

/* Fail with -EAGAIN instead of waiting (PENDING slot, full trigger log). */
#define WOOF_APPEND_NONBLOCK	(1U << 0)
#define WOOF_APPEND_ALL		WOOF_APPEND_NONBLOCK

/* WOOF_IOC_APPEND: append one element; the kernel assigns @seq. */
struct woof_append {
	__u32 size;		/* sizeof(struct woof_append) */
	__u32 flags;		/* WOOF_APPEND_* */
	__u64 element;		/* pointer to element_size bytes */
	__u64 element_size;	/* must equal the WOOF's element size */
	__u64 handler;		/* pointer to a NUL-terminated handler name, 0 = none */
	__u64 seq;		/* out: the element's sequence number */
	__u64 reserved[3];	/* 0 */
};

/*
 * WOOF_IOC_APPEND_BATCH: append @count elements (contiguous at @elements)
 * under one lock hold; they get the sequence numbers first_seq ..
 * first_seq + done - 1. Waits only before the first element; stops early
 * (done < count) where a single append would wait or a signal arrives.
 */
struct woof_append_batch {
	__u32 size;		/* sizeof(struct woof_append_batch) */
	__u32 flags;		/* WOOF_APPEND_* */
	__u64 elements;		/* pointer to count * element_size bytes */
	__u64 element_size;	/* must equal the WOOF's element size */
	__u64 handler;		/* as in struct woof_append, for every element */
	__u32 count;		/* 1..WOOF_BATCH_MAX */
	__u32 done;		/* out */
	__u64 first_seq;	/* out */
	__u64 reserved[2];	/* 0 */
};

/*
 * WOOF_IOC_WAIT: wait until the WOOF holds an element after @seq. Also sets
 * the fd's mark to @seq: poll() reports EPOLLIN while latest > mark. Returns
 * 0 or -ETIMEDOUT with @latest filled in, -EINTR, -ESTALE (removed or
 * replaced), -ENODEV (namespace unmounted).
 */
struct woof_wait {
	__u32 size;		/* sizeof(struct woof_wait) */
	__u32 flags;		/* 0 */
	__u64 seq;
	__s64 timeout_ns;	/* < 0: no limit; 0: do not sleep */
	__u64 latest;		/* out (also with -ETIMEDOUT) */
	__u64 reserved[2];	/* 0 */
};

/*
 * WOOF_IOC_SET_FLAGS: set @set and clear @clear among the WOOF's persistent
 * WOOF_F_* flags (woof_set_durable()); the header is written to stable
 * storage before it returns. Needs a WOOF fd open for appending (-EBADF).
 * @old returns the flags before the change.
 */
struct woof_set_flags {
	__u32 size;		/* sizeof(struct woof_set_flags) */
	__u32 flags;		/* 0 */
	__u32 set;		/* WOOF_F_* */
	__u32 clear;		/* WOOF_F_*, disjoint from @set */
	__u32 old;		/* out */
	__u32 reserved0;	/* 0 */
	__u64 reserved[2];	/* 0 */
};

/* ---- generic netlink: the family "woof" ---- */

/*
 * Family WOOF_GENL_NAME, multicast group WOOF_GENL_MCGRP_EVENTS (in the
 * initial network namespace). Anyone may join the group and send
 * WOOF_GENL_CMD_VERSION. Events carry the attributes listed with them.
 */
#define WOOF_GENL_NAME		"woof"
#define WOOF_GENL_VERSION	1
#define WOOF_GENL_MCGRP_EVENTS	"events"

enum woof_genl_cmd {
	WOOF_GENL_CMD_UNSPEC,
	WOOF_GENL_CMD_VERSION,		/* request; reply: API_VERSION, FORMAT_VERSION, FEATURES */
	WOOF_GENL_CMD_NS_MOUNTED,	/* event: NS, PATH, DEV_MAJOR, DEV_MINOR */
	WOOF_GENL_CMD_NS_UNMOUNTED,	/* event: NS */
	WOOF_GENL_CMD_WOOF_CREATED,	/* event: NS, WOOF, ELEMENT_SIZE, HISTORY_SIZE, REPLACED */
	WOOF_GENL_CMD_WOOF_REMOVED,	/* event: NS, WOOF */
	WOOF_GENL_CMD_OVERRUN,		/* event: NS, WOOF, SEQ (the element overwritten), OVERRUNS */
	__WOOF_GENL_CMD_MAX,
};
#define WOOF_GENL_CMD_MAX	(__WOOF_GENL_CMD_MAX - 1)

enum woof_genl_attr {
	WOOF_GENL_A_UNSPEC,
	WOOF_GENL_A_PAD,
	WOOF_GENL_A_API_VERSION,	/* u32 */
	WOOF_GENL_A_FORMAT_VERSION,	/* u32 */
	WOOF_GENL_A_FEATURES,		/* u64 */
	WOOF_GENL_A_NS,			/* string: namespace name */
	WOOF_GENL_A_PATH,		/* string: namespace directory */
	WOOF_GENL_A_DEV_MAJOR,		/* u32 */
	WOOF_GENL_A_DEV_MINOR,		/* u32 */
	WOOF_GENL_A_WOOF,		/* string: WOOF name */
	WOOF_GENL_A_ELEMENT_SIZE,	/* u64 */
	WOOF_GENL_A_HISTORY_SIZE,	/* u64 */
	WOOF_GENL_A_REPLACED,		/* flag: an existing WOOF was replaced */
	WOOF_GENL_A_SEQ,		/* u64 */
	WOOF_GENL_A_OVERRUNS,		/* u64: the WOOF's overrun count now */
	__WOOF_GENL_A_MAX,
};
#define WOOF_GENL_A_MAX		(__WOOF_GENL_A_MAX - 1)

#define WOOF_IOC_VERSION	_IOWR(WOOF_IOC_TYPE, 0x00, struct woof_version)
#define WOOF_IOC_NS_MOUNT	_IOWR(WOOF_IOC_TYPE, 0x01, struct woof_ns_mount)
#define WOOF_IOC_NS_UMOUNT	_IOW(WOOF_IOC_TYPE, 0x02, struct woof_ns_umount)
#define WOOF_IOC_NS_LIST	_IOWR(WOOF_IOC_TYPE, 0x03, struct woof_ns_list)

#define WOOF_IOC_CREATE		_IOWR(WOOF_IOC_TYPE, 0x10, struct woof_open)
#define WOOF_IOC_OPEN		_IOWR(WOOF_IOC_TYPE, 0x11, struct woof_open)
#define WOOF_IOC_REMOVE		_IOW(WOOF_IOC_TYPE, 0x12, struct woof_remove)
#define WOOF_IOC_TRIGGER_DONE	_IOW(WOOF_IOC_TYPE, 0x13, struct woof_trigger_done)
#define WOOF_IOC_TRIGGER_CLAIM	_IOWR(WOOF_IOC_TYPE, 0x14, struct woof_trigger_claim)
#define WOOF_IOC_TRIGGER_INFO	_IOWR(WOOF_IOC_TYPE, 0x15, struct woof_trigger_info)
#define WOOF_IOC_NS_STAT	_IOWR(WOOF_IOC_TYPE, 0x16, struct woof_ns_stat)

#define WOOF_IOC_APPEND		_IOWR(WOOF_IOC_TYPE, 0x20, struct woof_append)
#define WOOF_IOC_APPEND_BATCH	_IOWR(WOOF_IOC_TYPE, 0x21, struct woof_append_batch)
#define WOOF_IOC_WAIT		_IOWR(WOOF_IOC_TYPE, 0x22, struct woof_wait)
#define WOOF_IOC_SET_FLAGS	_IOWR(WOOF_IOC_TYPE, 0x23, struct woof_set_flags)

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
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, overruns) == 88, "overruns");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, done_floor) == 128, "done_floor");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, consumer_wait) == 136, "consumer_wait");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, floor_wait) == 140, "floor_wait");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, reserved5) == 192, "reserved5");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_header, filename) == 256, "filename");
WOOF_STATIC_ASSERT(sizeof(struct woof_slot) == WOOF_SLOT_HEADER_SIZE, "woof_slot size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_slot, flags) == 8, "slot flags");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_slot, trigger) == 12, "slot trigger");
WOOF_STATIC_ASSERT(sizeof(struct woof_trigger) == 64 + 2 * (WOOF_NAME_MAX + 1), "woof_trigger size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_trigger, woof) == 64, "trigger woof");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_owners, gen) == 64, "owners gen");
WOOF_STATIC_ASSERT(sizeof(struct woof_owners) == 64 + 8 * WOOF_OWNERS_MAX, "owners size");
WOOF_STATIC_ASSERT(sizeof(struct woof_call_record) == 128 + 2 * (WOOF_NAME_MAX + 1), "call record size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_call_record, attempt) == 64, "call record attempt");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_call_record, error) == 96, "call record error");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_call_record, woof) == 128, "call record woof");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_call_record, handler) == 384, "call record handler");
WOOF_STATIC_ASSERT(sizeof(struct woof_log_chunk) == 512, "log chunk size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_log_chunk, stream) == 20, "log chunk stream");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_log_chunk, data) == 48, "log chunk data");

WOOF_STATIC_ASSERT(sizeof(struct woof_version) == 64, "woof_version size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_version, features) == 16, "woof_version features");
WOOF_STATIC_ASSERT(sizeof(struct woof_ns_mount) == 128, "woof_ns_mount size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_ns_mount, dirfd) == 8, "woof_ns_mount dirfd");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_ns_mount, name) == 64, "woof_ns_mount name");
WOOF_STATIC_ASSERT(sizeof(struct woof_ns_umount) == 96, "woof_ns_umount size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_ns_umount, name) == 32, "woof_ns_umount name");
WOOF_STATIC_ASSERT(sizeof(struct woof_ns_info) == 136 + WOOF_NS_PATH_MAX, "woof_ns_info size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_ns_info, woofs) == 88, "woof_ns_info woofs");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_ns_info, path) == 136, "woof_ns_info path");
WOOF_STATIC_ASSERT(sizeof(struct woof_ns_list) == 40, "woof_ns_list size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_ns_list, entries) == 16, "woof_ns_list entries");
WOOF_STATIC_ASSERT(sizeof(struct woof_open) == 96 + WOOF_NAME_MAX + 1, "woof_open size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_open, element_size) == 8, "woof_open element_size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_open, fd) == 32, "woof_open fd");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_open, name) == 96, "woof_open name");
WOOF_STATIC_ASSERT(sizeof(struct woof_remove) == 32 + WOOF_NAME_MAX + 1, "woof_remove size");
WOOF_STATIC_ASSERT(sizeof(struct woof_trigger_record) == 32 + sizeof(struct woof_trigger),
		   "woof_trigger_record size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_trigger_record, entry) == 32, "trigger record entry");
WOOF_STATIC_ASSERT(sizeof(struct woof_trigger_done) == 32, "woof_trigger_done size");
WOOF_STATIC_ASSERT(sizeof(struct woof_trigger_claim) == 72, "woof_trigger_claim size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_trigger_claim, result) == 48, "claim result");
WOOF_STATIC_ASSERT(sizeof(struct woof_trigger_info) == 72, "woof_trigger_info size");
WOOF_STATIC_ASSERT(sizeof(struct woof_ns_stat) == 64 + WOOF_NS_NAME_MAX + 1, "woof_ns_stat size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_ns_stat, name) == 64, "woof_ns_stat.name");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_trigger_info, readers) == 40, "trigger info readers");
WOOF_STATIC_ASSERT(sizeof(struct woof_append) == 64, "woof_append size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_append, seq) == 32, "woof_append seq");
WOOF_STATIC_ASSERT(sizeof(struct woof_append_batch) == 64, "woof_append_batch size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_append_batch, count) == 32, "batch count");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_append_batch, first_seq) == 40, "batch first_seq");
WOOF_STATIC_ASSERT(sizeof(struct woof_wait) == 48, "woof_wait size");
WOOF_STATIC_ASSERT(sizeof(struct woof_set_flags) == 40, "woof_set_flags size");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_set_flags, old) == 16, "set_flags old");
WOOF_STATIC_ASSERT(WOOF_OFFSET(struct woof_wait, latest) == 24, "woof_wait latest");

#endif /* _UAPI_LINUX_WOOF_H */
