// SPDX-License-Identifier: GPL-2.0
/*
 * woof-file.c - the backing files: names, headers, page-cache access and
 * the VFS operations on a namespace directory.
 *
 * Every WOOF is an ordinary file in the namespace directory, in the format
 * of include/uapi/linux/woof.h, and user-space readers map the very same
 * page-cache pages. So the kernel writes through the page cache, never
 * around it, in ways the file systems it serves (woof_fs_tested: tmpfs
 * and ext4, nothing else) accept and are tested with: a page that is
 * already dirty (and not under writeback) is written in place under its
 * page lock, exactly what a store through a writable shared mapping does;
 * any other page goes through the filesystem's ->write_begin/->write_end, as
 * write(2) does (with i_rwsem and freeze protection), so blocks are
 * reserved and the page is dirtied by the filesystem itself; i_rwsem is
 * taken only when that slow path is needed. The 8-byte words readers synchronise
 * on (stamps, seq_no) are aligned and never cross a page, so they are
 * stored with single atomic stores.
 *
 * Directory operations (create a WOOF through a temporary file and link or
 * rename, unlink, mkdir .woof) run with the credentials of the process that
 * mounted the namespace, on names validated like woof_name_check(), looked
 * up one component at a time below the namespace directory; symbolic links
 * are never followed, and only regular files are opened.
 */
#include <linux/atomic.h>
#include <linux/buffer_head.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/writeback.h>

#include "woof-int.h"

/* ---- names ---------------------------------------------------------------- */

/*
 * 0 if the NUL-terminated name in @name (an array of @cap bytes) is a valid
 * WOOF or handler name: woof_name_check() of libwoof, byte for byte.
 */
int woof_name_valid(const char *name, size_t cap)
{
	size_t n = strnlen(name, cap), i;

	if (n == cap || n > WOOF_NAME_MAX)
		return -ENAMETOOLONG;
	if (n == 0 || name[0] == '.' || !strcmp(name, WOOF_NS_CONF_FILE))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = name[i];

		if (c == '/' || c < 0x20 || c == 0x7f)
			return -EINVAL;
	}
	return 0;
}

/* ---- page-cache access ------------------------------------------------------ */

/*
 * How a page is being written:
 *   WP_LOCKLESS  a page the context keeps referenced, dirty: stored into
 *                without its lock; wpage_end() then checks that it is still
 *                dirty and still the file's, else the caller stores again
 *                with WP_LOCKED or WP_FS (see wpage_end);
 *   WP_LOCKED    dirty and not under writeback, written under its page lock;
 *   WP_FS        through ->write_begin/->write_end, with i_rwsem.
 */
enum wp_mode { WP_LOCKLESS, WP_LOCKED, WP_FS };

struct woof_wpage {
	struct page *page;
	void *fsdata;
	u8 *base;		/* kmap of the page */
	loff_t pos;
	unsigned int len;
	enum wp_mode mode;
	bool cached;		/* the reference is the cache's */
};

/* ---- the page cache of a write context ---- */

static struct page *pc_find(struct woof_wctx *c, pgoff_t index)
{
	int i;

	for (i = 0; i < WOOF_PCACHE; i++) {
		if (c->pc[i].page && c->pc[i].index == index) {
			c->pc[i].used = ++c->tick;
			return c->pc[i].page;
		}
	}
	return NULL;
}

/* Keep a reference on @page (at @index), evicting the least recently used. */
static void pc_insert(struct woof_wctx *c, pgoff_t index, struct page *page)
{
	int i, v = 0;

	for (i = 0; i < WOOF_PCACHE; i++) {
		if (!c->pc[i].page) {
			v = i;
			break;
		}
		if (c->pc[i].used < c->pc[v].used)
			v = i;
	}
	if (c->pc[v].page)
		put_page(c->pc[v].page);
	get_page(page);
	c->pc[v].page = page;
	c->pc[v].addr = PageHighMem(page) ? NULL : page_address(page);
	c->pc[v].index = index;
	c->pc[v].used = ++c->tick;
}

static void pc_drop(struct woof_wctx *c, struct page *page)
{
	int i;

	for (i = 0; i < WOOF_PCACHE; i++) {
		if (c->pc[i].page == page) {
			put_page(page);
			c->pc[i].page = NULL;
		}
	}
}

/* Drop every cached page (the WOOF is no longer served). */
void woof_wctx_release(struct woof_wctx *c)
{
	int i;

	for (i = 0; i < WOOF_PCACHE; i++) {
		if (c->pc[i].page)
			put_page(c->pc[i].page);
		c->pc[i].page = NULL;
	}
}

/*
 * Is the cached @page still part of the file (not truncated or punched
 * out)? A folio removed from the page cache loses ->mapping and is never
 * put back, so while it has it, it is at the index it was cached at.
 */
