/* SPDX-License-Identifier: GPL-2.0 */
/*
 * woof-int.h - what the files of woof.ko share.
 *
 * Objects and their lifetimes:
 *   struct woof_nsdev  a mounted namespace: a directory, the credentials of
 *                      whoever mounted it, and the char device
 *                      /dev/woof/<name>. Reference counted through its
 *                      struct device; open device files (through the
 *                      cdev), WOOF fds (through their kwoof) and the mount
 *                      itself hold references.
 *   struct kwoof       one WOOF file the kernel serves: the open backing
 *                      file, its geometry, and the append lock. The
 *                      namespace's table holds one reference while the WOOF
 *                      is served; every WOOF fd holds one.
 *
 * Locks, outermost first:
 *   woof_global_lock   the namespace list, mount and unmount (never held
 *                      across file I/O of a mount: a file system that
 *                      hangs or BUGs there must not take every namespace)
 *   ns->lock           the namespace's kwoof table, create/open/remove
 *   kwoof->lock (WOOF) appends, claims and repair of that WOOF
 *   kwoof->lock (log)  the trigger log; taken inside a WOOF's lock
 *   ns->tlock          the trigger delivery cursor
 *   i_rwsem of the backing file, only around ->write_begin/->write_end
 *   woof_served_lock   the table of served inodes (a spinlock, innermost)
 *
 * A file (an inode) is served by at most one kwoof in the whole module
 * (woof_served): every path to it shares one sequence. A second
 * namespace's OPEN, CREATE or REMOVE of an inode another one serves is
 * -EBUSY; a WOOF file with more than one hard link is never served
 * (-EMLINK), see Documentation/userspace-api.md.
 * Nothing faults in user memory while holding a page lock.
 */
#ifndef WOOF_INT_H
#define WOOF_INT_H

#include <linux/buffer_head.h>
#include <linux/cdev.h>
#include <linux/cred.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/path.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <uapi/linux/woof.h>

#define WOOF_NS_MAX		1024U
#define WOOF_BOUNCE_MAX		(64U * 1024U)	/* bytes copied per chunk */

/* what an append would have to wait for (positive returns, never to user space) */
#define KW_WAIT_SLOT		1	/* the slot's element is PENDING */
#define KW_WAIT_LOG		2	/* the trigger log is full of unfinished entries */
#define KW_FAST_REDO		3	/* fast append raced with writeback: store again */

struct woof_nsdev;

/*
 * Pages a served WOOF keeps referenced: the header, the undo slot, the
 * slot being appended to, and one more, so that an append never evicts a
 * page it is using (the least recently used entry is one it did not
 * touch).
 */
#define WOOF_PCACHE		4

/*
 * Writes to one backing file (woof-file.c), and a few of its pages kept
 * referenced from one operation to the next (the header, the undo slot,
 * the slot being appended to) so an append needs no page-cache look-up.
 * A cached page is used only after checking, under its page lock, that it
 * still belongs to the file at that index. Used under its owner's lock.
 */
struct woof_wctx {
	struct file *f;
	struct address_space *mapping;	/* f->f_mapping */
	loff_t need;			/* the file must be this long */
	bool locked;			/* holds freeze protection and i_rwsem */
	bool lockless;			/* cached dirty pages may be written unlocked */
	bool whole_page_blocks;		/* block size >= page size */
	u8 hint[3];			/* pc[] entries the lockless callers found last */
	unsigned long tick;
	struct {
		struct page *page;	/* referenced, or NULL */
		void *addr;		/* page_address(page) (not highmem) */
		pgoff_t index;
		unsigned long used;
	} pc[WOOF_PCACHE];
};

struct kwoof {
	struct kref ref;
	struct woof_nsdev *ns;		/* holds a reference on ns->dev */
	struct file *file;		/* the backing file, O_RDWR */
	struct hlist_node node;		/* ns->woofs, under ns->lock */
	bool listed;			/* in ns->woofs (holds a reference) */
	struct hlist_node snode;	/* woof_served (woof-engine.c) */
	bool registered;		/* in woof_served: the inode's one server */
	bool is_log;			/* the namespace's trigger log */

	struct mutex lock;		/* appends, claims, repair */
	wait_queue_head_t wq;		/* new elements, claims, state changes */
	u64 seq;			/* committed seq_no; written under lock */
	u64 idx_seq, idx_next;		/* slot index of seq idx_seq (0: none); under lock */
	unsigned long claims;		/* bumped by every claim (wait condition) */
	bool stale;			/* removed or replaced */
	bool dead;			/* namespace unmounted: never write again */
	bool need_repair;		/* an append failed half way */

	/* geometry, validated when the WOOF was first served */
	u64 element_size;
	u64 history_size;
	u64 slot_size;
	u64 file_size;
	u64 create_time_ns;
	u32 flags;			/* WOOF_F_* */

