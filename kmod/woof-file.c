// SPDX-License-Identifier: GPL-2.0
/*
 * woof-file.c - the backing files: names, headers, page-cache access and
 * the VFS operations on a namespace directory.
 *
 * Every WOOF is an ordinary file in the namespace directory, in the format
 * of include/uapi/linux/woof.h, and user-space readers map the very same
 * page-cache pages. So the kernel writes through the page cache, never
 * around it, and in a way every filesystem accepts: a page that is already
 * dirty (and not under writeback) is written in place under its page lock,
 * exactly what a store through a writable shared mapping does; any other
 * page goes through the filesystem's ->write_begin/->write_end, as
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
	if (n == 0 || name[0] == '.')
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = name[i];

		if (c == '/' || c < 0x20 || c == 0x7f)
			return -EINVAL;
	}
	return 0;
}

/* ---- page-cache access ------------------------------------------------------ */

struct woof_wpage {
	struct page *page;
	void *fsdata;
	u8 *base;		/* kmap of the page */
	loff_t pos;
	unsigned int len;
	bool slow;		/* obtained through ->write_begin */
};

/* Start a series of writes to @f, which must stay at least @need bytes long. */
void woof_wctx_begin(struct woof_wctx *c, struct file *f, loff_t need)
{
	c->f = f;
	c->need = need;
	c->locked = false;
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
 * not cross a page). A page that is dirty and not under writeback is
 * written in place under its page lock, like a store through a writable
 * shared mapping (writeback must take the page lock before it cleans it,
 * so the stores are in the next writeback); any other page goes through
 * the filesystem's ->write_begin with i_rwsem held.
 */
static int wpage_begin(struct woof_wctx *c, loff_t pos, unsigned int len, struct woof_wpage *p)
{
	struct address_space *mapping = c->f->f_mapping;
	struct page *page;
	int ret;

	p->pos = pos;
	p->len = len;
	page = find_lock_page(mapping, pos >> PAGE_SHIFT);
	if (page) {
		if (PageUptodate(page) && PageDirty(page) && !PageWriteback(page)) {
			p->page = page;
			p->slow = false;
			goto mapped;
		}
		unlock_page(page);
		put_page(page);
	}
	ret = wctx_lock(c);
	if (ret)
		return ret;
	p->fsdata = NULL;
	ret = mapping->a_ops->write_begin(c->f, mapping, pos, len, &page, &p->fsdata);
	if (ret)
		return ret;
	p->page = page;
	p->slow = true;
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

static int wpage_end(struct woof_wctx *c, struct woof_wpage *p)
{
	struct address_space *mapping = c->f->f_mapping;
	int ret;

	kunmap_local(p->base);
	flush_dcache_page(p->page);
	if (!p->slow) {
		unlock_page(p->page);
		put_page(p->page);
		return 0;
	}
	ret = mapping->a_ops->write_end(c->f, mapping, p->pos, p->len, p->len, p->page,
					p->fsdata);
	if (ret < 0)
		return ret;
	return ret == p->len ? 0 : -EIO;
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

/* One aligned word, read atomically (it never crosses a page). */
int woof_file_read_u64(struct file *f, loff_t pos, u64 *v)
{
	struct page *page = get_page_uptodate(f, pos >> PAGE_SHIFT);
	u8 *base;

	if (IS_ERR(page))
		return PTR_ERR(page);
	base = kmap_local_page(page);
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
	int ret;

	while (len) {
		unsigned int off = offset_in_page(pos);
		unsigned int n = min_t(size_t, len, PAGE_SIZE - off);

		ret = wpage_begin(c, pos, n, &p);
		if (ret)
			return ret;
		memcpy(wpage_ptr(&p, pos), src, n);
		ret = wpage_end(c, &p);
		if (ret)
			return ret;
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
	int ret;

	ret = wpage_begin(c, pos, sizeof(u64), &p);
	if (ret)
		return ret;
	smp_store_release((u64 *)wpage_ptr(&p, pos), v);
	return wpage_end(c, &p);
}

/* Atomically set @set and clear @clear in an aligned u32; *@old gets the old value. */
int woof_file_or_u32(struct woof_wctx *c, loff_t pos, u32 set, u32 clear, u32 *old)
{
	struct woof_wpage p;
	atomic_t *a;
	int ret, o;

	ret = wpage_begin(c, pos, sizeof(u32), &p);
	if (ret)
		return ret;
	a = wpage_ptr(&p, pos);
	o = atomic_fetch_or((int)set, a);
	if (clear)
		atomic_andnot((int)clear, a);
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

	ret = wpage_begin(c, pos, sizeof(u64), &p);
	if (ret)
		return ret;
	*cur = cmpxchg64((u64 *)wpage_ptr(&p, pos), old, new);
	return wpage_end(c, &p);
}

/*
 * Write a slot at @pos whose header and element [@el, @el + @len) all lie
 * in one page, in the seqlock order readers rely on: stamp 0, flags and
 * trigger, the element, stamp @stamp (release). With !@whole only the
 * opening half is done (stamp 0).
 */
int woof_slot_write(struct woof_wctx *c, loff_t pos, u64 stamp, u32 flags, u32 trigger,
		    const void *el, size_t len, bool whole)
{
	struct woof_slot *sl;
	struct woof_wpage p;
	int ret;

	ret = wpage_begin(c, pos, whole ? WOOF_SLOT_HEADER_SIZE + len : sizeof(u64), &p);
	if (ret)
		return ret;
	sl = wpage_ptr(&p, pos);
	WRITE_ONCE(sl->stamp, 0);
	smp_wmb();
	if (whole) {
		WRITE_ONCE(sl->flags, flags);
		WRITE_ONCE(sl->trigger, trigger);
		memcpy(sl + 1, el, len);
		smp_store_release(&sl->stamp, stamp);
	}
	return wpage_end(c, &p);
}

/* Set @set and clear @clear in the header state of @f (a file not being served). */
void woof_file_mark(struct file *f, u32 set, u32 clear)
{
	struct woof_wctx c;

	woof_wctx_begin(&c, f, WOOF_HEADER_SIZE);
	woof_file_or_u32(&c, offsetof(struct woof_header, state), set, clear, NULL);
	woof_wctx_end(&c);
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

/* Can the kernel serve @f? Page cache with ->write_begin, mmap-able. */
static int woof_file_usable(struct file *f)
{
	struct inode *inode = file_inode(f);

	if (!S_ISREG(inode->i_mode))
		return -EBADMSG;
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
 * replaced file is returned in *@replaced for the caller to mark). A file of
 * that name that is not a WOOF is never touched (-EEXIST).
 * Returns the WOOF's file (header in @h). Caller holds ns->lock.
 */
struct file *woof_create_file(struct woof_nsdev *ns, const struct path *dir,
			      const char *name, u64 element_size, u64 history_size,
			      u32 woof_flags, umode_t mode, u32 cflags,
			      struct woof_header *h, struct file **replaced)
{
	struct woof_header *nh;
	struct file *old, *f, *again;
	char tmp[48];
	int tries, ret;

	*replaced = NULL;
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