static bool pc_valid(struct woof_wctx *c, struct page *page)
{
	struct folio *folio = page_folio(page);

	return READ_ONCE(folio->mapping) == c->f->f_mapping && folio_test_uptodate(folio);
}

static bool page_writable_in_place(struct woof_wctx *c, struct page *page)
{
	return woof_page_in_place(c, page) && !PageWriteback(page);
}

/* Bind @c to @f (its first woof_wctx_begin). */
void woof_wctx_setup(struct woof_wctx *c, struct file *f)
{
	struct inode *inode = file_inode(f);

	c->f = f;
	c->mapping = f->f_mapping;
	/* a filesystem that checksums pages under I/O needs them locked */
	c->lockless = !(inode->i_sb->s_iflags & SB_I_STABLE_WRITES);
	c->whole_page_blocks = i_blocksize(inode) >= PAGE_SIZE;
}

/* Freeze protection and i_rwsem, as write(2) takes them; only for ->write_begin. */
static int wctx_lock(struct woof_wctx *c)
{
	if (c->locked)
		return 0;
	file_start_write(c->f);
	inode_lock(file_inode(c->f));
	c->locked = true;
	/* write_begin past EOF would grow the file: it was cut behind our back */
	return i_size_read(file_inode(c->f)) < c->need ? -EBADMSG : 0;
}

void woof_wctx_end(struct woof_wctx *c)
{
	if (!c->locked)
		return;
	inode_unlock(file_inode(c->f));
	file_end_write(c->f);
	balance_dirty_pages_ratelimited(c->f->f_mapping);
	c->locked = false;
}

/*
 * Get the page holding [@pos, @pos + @len) ready for writing (the range must
 * not cross a page), in the cheapest mode that is safe (see enum wp_mode);
 * @lockless allows WP_LOCKLESS.
 *
 * WP_LOCKED is what a store through a writable shared mapping amounts to:
 * writeback must take the page lock to clean a page, so stores made under
 * it land in the next writeback. WP_LOCKLESS relies on the same handshake
 * without the lock: the stores come first, then a full barrier, then the
 * check that the page is still dirty; writeback clears the dirty bit (a
 * fully ordered atomic) before it reads the page, so either it sees the
 * stores or we see the page clean and store again through the filesystem.
 */
static int wpage_begin(struct woof_wctx *c, loff_t pos, unsigned int len,
		       struct woof_wpage *p, bool lockless)
{
	struct address_space *mapping = c->f->f_mapping;
	pgoff_t index = pos >> PAGE_SHIFT;
	struct page *page;
	int ret;

	p->pos = pos;
	p->len = len;
	page = pc_find(c, index);
	if (page) {
		/* no validity check here: wpage_end() checks after the stores */
		if (lockless && c->lockless && woof_page_in_place(c, page)) {
			p->page = page;
			p->cached = true;
			p->mode = WP_LOCKLESS;
			goto mapped;
		}
		lock_page(page);
		if (pc_valid(c, page) && page_writable_in_place(c, page)) {
			p->page = page;
			p->cached = true;
			p->mode = WP_LOCKED;
			goto mapped;
		}
		unlock_page(page);
		if (!pc_valid(c, page))
			pc_drop(c, page);
	} else {
		page = find_lock_page(mapping, index);
		if (page) {
			if (page_writable_in_place(c, page)) {
				pc_insert(c, index, page);
				p->page = page;
				p->cached = false;
				p->mode = WP_LOCKED;
				goto mapped;
			}
			unlock_page(page);
			put_page(page);
		}
	}
	ret = wctx_lock(c);
	if (ret)
		return ret;
	p->fsdata = NULL;
	ret = mapping->a_ops->write_begin(c->f, mapping, pos, len, &page, &p->fsdata);
	if (ret)
		return ret;
	p->page = page;
	p->mode = WP_FS;
	p->cached = false;
	if (!pc_find(c, index))
		pc_insert(c, index, page);
	if (mapping_writably_mapped(mapping))
		flush_dcache_page(page);
mapped:
	p->base = kmap_local_page(p->page);
	return 0;
}

static inline void *wpage_ptr(struct woof_wpage *p, loff_t pos)
{
	return p->base + offset_in_page(pos);
}

/*
 * Finish writing a page. -EAGAIN (WP_LOCKLESS only): the page was cleaned
 * or dropped meanwhile; the caller must store the same bytes again with
 * wpage_begin(..., false).
 */