	struct woof_wctx wc;		/* writes of the current operation, under lock */
	void *bounce;			/* bounce_size bytes, used under lock */
	void *bounce2;			/* a slot header and as many again, for undo copies */
	size_t bounce_size;
	char name[WOOF_NAME_MAX + 1];
};

struct woof_nsdev {
	struct device dev;		/* the reference count; release frees */
	struct cdev cdev;
	struct list_head node;		/* woof_namespaces, under woof_global_lock */
	char name[WOOF_NS_NAME_MAX + 1];
	struct path dir;		/* the namespace directory */
	struct path meta;		/* its .woof/ */
	const struct cred *cred;	/* of the mounter */
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	atomic_t users;			/* open device files and WOOF fds */

	struct mutex lock;		/* woofs, dead, create/open/remove */
	DECLARE_HASHTABLE(woofs, 8);	/* served kwoofs by inode */
	unsigned int nr_woofs;
	bool dead;			/* unmounted */
	atomic_t tmp_seq;		/* names of temporary files */

	/* the trigger log .woof/triggers */
	struct kwoof *log;
	u64 done_floor;			/* cached; written under log->lock */
	wait_queue_head_t floor_wq;	/* appenders waiting for room */
	struct mutex tlock;		/* the delivery cursor */
	u64 tnext;			/* next trigger read() delivers */
	u64 tmax;			/* highest trigger delivered so far */
	unsigned int consumers;		/* open files that have read triggers */
	wait_queue_head_t twq;		/* trigger readers */
};

/* An open /dev/woof/<ns>. */
struct woof_nsfile {
	struct woof_nsdev *ns;
	bool consumer;			/* has read triggers */
};

/* An open WOOF fd. */
struct woof_wfile {
	struct kwoof *w;
	u64 mark;			/* poll: EPOLLIN while seq > mark */
};

/*
 * Small copies by 8-byte words. memcpy() and copy_{from,to}_user() use
 * "rep movsb" on CPUs with ERMS, which has a start-up cost that dominates
 * copies of a few dozen bytes (and costs a round trip per byte under qemu
 * TCG). Everything on the append path is 8-byte aligned (slots, structs,
 * bounce buffers); anything else goes to the generic routines.
 */
#define WOOF_SMALL_COPY 1024

static __always_inline bool woof_small_aligned(const void *a, const void *b, size_t n)
{
	return n <= WOOF_SMALL_COPY && IS_ALIGNED((unsigned long)a | (unsigned long)b | n, 8);
}

static __always_inline void woof_memcpy(void *dst, const void *src, size_t n)
{
	if (woof_small_aligned(dst, src, n)) {
		u64 *d = dst;
		const u64 *s = src;

		/* by four words: under emulation every loop turn has a cost of its own */
		for (; n >= 32; n -= 32, d += 4, s += 4) {
			u64 a = READ_ONCE(s[0]), b = READ_ONCE(s[1]);
			u64 e = READ_ONCE(s[2]), f = READ_ONCE(s[3]);

			WRITE_ONCE(d[0], a);
			WRITE_ONCE(d[1], b);
			WRITE_ONCE(d[2], e);
			WRITE_ONCE(d[3], f);
		}
		for (; n; n -= 8)
			WRITE_ONCE(*d++, READ_ONCE(*s++));
	} else {
		memcpy(dst, src, n);
	}
}

static __always_inline void woof_memzero(void *dst, size_t n)
{
	if (woof_small_aligned(dst, dst, n)) {
		u64 *d = dst;

		for (; n; n -= 8)
			WRITE_ONCE(*d++, 0);
	} else {
		memset(dst, 0, n);
	}
}

/* copy_from_user() returning 0 or -EFAULT. */
static __always_inline int woof_copy_from_user(void *dst, const void __user *src, size_t n)
{
	if (woof_small_aligned(dst, (const void __force *)src, n)) {
		const u64 __user *s = src;
		u64 *d = dst;

		if (!user_access_begin(src, n))
			return -EFAULT;
		for (; n >= 32; n -= 32, d += 4, s += 4) {
			unsafe_get_user(d[0], s, efault);
			unsafe_get_user(d[1], s + 1, efault);
			unsafe_get_user(d[2], s + 2, efault);
			unsafe_get_user(d[3], s + 3, efault);
		}
		for (; n; n -= 8)
			unsafe_get_user(*d++, s++, efault);
		user_access_end();
		return 0;
efault:
		user_access_end();
		return -EFAULT;
	}
	return copy_from_user(dst, src, n) ? -EFAULT : 0;
}

/* copy_to_user() returning 0 or -EFAULT. */
static __always_inline int woof_copy_to_user(void __user *dst, const void *src, size_t n)
{
	if (woof_small_aligned((const void __force *)dst, src, n)) {
		u64 __user *d = dst;
		const u64 *s = src;

		if (!user_access_begin(dst, n))
			return -EFAULT;
		for (; n; n -= 8)
			unsafe_put_user(*s++, d++, efault);
		user_access_end();
		return 0;
efault:
		user_access_end();
		return -EFAULT;
	}
	return copy_to_user(dst, src, n) ? -EFAULT : 0;
}

static inline void woof_ns_get(struct woof_nsdev *ns)
{
	get_device(&ns->dev);
}

static inline void woof_ns_put(struct woof_nsdev *ns)
{
	put_device(&ns->dev);
}

/*
 * Page flags without out-of-line helpers (PageUptodate() and
 * compound_head() are not always inlined, and on the append fast path a
 * call costs more than the test). The head page of @page's folio: pages
 * of the page cache of files the kernel serves, never hugetlbfs, so
 * there are no fake heads to care about.
 */
static __always_inline struct page *woof_page_head(struct page *page)
{
	unsigned long head = READ_ONCE(page->compound_head);

	return likely(!(head & 1)) ? page : (struct page *)(head - 1);
}

/*
 * Can bytes be stored into @page in place, the way a store through a
 * writable shared mapping lands? It must be uptodate and dirty; and where
 * the file system keeps buffer heads smaller than a page, page-level dirty
 * does not mean the blocks under our bytes are (ext4 with 1 KiB blocks):
 * such pages always go through ->write_begin.
 */
static __always_inline bool woof_page_in_place(const struct woof_wctx *c, struct page *page)
{
	struct page *head = woof_page_head(page);

	if (!test_bit(PG_uptodate, &head->flags) || !test_bit(PG_dirty, &head->flags))
		return false;
	/* the page's contents after its uptodate flag (as PageUptodate orders them) */
	smp_rmb();
	return !PageHighMem(page) && (c->whole_page_blocks || !page_has_buffers(page));
}

struct page *woof_wctx_lockless_fill(struct woof_wctx *c, pgoff_t index);

/*
 * For the append fast path (woof-engine.c): the kernel address of page
 * @index of the file, if @c keeps that page referenced (or finds it in the
 * page cache and then keeps it) and it is dirty, i.e. may be stored into
 * without a lock; NULL otherwise. *@head gets the page's head page. After
 * the stores and one smp_mb(), every page used must pass
 * woof_wctx_lockless_ok(), else the stores are made again through the
 * general path (see wpage_begin in woof-file.c on why this is safe).
 * Inline: the append fast path calls it three times, each with its own
 * @hint (0..2): the pc[] entry to look at first.
 */
static __always_inline u8 *woof_wctx_lockless_page(struct woof_wctx *c, pgoff_t index,
						   struct page **head, int hint)
{
	struct page *page;
	void *addr;
	int i = c->hint[hint];

	if (!c->lockless)
		return NULL;
	/* the entry this caller used last, else any */
	if (unlikely(!c->pc[i].page || c->pc[i].index != index)) {
		for (i = 0; i < WOOF_PCACHE; i++)
			if (c->pc[i].page && c->pc[i].index == index)
				break;
	}
	if (likely(i < WOOF_PCACHE)) {
		c->hint[hint] = i;
		c->pc[i].used = ++c->tick;
		page = c->pc[i].page;
		addr = c->pc[i].addr;
	} else {
		/* a page not used yet, e.g. the slot moved on to the next one */
		page = woof_wctx_lockless_fill(c, index);
		if (!page)
			return NULL;
		addr = page_address(page);
	}
	if (!woof_page_in_place(c, page))
		return NULL;
	*head = woof_page_head(page);
	return addr;
}

/* The same for [@pos, @pos + @len) within one page: a pointer to @pos. */
static __always_inline void *woof_wctx_lockless_ptr(struct woof_wctx *c, loff_t pos,
						    size_t len, struct page **head, int hint)
{
	u8 *base;

	if (offset_in_page(pos) + len > PAGE_SIZE)
		return NULL;
	base = woof_wctx_lockless_page(c, pos >> PAGE_SHIFT, head, hint);
	return base ? base + offset_in_page(pos) : NULL;
}

/*
 * After the stores and smp_mb(): the page (its @head) is still dirty, and
 * still in the file: a folio removed from the page cache (truncate, hole
 * punch) loses ->mapping and is never put back, so the index it was
 * cached at still holds.
 */
static __always_inline bool woof_wctx_lockless_ok(const struct woof_wctx *c, struct page *head)
{
	return test_bit(PG_dirty, &head->flags) && READ_ONCE(head->mapping) == c->mapping;
}

/* ---- woof-file.c: the backing files ---- */
void woof_wctx_setup(struct woof_wctx *c, struct file *f);