static int wpage_end(struct woof_wctx *c, struct woof_wpage *p)
{
	struct address_space *mapping = c->f->f_mapping;
	int ret;

	kunmap_local(p->base);
	flush_dcache_page(p->page);
	switch (p->mode) {
	case WP_LOCKLESS:
		smp_mb();	/* our stores before the dirty bit: see wpage_begin */
		/*
		 * Still dirty, and still in the file: a folio removed from the
		 * page cache (truncate, hole punch) loses ->mapping and is never
		 * put back, so the index it was cached at still holds.
		 */
		if (PageDirty(p->page) &&
		    READ_ONCE(page_folio(p->page)->mapping) == c->mapping)
			return 0;
		return -EAGAIN;
	case WP_LOCKED:
		unlock_page(p->page);
		if (!p->cached)
			put_page(p->page);
		return 0;
	case WP_FS:
		break;
	}
	ret = mapping->a_ops->write_end(c->f, mapping, p->pos, p->len, p->len, p->page,
					p->fsdata);
	if (ret < 0)
		return ret;
	return ret == p->len ? 0 : -EIO;
}

/*
 * The page at @index of the file of @c, for the lockless append path when
 * the write context does not keep it yet: kept if it may be written in
 * place (woof_page_in_place), else NULL. Owner's lock held.
 */
struct page *woof_wctx_lockless_fill(struct woof_wctx *c, pgoff_t index)
{
	struct page *page = find_get_page(c->mapping, index);

	if (!page)
		return NULL;
	if (!woof_page_in_place(c, page)) {
		put_page(page);
		return NULL;
	}
	pc_insert(c, index, page);
	put_page(page);		/* the cache holds its own reference */
	return page;
}

/*
 * The uptodate page at @index of @f, referenced: straight from the page
 * cache when it is there, else read in (tmpfs has no ->read_folio and is
 * read through its own helper).
 */
static struct page *get_page_uptodate(struct file *f, pgoff_t index)
{
	struct address_space *mapping = f->f_mapping;
	struct page *page = find_get_page(mapping, index);

	if (page) {
		if (PageUptodate(page))
			return page;
		put_page(page);
	}
	if (mapping->a_ops->read_folio)
		return read_mapping_page(mapping, index, f);
	if (file_inode(f)->i_sb->s_magic == TMPFS_MAGIC)
		return shmem_read_mapping_page(mapping, index);
	return ERR_PTR(-EOPNOTSUPP);
}

/* Copy [@pos, @pos + @len) of @f from the page cache. No lock needed. */
int woof_file_read(struct file *f, loff_t pos, void *buf, size_t len)
{
	u8 *dst = buf;

	while (len) {
		size_t off = offset_in_page(pos), n = min_t(size_t, len, PAGE_SIZE - off);
		struct page *page = get_page_uptodate(f, pos >> PAGE_SHIFT);

		if (IS_ERR(page))
			return PTR_ERR(page);
		memcpy_from_page(dst, page, off, n);
		put_page(page);
		dst += n;
		pos += n;
		len -= n;
	}
	return 0;
}

/*
 * Copy [@pos, @pos + @len) of the file of @c, through its cached pages
 * where it has them. Caller holds the owner's lock (nobody else writes).
 */
int woof_wctx_read(struct woof_wctx *c, loff_t pos, void *buf, size_t len)
{
	u8 *dst = buf;

	while (len) {
		size_t off = offset_in_page(pos), n = min_t(size_t, len, PAGE_SIZE - off);
		pgoff_t index = pos >> PAGE_SHIFT;
		struct page *page = pc_find(c, index);

		if (page && pc_valid(c, page)) {
			u8 *base = kmap_local_page(page);

			woof_memcpy(dst, base + off, n);
			kunmap_local(base);
		} else {
			if (page)
				pc_drop(c, page);
			page = get_page_uptodate(c->f, index);
			if (IS_ERR(page))
				return PTR_ERR(page);
			pc_insert(c, index, page);
			memcpy_from_page(dst, page, off, n);
			put_page(page);
		}
		dst += n;
		pos += n;
		len -= n;
	}
	return 0;
}

/* One aligned word, read atomically (it never crosses a page). */
int woof_file_read_u64(struct file *f, loff_t pos, u64 *v)
{
	struct page *page = get_page_uptodate(f, pos >> PAGE_SHIFT);
	u8 *base;

	if (IS_ERR(page))
		return PTR_ERR(page);
	base = kmap_local_page(page);
	/* pairs with the release stores of writers: the word is complete */
	*v = smp_load_acquire((u64 *)(base + offset_in_page(pos)));
	kunmap_local(base);
	put_page(page);
	return 0;
}

/* Write @len bytes at @pos (plain copies). */
int woof_file_write(struct woof_wctx *c, loff_t pos, const void *buf, size_t len)
{
	const u8 *src = buf;
	struct woof_wpage p;
	bool lockless = true;
	int ret;

	while (len) {
		unsigned int off = offset_in_page(pos);
		unsigned int n = min_t(size_t, len, PAGE_SIZE - off);

		ret = wpage_begin(c, pos, n, &p, lockless);
		if (ret)
			return ret;
		woof_memcpy(wpage_ptr(&p, pos), src, n);
		ret = wpage_end(c, &p);
		if (ret == -EAGAIN) {
			lockless = false;	/* store the same bytes again */
			continue;
		}
		if (ret)
			return ret;
		lockless = true;
		src += n;
		pos += n;
		len -= n;
	}
	return 0;
}

/* Store an aligned word with release semantics. */
int woof_file_store_u64(struct woof_wctx *c, loff_t pos, u64 v)
{
	struct woof_wpage p;
	bool lockless = true;
	int ret;

	do {
		ret = wpage_begin(c, pos, sizeof(u64), &p, lockless);
		if (ret)
			return ret;
		/* readers load it with acquire: what came before is visible first */
		smp_store_release((u64 *)wpage_ptr(&p, pos), v);
		ret = wpage_end(c, &p);
		lockless = false;
	} while (ret == -EAGAIN);
	return ret;
}

/* Atomically set @set and clear @clear in an aligned u32; *@old gets the old value. */
int woof_file_or_u32(struct woof_wctx *c, loff_t pos, u32 set, u32 clear, u32 *old)
{
	struct woof_wpage p;
	atomic_t *a;
	int ret, o;

	ret = wpage_begin(c, pos, sizeof(u32), &p, false);
	if (ret)
		return ret;
	a = wpage_ptr(&p, pos);
	o = atomic_fetch_or((int)set, a);
	if (clear)
		atomic_andnot((int)clear, a);
	/* the RMW result ordered before the caller looks at other fields */
	smp_mb();
	if (old)
		*old = (u32)o;
	return wpage_end(c, &p);
}

/* Compare-and-swap an aligned u64; *@cur gets the value found. */
int woof_file_cmpxchg_u64(struct woof_wctx *c, loff_t pos, u64 old, u64 new, u64 *cur)
{
	struct woof_wpage p;
	int ret;

	ret = wpage_begin(c, pos, sizeof(u64), &p, false);
	if (ret)
		return ret;
	*cur = cmpxchg64((u64 *)wpage_ptr(&p, pos), old, new);
	return wpage_end(c, &p);
}

/*
 * Write a slot at @pos whose header and element [@el, @el + @len) all lie
 * in one page, in the seqlock order readers rely on: stamp 0, flags and
 * trigger, the element, stamp @stamp (release). With !@whole only the
 * opening half is done (stamp 0). Stored again if a lockless write raced
 * with writeback: readers see the stamp go 0 and back, which they handle.
 */
int woof_slot_write(struct woof_wctx *c, loff_t pos, u64 stamp, u32 flags, u32 trigger,
		    const void *el, size_t len, bool whole)
{
	struct woof_slot *sl;
	struct woof_wpage p;
	bool lockless = true;
	int ret;

	do {
		ret = wpage_begin(c, pos, whole ? WOOF_SLOT_HEADER_SIZE + len : sizeof(u64), &p,
				  lockless);
		if (ret)
			return ret;
		sl = wpage_ptr(&p, pos);
		WRITE_ONCE(sl->stamp, 0);
		/* stamp 0 before the new contents: a reader never takes them for the old */
		smp_wmb();
		if (whole) {
			WRITE_ONCE(sl->flags, flags);
			WRITE_ONCE(sl->trigger, trigger);
			woof_memcpy(sl + 1, el, len);
			/* the contents before the stamp that declares them complete */
			smp_store_release(&sl->stamp, stamp);
		}
		ret = wpage_end(c, &p);
		lockless = false;
	} while (ret == -EAGAIN);
	return ret;
}

/* Set @set and clear @clear in the header state of @f (a file not being served). */
void woof_file_mark(struct file *f, u32 set, u32 clear)
{
	struct woof_wctx c;

	memset(&c, 0, sizeof(c));
	woof_wctx_begin(&c, f, WOOF_HEADER_SIZE);
	woof_file_or_u32(&c, offsetof(struct woof_header, state), set, clear, NULL);
	woof_wctx_end(&c);
	woof_wctx_release(&c);
}

/* ---- headers ------------------------------------------------------------------ */

/* 0 if @h describes a WOOF that fits in a file of @file_size bytes. */
int woof_check_header(const struct woof_header *h, loff_t file_size)
{
	u64 slots, need;

	if (h->magic != WOOF_FORMAT_MAGIC || h->version != WOOF_FORMAT_VERSION ||
	    h->header_size != WOOF_HEADER_SIZE)
		return -EBADMSG;
	if (h->element_size < 1 || h->element_size > WOOF_ELEMENT_SIZE_MAX ||
	    h->history_size < 1 || h->history_size > WOOF_HISTORY_MAX ||
	    h->slot_size != WOOF_SLOT_SIZE(h->element_size))
		return -EBADMSG;
	if (h->flags & ~WOOF_F_ALL)
		return -EBADMSG;
	if (!memchr(h->filename, 0, sizeof(h->filename)))
		return -EBADMSG;
	if (check_mul_overflow(h->history_size + 1, h->slot_size, &slots) ||
	    check_add_overflow(slots, (u64)WOOF_HEADER_SIZE, &need) ||
	    need > WOOF_FILE_SIZE_MAX || file_size < 0 || (u64)file_size < need)
		return -EBADMSG;
	return 0;
}