/* Start a series of writes to @f, which must stay at least @need bytes long. */
static __always_inline void woof_wctx_begin(struct woof_wctx *c, struct file *f, loff_t need)
{
	if (unlikely(c->f != f))
		woof_wctx_setup(c, f);
	c->need = need;
	c->locked = false;
}

int woof_name_valid(const char *name, size_t cap);
int woof_file_read(struct file *f, loff_t pos, void *buf, size_t len);
int woof_file_read_u64(struct file *f, loff_t pos, u64 *v);
void woof_wctx_end(struct woof_wctx *c);
void woof_wctx_release(struct woof_wctx *c);
int woof_wctx_read(struct woof_wctx *c, loff_t pos, void *buf, size_t len);
int woof_file_write(struct woof_wctx *c, loff_t pos, const void *buf, size_t len);
int woof_file_store_u64(struct woof_wctx *c, loff_t pos, u64 v);
int woof_file_or_u32(struct woof_wctx *c, loff_t pos, u32 set, u32 clear, u32 *old);
int woof_file_cmpxchg_u64(struct woof_wctx *c, loff_t pos, u64 old, u64 new, u64 *cur);
int woof_slot_write(struct woof_wctx *c, loff_t pos, u64 stamp, u32 flags, u32 trigger,
		    const void *el, size_t len, bool whole);
void woof_file_mark(struct file *f, u32 set, u32 clear);
int woof_check_header(const struct woof_header *h, loff_t file_size);
struct file *woof_open_existing(struct woof_nsdev *ns, const struct path *dir,
				const char *name, struct woof_header *h);
struct file *woof_create_file(struct woof_nsdev *ns, const struct path *dir,
			      const char *name, u64 element_size, u64 history_size,
			      u32 woof_flags, umode_t mode, u32 cflags,
			      struct woof_header *h, struct file **replaced, bool *created);
int woof_unlink_file(struct woof_nsdev *ns, const struct path *dir,
		     const char *name, struct file *expect);
int woof_mkdir_meta(struct woof_nsdev *ns);
int woof_dir_supported(const struct path *dir);
bool woof_owner_alive(struct woof_nsdev *ns, u64 token);

/* ---- woof-engine.c: serving WOOFs ---- */
struct kwoof *kwoof_serve(struct woof_nsdev *ns, struct file *f,
			  const struct woof_header *h, const char *name, bool is_log);
bool kwoof_served_elsewhere(const struct woof_nsdev *ns, const struct inode *inode);
void kwoof_put(struct kwoof *w);
void kwoof_retire(struct kwoof *w, u32 set, bool dead);
int kwoof_append(struct kwoof *w, const void __user *el, u64 count,
		 const char *handler, u32 flags, u64 *first, u64 *done);
int kwoof_read_slot(struct kwoof *w, u64 idx, struct woof_slot *sl);
int kwoof_commit_bounce(struct kwoof *w, u64 *seq);
int kwoof_install_fd(struct kwoof *w, struct woof_open *o, void __user *arg);

/* ---- woof-trigger.c: the trigger log ---- */
int woof_triggers_init(struct woof_nsdev *ns);
int woof_trigger_append(struct woof_nsdev *ns, struct kwoof *w, u64 s,
			const char *handler, u32 flags, u64 *tnum);
ssize_t woof_triggers_read(struct woof_nsfile *nf, struct kiocb *iocb,
			   struct iov_iter *to);
__poll_t woof_triggers_poll(struct woof_nsfile *nf, struct file *file,
			    struct poll_table_struct *pt);
void woof_triggers_release(struct woof_nsfile *nf);
long woof_ioc_trigger_done(struct woof_nsdev *ns, void __user *arg);
long woof_ioc_trigger_claim(struct woof_nsdev *ns, void __user *arg);
long woof_ioc_trigger_info(struct woof_nsdev *ns, void __user *arg);

/* ---- woof-genl.c: the generic netlink family "woof" ---- */
int woof_genl_init(void);
void woof_genl_exit(void);
void woof_genl_ns_event(const struct woof_nsdev *ns, bool mounted);
void woof_genl_woof_event(const struct woof_nsdev *ns, const struct kwoof *w,
			  const char *name, bool created, bool replaced);
void woof_genl_overrun(const struct kwoof *w, u64 seq, u64 overruns);

/* ---- woof-main.c ---- */
u64 woof_features(void);
int woof_copy_in(void *k, size_t ksize, const void __user *u);
int woof_copy_out(void __user *u, const void *k, size_t ksize);
struct kwoof *woof_ns_get_woof(struct woof_nsdev *ns, const char *name);

#define WOOF_SLOT_POS(w, idx) \
	((loff_t)WOOF_HEADER_SIZE + (loff_t)(idx) * (loff_t)(w)->slot_size)
#define WOOF_HDR_POS(field) ((loff_t)offsetof(struct woof_header, field))

#endif