/*
 * The file systems whose page-cache paths woof.ko is tested on (every test
 * program of selftests/kmod runs on each, test-kmod.sh): the module stores
 * into their page cache and calls their ->write_begin/->write_end and
 * ->read_folio from outside their own write path, which a file system may
 * not allow for (9p with cache=mmap BUGs in v9fs_write_begin on a file
 * opened by the kernel). Matched by the file system type's name: ext2 and
 * ext3 driven by the ext4 code are not tested and not served.
 */
static const char *const woof_fs_tested[] = { "tmpfs", "ext4" };

static bool woof_fs_ok(const struct super_block *sb)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(woof_fs_tested); i++)
		if (!strcmp(sb->s_type->name, woof_fs_tested[i]))
			return true;
	return false;
}

/*
 * Can a namespace be mounted on @dir? -EOPNOTSUPP: a file system not in
 * woof_fs_tested; -EROFS: a read-only mount or file system.
 */
int woof_dir_supported(const struct path *dir)
{
	if (!woof_fs_ok(dir->dentry->d_sb))
		return -EOPNOTSUPP;
	if (__mnt_is_readonly(dir->mnt))
		return -EROFS;
	return 0;
}

/* Can the kernel serve @f? A tested file system, page cache with ->write_begin, mmap-able. */
static int woof_file_usable(struct file *f)
{
	struct inode *inode = file_inode(f);

	if (!S_ISREG(inode->i_mode))
		return -EBADMSG;
	if (!woof_fs_ok(inode->i_sb))
		return -EOPNOTSUPP;
	if (IS_DAX(inode) || !f->f_mapping->a_ops->write_begin ||
	    !f->f_mapping->a_ops->write_end || !f->f_op->mmap)
		return -EOPNOTSUPP;
	if (!f->f_mapping->a_ops->read_folio && inode->i_sb->s_magic != TMPFS_MAGIC)
		return -EOPNOTSUPP;
	return 0;
}

/* ---- directory operations --------------------------------------------------- */

/*
 * Open the regular file @name below @dir read-write, as the mounter.
 * Returns the file or an ERR_PTR: -ENOENT, -ELOOP (a symbolic link),
 * -EBADMSG (not a regular file), -EACCES.
 */
static struct file *open_regular(struct woof_nsdev *ns, const struct path *dir,
				 const char *name)
{
	struct user_namespace *userns = mnt_user_ns(dir->mnt);
	const struct cred *old = override_creds(ns->cred);
	struct file *f;
	struct dentry *d;
	int ret;

	d = lookup_one_len_unlocked(name, dir->dentry, strlen(name));
	if (IS_ERR(d)) {
		f = ERR_CAST(d);
		goto out;
	}
	if (d_is_negative(d))
		ret = -ENOENT;
	else if (d_is_symlink(d))
		ret = -ELOOP;
	else if (!d_is_reg(d))
		ret = -EBADMSG;
	else
		ret = inode_permission(userns, d_inode(d), MAY_READ | MAY_WRITE);
	if (ret) {
		f = ERR_PTR(ret);
	} else {
		struct path p = { .mnt = dir->mnt, .dentry = d };

		f = dentry_open(&p, O_RDWR | O_LARGEFILE, ns->cred);
	}
	dput(d);
out:
	revert_creds(old);
	return f;
}

/*
 * Open the WOOF @name below @dir and validate it; @h receives its header.
 * -EBADMSG: the name exists but is not a WOOF.
 */
struct file *woof_open_existing(struct woof_nsdev *ns, const struct path *dir,
				const char *name, struct woof_header *h)
{
	struct file *f = open_regular(ns, dir, name);
	int ret;

	if (IS_ERR(f))
		return f;
	ret = woof_file_usable(f);
	if (!ret && i_size_read(file_inode(f)) < WOOF_HEADER_SIZE)
		ret = -EBADMSG;
	if (!ret)
		ret = woof_file_read(f, 0, h, sizeof(*h));
	if (!ret)
		ret = woof_check_header(h, i_size_read(file_inode(f)));
	/*
	 * A WOOF with another hard link is never served: its other name may be
	 * in another namespace (one file, two sequences), or be a file of a
	 * user who could not write it through this namespace's credentials.
	 */
	if (!ret && file_inode(f)->i_nlink > 1)
		ret = -EMLINK;
	if (ret) {
		fput(f);
		return ERR_PTR(ret);
	}
	return f;
}

/* Unlink @name below @dir if it still is @expect's inode (or any, when NULL). */
static int unlink_name(struct woof_nsdev *ns, const struct path *dir, const char *name,
		       struct inode *expect)
{
	struct inode *dinode = d_inode(dir->dentry);
	const struct cred *old;
	struct dentry *d;
	int ret;

	old = override_creds(ns->cred);
	ret = mnt_want_write(dir->mnt);
	if (ret)
		goto out;
	inode_lock_nested(dinode, I_MUTEX_PARENT);
	d = lookup_one_len(name, dir->dentry, strlen(name));
	if (IS_ERR(d)) {
		ret = PTR_ERR(d);
	} else {
		if (d_is_negative(d))
			ret = -ENOENT;
		else if (expect && d_inode(d) != expect)
			ret = -EAGAIN;
		else
			ret = vfs_unlink(mnt_user_ns(dir->mnt), dinode, d, NULL);
		dput(d);
	}
	inode_unlock(dinode);
	mnt_drop_write(dir->mnt);
out:
	revert_creds(old);
	return ret;
}

int woof_unlink_file(struct woof_nsdev *ns, const struct path *dir, const char *name,
		     struct file *expect)
{
	return unlink_name(ns, dir, name, expect ? file_inode(expect) : NULL);
}

/*
 * Build a complete, empty WOOF under the temporary name @tmp: create it
 * (O_EXCL), size it, reserve its blocks, write the header @h.
 */
static struct file *build_tmp(struct woof_nsdev *ns, const struct path *dir,
			      const char *tmp, const struct woof_header *h, umode_t mode)
{
	struct user_namespace *userns = mnt_user_ns(dir->mnt);
	struct inode *dinode = d_inode(dir->dentry);
	loff_t size = WOOF_FILE_SIZE(h->element_size, h->history_size), pos = 0;
	const struct cred *old;
	struct file *f = NULL;
	struct dentry *d;
	ssize_t n;
	int ret;

	if (!IS_POSIXACL(dinode))
		mode &= ~current_umask();
	old = override_creds(ns->cred);
	ret = mnt_want_write(dir->mnt);
	if (ret)
		goto out;
	inode_lock_nested(dinode, I_MUTEX_PARENT);
	d = lookup_one_len(tmp, dir->dentry, strlen(tmp));
	if (IS_ERR(d)) {
		ret = PTR_ERR(d);
	} else {
		if (d_is_positive(d))
			ret = -EEXIST;
		else
			ret = vfs_create(userns, dinode, d, S_IFREG | (mode & 0777), true);
		if (!ret && d_is_reg(d)) {
			struct path p = { .mnt = dir->mnt, .dentry = d };

			f = dentry_open(&p, O_RDWR | O_LARGEFILE, ns->cred);
			if (IS_ERR(f)) {
				ret = PTR_ERR(f);
				f = NULL;
			}
		} else if (!ret) {
			ret = -EIO;
		}
		dput(d);
	}
	inode_unlock(dinode);
	mnt_drop_write(dir->mnt);
	if (ret)
		goto out;

	ret = woof_file_usable(f);
	if (ret)
		goto fail;
	ret = vfs_truncate(&f->f_path, size);
	if (ret)
		goto fail;
	/* reserve the blocks now: a full disk fails the create, not an append */
	ret = vfs_fallocate(f, 0, 0, size);
	if (ret && ret != -EOPNOTSUPP && ret != -EINVAL)
		goto fail;
	n = kernel_write(f, h, sizeof(*h), &pos);
	ret = n == sizeof(*h) ? 0 : n < 0 ? (int)n : -EIO;
	if (ret)
		goto fail;
	if (h->flags & WOOF_F_DURABLE) {
		ret = vfs_fsync(f, 0);
		if (ret)
			goto fail;
	}
	revert_creds(old);
	return f;
fail:
	fput(f);
	revert_creds(old);
	unlink_name(ns, dir, tmp, NULL);
	return ERR_PTR(ret);
out:
	revert_creds(old);
	return ERR_PTR(ret);
}

/* Link the built file @f (named @tmp) as @name; -EEXIST if the name is taken. */
static int link_into_place(struct woof_nsdev *ns, const struct path *dir, struct file *f,
			   const char *name)
{
	struct inode *dinode = d_inode(dir->dentry);
	const struct cred *old;
	struct dentry *d;
	int ret;

	old = override_creds(ns->cred);
	ret = mnt_want_write(dir->mnt);
	if (ret)
		goto out;
	inode_lock_nested(dinode, I_MUTEX_PARENT);
	d = lookup_one_len(name, dir->dentry, strlen(name));
	if (IS_ERR(d)) {
		ret = PTR_ERR(d);
	} else {
		if (d_is_positive(d))
			ret = -EEXIST;
		else
			ret = vfs_link(f->f_path.dentry, mnt_user_ns(dir->mnt), dinode, d, NULL);
		dput(d);
	}
	inode_unlock(dinode);
	mnt_drop_write(dir->mnt);
out:
	revert_creds(old);
	return ret;
}

/* Rename @tmp over @name if @name still is @oldf's inode (else -EAGAIN). */
static int rename_over(struct woof_nsdev *ns, const struct path *dir, const char *tmp,
		       struct file *newf, const char *name, struct file *oldf)
{
	struct user_namespace *userns = mnt_user_ns(dir->mnt);
	struct inode *dinode = d_inode(dir->dentry);
	struct dentry *od = NULL, *nd = NULL;
	const struct cred *old;
	int ret;

	old = override_creds(ns->cred);
	ret = mnt_want_write(dir->mnt);
	if (ret)
		goto out;
	lock_rename(dir->dentry, dir->dentry);
	od = lookup_one_len(tmp, dir->dentry, strlen(tmp));
	if (IS_ERR(od)) {
		ret = PTR_ERR(od);
		od = NULL;
		goto unlock;
	}
	nd = lookup_one_len(name, dir->dentry, strlen(name));
	if (IS_ERR(nd)) {
		ret = PTR_ERR(nd);
		nd = NULL;
		goto unlock;
	}
	if (d_is_negative(od) || d_inode(od) != file_inode(newf) ||
	    d_is_negative(nd) || d_inode(nd) != file_inode(oldf)) {
		ret = -EAGAIN;
	} else {
		struct renamedata rd = {
			.old_mnt_userns = userns,
			.old_dir = dinode,
			.old_dentry = od,
			.new_mnt_userns = userns,
			.new_dir = dinode,
			.new_dentry = nd,
		};

		ret = vfs_rename(&rd);
	}
unlock:
	dput(nd);
	dput(od);
	unlock_rename(dir->dentry, dir->dentry);
	mnt_drop_write(dir->mnt);
out:
	revert_creds(old);
	return ret;
}

/*
 * Create the WOOF @name below @dir like libwoof's user-space engine does
 * (CSPOT's WooFCreate semantics with WOOF_CREATE_F_*): an existing WOOF is
 * opened when the geometry matches, refused with EXCL, replaced by an empty
 * one with RESET (built under a temporary name and renamed over it; the
 * replaced file is returned in *@replaced for the caller to mark; *@created
 * says whether a new file was made). A file of that name that is not a
 * WOOF is never touched (-EEXIST).
 * Returns the WOOF's file (header in @h). Caller holds ns->lock.
 */
struct file *woof_create_file(struct woof_nsdev *ns, const struct path *dir,
			      const char *name, u64 element_size, u64 history_size,
			      u32 woof_flags, umode_t mode, u32 cflags,
			      struct woof_header *h, struct file **replaced, bool *created)
{
	struct woof_header *nh;
	struct file *old, *f, *again;
	char tmp[48];
	int tries, ret;

	*replaced = NULL;
	*created = false;
	nh = kzalloc(sizeof(*nh), GFP_KERNEL);
	if (!nh)
		return ERR_PTR(-ENOMEM);
	for (tries = 0; tries < 4; tries++) {
		old = woof_open_existing(ns, dir, name, h);
		if (IS_ERR(old)) {
			ret = PTR_ERR(old);
			old = NULL;
			if (ret == -EBADMSG || ret == -ELOOP || ret == -EOPNOTSUPP) {
				f = ERR_PTR(-EEXIST);
				goto done;
			}
			if (ret != -ENOENT) {
				f = ERR_PTR(ret);
				goto done;
			}
		} else if (cflags & WOOF_CREATE_F_EXCL) {
			fput(old);
			f = ERR_PTR(-EEXIST);
			goto done;
		} else if (!(cflags & WOOF_CREATE_F_RESET)) {
			if (h->element_size == element_size && h->history_size == history_size) {
				f = old;
			} else {
				fput(old);
				f = ERR_PTR(-EEXIST);
			}
			goto done;
		} else if (kwoof_served_elsewhere(ns, file_inode(old))) {
			/* RESET of a file another namespace serves: not ours to replace */
			fput(old);
			f = ERR_PTR(-EBUSY);
			goto done;
		}

		memset(nh, 0, sizeof(*nh));
		nh->magic = WOOF_FORMAT_MAGIC;
		nh->version = WOOF_FORMAT_VERSION;
		nh->header_size = WOOF_HEADER_SIZE;
		nh->element_size = element_size;
		nh->history_size = history_size;
		nh->slot_size = WOOF_SLOT_SIZE(element_size);
		nh->create_time_ns = ktime_get_real_ns();
		nh->flags = woof_flags;
		strscpy(nh->filename, name, sizeof(nh->filename));
		snprintf(tmp, sizeof(tmp), ".woof-tmp.k%d.%u", task_tgid_vnr(current),
			 (unsigned int)atomic_inc_return(&ns->tmp_seq));
		f = build_tmp(ns, dir, tmp, nh, mode);
		if (IS_ERR(f)) {
			if (old)
				fput(old);
			goto done;
		}
		if (old) {
			ret = rename_over(ns, dir, tmp, f, name, old);
		} else {
			ret = link_into_place(ns, dir, f, name);
			unlink_name(ns, dir, tmp, file_inode(f));
		}
		if (ret) {
			if (old)
				unlink_name(ns, dir, tmp, file_inode(f));
			fput(f);
			if (old)
				fput(old);
			if (ret == -EEXIST || ret == -EAGAIN)
				continue;	/* a racing creator won: decide again */
			f = ERR_PTR(ret);
			goto done;
		}
		/* reopen by name, so mappings show the WOOF's own path */
		again = woof_open_existing(ns, dir, name, h);
		if (!IS_ERR(again) && file_inode(again) == file_inode(f)) {
			fput(f);
			f = again;
		} else {
			if (!IS_ERR(again))
				fput(again);
			*h = *nh;
		}
		*replaced = old;
		*created = true;
		goto done;
	}
	f = ERR_PTR(-EAGAIN);
done:
	kfree(nh);
	return f;
}

/* Make sure @ns has its .woof/ directory; fills ns->meta. */
int woof_mkdir_meta(struct woof_nsdev *ns)
{
	struct inode *dinode = d_inode(ns->dir.dentry);
	const struct cred *old;
	struct dentry *d;
	int ret = 0;

	old = override_creds(ns->cred);
	d = lookup_one_len_unlocked(WOOF_NS_META_DIR, ns->dir.dentry,
				    strlen(WOOF_NS_META_DIR));
	if (IS_ERR(d)) {
		ret = PTR_ERR(d);
		goto out;
	}
	if (d_is_negative(d)) {
		struct dentry *nd;

		dput(d);
		ret = mnt_want_write(ns->dir.mnt);
		if (ret)
			goto out;
		inode_lock_nested(dinode, I_MUTEX_PARENT);
		nd = lookup_one_len(WOOF_NS_META_DIR, ns->dir.dentry,
				    strlen(WOOF_NS_META_DIR));
		if (IS_ERR(nd)) {
			ret = PTR_ERR(nd);
		} else {
			if (d_is_negative(nd))
				ret = vfs_mkdir(mnt_user_ns(ns->dir.mnt), dinode, nd,
						0775 & ~current_umask());
			dput(nd);
		}
		inode_unlock(dinode);
		mnt_drop_write(ns->dir.mnt);
		if (ret && ret != -EEXIST)
			goto out;
		d = lookup_one_len_unlocked(WOOF_NS_META_DIR, ns->dir.dentry,
					    strlen(WOOF_NS_META_DIR));
		if (IS_ERR(d)) {
			ret = PTR_ERR(d);
			goto out;
		}
		ret = 0;
	}
	if (!d_is_dir(d)) {	/* a symbolic link or a file: not ours */
		dput(d);
		ret = -EBADMSG;
		goto out;
	}
	ns->meta.mnt = mntget(ns->dir.mnt);
	ns->meta.dentry = d;
out:
	revert_creds(old);
	return ret;
}

/*
 * Is the user-space appender behind the owner token @token alive? It is
 * while its generation is current in .woof/owners and some open file
 * description holds the OFD write lock on byte WOOF_OWNER_LOCK_BASE + id
 * (format.md). Errors count as alive: never take a live process's lock.
 */
bool woof_owner_alive(struct woof_nsdev *ns, u64 token)
{
	u32 id = WOOF_TOKEN_ID(token);
	struct file_lock *fl;
	struct file *f;
	bool alive = true;
	u64 gen;

	f = open_regular(ns, &ns->meta, WOOF_OWNERS_FILE);
	if (IS_ERR(f))
		return PTR_ERR(f) != -ENOENT;
	if (i_size_read(file_inode(f)) < (loff_t)sizeof(struct woof_owners) ||
	    woof_file_read_u64(f, offsetof(struct woof_owners, gen) + 8ULL * id, &gen))
		goto out;
	if ((gen & ((1ULL << 48) - 1)) != WOOF_TOKEN_GEN(token)) {
		alive = false;	/* the id was claimed again: its old owner is gone */
		goto out;
	}
	fl = locks_alloc_lock();
	if (!fl)
		goto out;
	fl->fl_type = F_WRLCK;
	fl->fl_flags = FL_POSIX | FL_OFDLCK;
	fl->fl_owner = f;
	fl->fl_file = f;
	fl->fl_start = WOOF_OWNER_LOCK_BASE + id;
	fl->fl_end = fl->fl_start;
	if (!vfs_test_lock(f, fl))
		alive = fl->fl_type != F_UNLCK;
	locks_free_lock(fl);
out:
	fput(f);
	return alive;
}
