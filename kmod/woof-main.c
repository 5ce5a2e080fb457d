// SPDX-License-Identifier: GPL-2.0
/*
 * woof-main.c - woof.ko: the module, /dev/woof/control and the namespace
 * devices /dev/woof/<ns>.
 *
 * insmod gives /dev/woof/control (a misc device). Mounting a namespace
 * (WOOF_IOC_NS_MOUNT, CAP_SYS_ADMIN) serves one directory of WOOF files
 * as /dev/woof/<name>, a char device with the owner, group and mode given
 * at mount; those permissions are the access control of the namespace
 * (open for writing: create, remove, append, consume triggers; read-only:
 * open read-only WOOF fds). The files themselves are handled with the
 * credentials of the mounter. Unmounting (or rmmod) clears
 * WOOF_STATE_KERNEL in every file the kernel served, so the user-space
 * engine can take the directory back; the data is the files and stays.
 *
 * ioctl conventions (see the uapi header): every argument struct starts
 * with size and flags, unknown flags and non-zero reserved fields are
 * -EINVAL, unknown commands -ENOIOCTLCMD (ENOTTY in user space).
 */
#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "woof-int.h"

#define CREATE_TRACE_POINTS
#include "woof_trace.h"

static DEFINE_MUTEX(woof_global_lock);
static LIST_HEAD(woof_namespaces);
static unsigned int woof_ns_count;
static DEFINE_IDA(woof_minors);
static dev_t woof_devt;
static struct class *woof_class;

#define WOOF_FEATURES (WOOF_FEAT_NS | WOOF_FEAT_WOOF | WOOF_FEAT_MMAP | WOOF_FEAT_APPEND | \
		       WOOF_FEAT_BATCH | WOOF_FEAT_WAIT | WOOF_FEAT_TRIGGERS |	  \
		       WOOF_FEAT_BACKPRESSURE | WOOF_FEAT_GENL | WOOF_FEAT_TRACE |	  \
		       WOOF_FEAT_SET_FLAGS | WOOF_FEAT_NS_STAT)

u64 woof_features(void)
{
	return WOOF_FEATURES;
}

/* ---- argument structs ------------------------------------------------------------ */

/*
 * Copy an argument struct in. Its first word is the caller's size: less
 * than ours is -EINVAL, more than a page -E2BIG, and bytes beyond ours
 * must be zero (-E2BIG).
 */
int woof_copy_in(void *k, size_t ksize, const void __user *u)
{
	u32 usize;

	/* the common case in one copy: the caller's struct is ours */
	if (!woof_copy_from_user(k, u, ksize) && *(const u32 *)k == ksize)
		return 0;
	if (get_user(usize, (const u32 __user *)u))
		return -EFAULT;
	if (usize < ksize)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(k, ksize, u, usize);
}

/* Copy the struct back: at most the caller's size (its first word). */
int woof_copy_out(void __user *u, const void *k, size_t ksize)
{
	size_t n = min_t(size_t, *(const u32 *)k, ksize);

	return woof_copy_to_user(u, k, n);
}

/* 0 if @name (an array of @cap bytes) is a valid namespace name. */
static int woof_ns_name_valid(const char *name, size_t cap)
{
	size_t n = strnlen(name, cap), i;

	if (n == cap)
		return -ENAMETOOLONG;
	if (n == 0 || name[0] == '.' || name[0] == '-' || !strcmp(name, "control"))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!isalnum(c) && c != '_' && c != '.' && c != '-')
			return -EINVAL;
	}
	return 0;
}

/* ---- namespaces: served WOOFs ---------------------------------------------------- */

static struct kwoof *ns_find(struct woof_nsdev *ns, struct inode *inode)
{
	struct kwoof *w;

	hash_for_each_possible(ns->woofs, w, node, (unsigned long)inode)
		if (file_inode(w->file) == inode)
			return w;
	return NULL;
}

/*
 * The served WOOF of the file @f (header @h) for the caller: an existing
 * one (then @f is put) or a new one. ns->lock held. -EAGAIN: replaced or
 * removed under us, look the name up again.
 */
static struct kwoof *ns_serve(struct woof_nsdev *ns, struct file *f,
			      const struct woof_header *h, const char *name)
{
	struct kwoof *w = ns_find(ns, file_inode(f));

	if (w) {
		fput(f);
		kref_get(&w->ref);
		return w;
	}
	w = kwoof_serve(ns, f, h, name, false);
	if (IS_ERR(w))
		return w;
	hash_add(ns->woofs, &w->node, (unsigned long)file_inode(w->file));
	w->listed = true;
	ns->nr_woofs++;
	kref_get(&w->ref);	/* the table's */
	return w;
}

/* Take @w out of the table and stop serving it (REMOVED / REPLACED). ns->lock held. */
static void ns_drop(struct woof_nsdev *ns, struct kwoof *w, u32 state)
{
	hash_del(&w->node);
	w->listed = false;
	ns->nr_woofs--;
	kwoof_retire(w, state, false);
	kwoof_put(w);
}

/* Mark a file the kernel does not serve (REMOVED / REPLACED). */
static void mark_unserved(struct file *f, u32 state)
{
	woof_file_mark(f, state, 0);
}

/* The WOOF @name of @ns, served; a reference for the caller. */
struct kwoof *woof_ns_get_woof(struct woof_nsdev *ns, const char *name)
{
	struct woof_header *h;
	struct kwoof *w = ERR_PTR(-EAGAIN);
	struct file *f;
	int tries;

	h = kmalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return ERR_PTR(-ENOMEM);
	for (tries = 0; tries < 4 && w == ERR_PTR(-EAGAIN); tries++) {
		mutex_lock(&ns->lock);
		if (ns->dead) {
			w = ERR_PTR(-ENODEV);
		} else {
			f = woof_open_existing(ns, &ns->dir, name, h);
			w = IS_ERR(f) ? ERR_CAST(f) : ns_serve(ns, f, h, name);
		}
		mutex_unlock(&ns->lock);
	}
	kfree(h);
	return w;
}

/* ---- /dev/woof/<ns>: CREATE, OPEN, REMOVE ---------------------------------------- */

static long woof_ioc_create(struct woof_nsdev *ns, struct file *file, void __user *arg)
{
	struct file *f, *replaced;
	struct woof_header *h;
	struct woof_open a;
	struct kwoof *w, *old;
	bool created, was_replaced = false;
	u64 slots;
	long ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if ((a.flags & ~WOOF_CREATE_ALL) || a.reserved[0] || a.reserved[1] || a.reserved[2] ||
	    a.reserved[3] || (a.woof_flags & ~WOOF_F_ALL) || (a.mode & ~0777U))
		return -EINVAL;
	if ((a.flags & WOOF_CREATE_F_EXCL) && (a.flags & WOOF_CREATE_F_RESET))
		return -EINVAL;
	if (a.element_size < 1 || a.element_size > WOOF_ELEMENT_SIZE_MAX ||
	    a.history_size < 1 || a.history_size > WOOF_HISTORY_MAX)
		return -EINVAL;
	if (check_mul_overflow(a.history_size + 1, (u64)WOOF_SLOT_SIZE(a.element_size), &slots) ||
	    slots > WOOF_FILE_SIZE_MAX - WOOF_HEADER_SIZE)
		return -EFBIG;
	ret = woof_name_valid(a.name, sizeof(a.name));
	if (ret)
		return ret;

	h = kmalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	mutex_lock(&ns->lock);
	if (ns->dead) {
		w = ERR_PTR(-ENODEV);
		goto unlock;
	}
	f = woof_create_file(ns, &ns->dir, a.name, a.element_size, a.history_size,
			     a.woof_flags, a.mode ? a.mode : 0664, a.flags, h, &replaced, &created);
	if (IS_ERR(f)) {
		w = ERR_CAST(f);
		goto unlock;
	}
	if (replaced) {
		old = ns_find(ns, file_inode(replaced));
		if (old)
			ns_drop(ns, old, WOOF_STATE_REPLACED);
		else
			mark_unserved(replaced, WOOF_STATE_REPLACED);
		fput(replaced);
		was_replaced = true;
	}
	w = ns_serve(ns, f, h, a.name);
unlock:
	mutex_unlock(&ns->lock);
	kfree(h);
	if (IS_ERR(w))
		return PTR_ERR(w);
	if (created)
		woof_genl_woof_event(ns, w, a.name, true, was_replaced);
	ret = kwoof_install_fd(w, &a, arg);
	kwoof_put(w);
	return ret;
}

static long woof_ioc_open(struct woof_nsdev *ns, struct file *file, void __user *arg)
{
	struct woof_open a;
	struct kwoof *w;
	long ret;

	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if ((a.flags & ~WOOF_OPEN_ALL) || a.element_size || a.history_size || a.woof_flags ||
	    a.mode || a.reserved[0] || a.reserved[1] || a.reserved[2] || a.reserved[3])
		return -EINVAL;
	ret = woof_name_valid(a.name, sizeof(a.name));
	if (ret)
		return ret;
	if (!(a.flags & WOOF_OPEN_RDONLY) && !(file->f_mode & FMODE_WRITE))
		return -EBADF;
	w = woof_ns_get_woof(ns, a.name);
	if (IS_ERR(w))
		return PTR_ERR(w);
	ret = kwoof_install_fd(w, &a, arg);
	kwoof_put(w);
	return ret;
}

static long woof_ioc_remove(struct woof_nsdev *ns, struct file *file, void __user *arg)
{
	struct woof_header *h;
	struct woof_remove a;
	struct kwoof *w;
	struct file *f;
	long ret;
	int tries;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if (a.flags || a.reserved[0] || a.reserved[1] || a.reserved[2])
		return -EINVAL;
	ret = woof_name_valid(a.name, sizeof(a.name));
	if (ret)
		return ret;
	h = kmalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	mutex_lock(&ns->lock);
	for (tries = 0, ret = -EAGAIN; tries < 4 && ret == -EAGAIN; tries++) {
		if (ns->dead) {
			ret = -ENODEV;
			break;
		}
		f = woof_open_existing(ns, &ns->dir, a.name, h);
		if (IS_ERR(f)) {
			ret = PTR_ERR(f);
			break;
		}
		if (kwoof_served_elsewhere(ns, file_inode(f))) {
			/* renamed here from a namespace that still serves it */
			fput(f);
			ret = -EBUSY;
			break;
		}
		ret = woof_unlink_file(ns, &ns->dir, a.name, f);
		if (!ret) {
			w = ns_find(ns, file_inode(f));
			if (w)
				ns_drop(ns, w, WOOF_STATE_REMOVED);
			else
				mark_unserved(f, WOOF_STATE_REMOVED);
		}
		fput(f);
	}
	mutex_unlock(&ns->lock);
	kfree(h);
	if (!ret)
		woof_genl_woof_event(ns, NULL, a.name, false, false);
	return ret;
}

/*
 * NS_STAT: the directory this device serves, by device and inode as
 * stat(2) reports them (vfs_getattr, with the mounter's credentials like
 * every operation on the directory), so a process that sees the directory
 * under another path or in another mount namespace can tell it is this one.
 */
static long woof_ioc_ns_stat(struct woof_nsdev *ns, void __user *arg)
{
	const struct cred *old;
	struct woof_ns_stat a;
	struct kstat st;
	long ret;

	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if (a.flags || a.reserved[0] || a.reserved[1] || a.reserved[2] || a.reserved[3])
		return -EINVAL;
	old = override_creds(ns->cred);
	ret = vfs_getattr(&ns->dir, &st, STATX_INO, AT_STATX_SYNC_AS_STAT);
	revert_creds(old);
	if (ret)
		return ret;
	a.dir_dev_major = MAJOR(st.dev);
	a.dir_dev_minor = MINOR(st.dev);
	a.dir_ino = st.ino;
	a.dev_major = MAJOR(ns->dev.devt);
	a.dev_minor = MINOR(ns->dev.devt);
	memset(a.name, 0, sizeof(a.name));
	strscpy(a.name, ns->name, sizeof(a.name));
	return woof_copy_out(arg, &a, sizeof(a));
}

static long woof_ioc_version(void __user *arg);

static long woof_ns_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct woof_nsfile *nf = file->private_data;
	struct woof_nsdev *ns = nf->ns;
	void __user *uarg = (void __user *)arg;

	if (READ_ONCE(ns->dead) && cmd != WOOF_IOC_VERSION)
		return -ENODEV;
	switch (cmd) {
	case WOOF_IOC_VERSION:
		return woof_ioc_version(uarg);
	case WOOF_IOC_CREATE:
		return woof_ioc_create(ns, file, uarg);
	case WOOF_IOC_OPEN:
		return woof_ioc_open(ns, file, uarg);
	case WOOF_IOC_REMOVE:
		return woof_ioc_remove(ns, file, uarg);
	case WOOF_IOC_TRIGGER_DONE:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return woof_ioc_trigger_done(ns, uarg);
	case WOOF_IOC_TRIGGER_CLAIM:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return woof_ioc_trigger_claim(ns, uarg);
	case WOOF_IOC_TRIGGER_INFO:
		return woof_ioc_trigger_info(ns, uarg);
	case WOOF_IOC_NS_STAT:
		return woof_ioc_ns_stat(ns, uarg);
	default:
		return -ENOIOCTLCMD;
	}
}

static int woof_ns_open(struct inode *inode, struct file *file)
{
	struct woof_nsdev *ns = container_of(inode->i_cdev, struct woof_nsdev, cdev);
	struct woof_nsfile *nf;

	if (READ_ONCE(ns->dead))
		return -ENODEV;
	nf = kzalloc(sizeof(*nf), GFP_KERNEL);
	if (!nf)
		return -ENOMEM;
	woof_ns_get(ns);
	atomic_inc(&ns->users);
	nf->ns = ns;
	file->private_data = nf;
	file->f_mode |= FMODE_NOWAIT;
	return nonseekable_open(inode, file);
}

static int woof_ns_release(struct inode *inode, struct file *file)
{
	struct woof_nsfile *nf = file->private_data;
	struct woof_nsdev *ns = nf->ns;

	woof_triggers_release(nf);
	atomic_dec(&ns->users);
	woof_ns_put(ns);
	kfree(nf);
	return 0;
}

static ssize_t woof_ns_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	return woof_triggers_read(iocb->ki_filp->private_data, iocb, to);
}

static __poll_t woof_ns_poll(struct file *file, struct poll_table_struct *pt)
{
	return woof_triggers_poll(file->private_data, file, pt);
}

static const struct file_operations woof_ns_fops = {
	.owner = THIS_MODULE,
	.open = woof_ns_open,
	.release = woof_ns_release,
	.read_iter = woof_ns_read_iter,
	.poll = woof_ns_poll,
	.unlocked_ioctl = woof_ns_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = no_llseek,
};

/* ---- namespaces: mount and unmount -------------------------------------------------- */

static char *woof_ns_devnode(struct device *dev, umode_t *mode, kuid_t *uid, kgid_t *gid)
{
	struct woof_nsdev *ns = container_of(dev, struct woof_nsdev, dev);

	if (mode)
		*mode = ns->mode;
	if (uid)
		*uid = ns->uid;
	if (gid)
		*gid = ns->gid;
	return kasprintf(GFP_KERNEL, "woof/%s", ns->name);
}

static const struct device_type woof_ns_type = {
	.name = "woof_ns",
	.devnode = woof_ns_devnode,
};

/* The last reference: everything the namespace held goes. */
static void woof_ns_dev_release(struct device *dev)
{
	struct woof_nsdev *ns = container_of(dev, struct woof_nsdev, dev);

	if (ns->log)
		kwoof_put(ns->log);
	path_put(&ns->meta);
	path_put(&ns->dir);
	if (ns->cred)
		put_cred(ns->cred);
	kfree(ns);
}

/*
 * Stop serving @ns: clear WOOF_STATE_KERNEL in every file it served, make
 * open fds fail with -ENODEV, remove the device node. woof_global_lock held,
 * @ns already off the list.
 */
static void woof_ns_kill(struct woof_nsdev *ns)
{
	struct hlist_node *tmp;
	struct kwoof *w;
	int bkt;

	mutex_lock(&ns->lock);
	WRITE_ONCE(ns->dead, true);
	hash_for_each_safe(ns->woofs, bkt, tmp, w, node) {
		hash_del(&w->node);
		w->listed = false;
		ns->nr_woofs--;
		kwoof_retire(w, 0, true);
		kwoof_put(w);
	}
	mutex_unlock(&ns->lock);
	if (ns->log)
		kwoof_retire(ns->log, 0, true);
	wake_up_all(&ns->twq);
	wake_up_all(&ns->floor_wq);
	cdev_device_del(&ns->cdev, &ns->dev);
	ida_free(&woof_minors, MINOR(ns->dev.devt));
	woof_ns_count--;
	woof_genl_ns_event(ns, false);
	woof_ns_put(ns);	/* the mount's */
}

static struct woof_nsdev *ns_lookup(const char *name)
{
	struct woof_nsdev *ns;

	list_for_each_entry(ns, &woof_namespaces, node)
		if (!strcmp(ns->name, name))
			return ns;
	return NULL;
}

/*
 * May @ns be added: its name free, its directory not mounted under another
 * name? woof_global_lock held.
 */
static int ns_mount_check(struct woof_nsdev *ns)
{
	struct woof_nsdev *other;

	lockdep_assert_held(&woof_global_lock);
	if (ns_lookup(ns->name))
		return -EEXIST;
	list_for_each_entry(other, &woof_namespaces, node)
		if (d_inode(other->dir.dentry) == d_inode(ns->dir.dentry))
			return -EBUSY;	/* that directory is mounted already */
	return 0;
}

/*
 * NS_MOUNT. The checks that touch no file come first (a refused mount
 * leaves the directory as it was); .woof/ and the trigger log are set up
 * without woof_global_lock, so a file system that hangs or fails there
 * holds up this mount only; then, under the lock, the checks again (a
 * racing mount of the same name may have won; one of the same directory
 * finds the trigger log served, -EBUSY) and the device.
 */
static long woof_ioc_ns_mount(void __user *arg)
{
	struct woof_ns_mount a;
	struct woof_nsdev *ns;
	struct file *dirf;
	int minor;
	long ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if (a.flags || a.reserved[0] || a.reserved[1] || a.reserved[2] || a.reserved[3] ||
	    (a.mode & ~0777U))
		return -EINVAL;
	ret = woof_ns_name_valid(a.name, sizeof(a.name));
	if (ret)
		return ret;

	ns = kzalloc(sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return -ENOMEM;
	device_initialize(&ns->dev);
	ns->dev.release = woof_ns_dev_release;
	ns->dev.class = woof_class;
	ns->dev.type = &woof_ns_type;
	strscpy(ns->name, a.name, sizeof(ns->name));
	ns->uid = make_kuid(current_user_ns(), a.uid);
	ns->gid = make_kgid(current_user_ns(), a.gid);
	ns->mode = a.mode ? a.mode : 0600;
	atomic_set(&ns->users, 0);
	mutex_init(&ns->lock);
	hash_init(ns->woofs);
	mutex_init(&ns->tlock);
	init_waitqueue_head(&ns->twq);
	init_waitqueue_head(&ns->floor_wq);
	if (!uid_valid(ns->uid) || !gid_valid(ns->gid)) {
		ret = -EINVAL;
		goto put;
	}

	dirf = fget_raw(a.dirfd);
	if (!dirf) {
		ret = -EBADF;
		goto put;
	}
	if (!d_can_lookup(dirf->f_path.dentry)) {
		fput(dirf);
		ret = -ENOTDIR;
		goto put;
	}
	ns->dir = dirf->f_path;
	path_get(&ns->dir);
	fput(dirf);
	ns->cred = get_current_cred();
	/* -EOPNOTSUPP (not a tested file system), -EROFS */
	ret = woof_dir_supported(&ns->dir);
	if (ret)
		goto put;
	ret = inode_permission(mnt_user_ns(ns->dir.mnt), d_inode(ns->dir.dentry),
			       MAY_WRITE | MAY_EXEC);
	if (ret)
		goto put;

	mutex_lock(&woof_global_lock);
	ret = ns_mount_check(ns);
	mutex_unlock(&woof_global_lock);
	if (ret)
		goto put;
	ret = woof_triggers_init(ns);
	if (ret)
		goto put;

	mutex_lock(&woof_global_lock);
	ret = ns_mount_check(ns);
	if (ret)
		goto unlock;
	minor = ida_alloc_max(&woof_minors, WOOF_NS_MAX - 1, GFP_KERNEL);
	if (minor < 0) {
		ret = minor;
		goto unlock;
	}
	ns->dev.devt = MKDEV(MAJOR(woof_devt), minor);
	ret = dev_set_name(&ns->dev, "%s", ns->name);
	if (!ret) {
		cdev_init(&ns->cdev, &woof_ns_fops);
		ns->cdev.owner = THIS_MODULE;
		ret = cdev_device_add(&ns->cdev, &ns->dev);
	}
	if (ret) {
		ida_free(&woof_minors, minor);
		goto unlock;
	}
	list_add_tail(&ns->node, &woof_namespaces);
	woof_ns_count++;
	a.dev_major = MAJOR(ns->dev.devt);
	a.dev_minor = MINOR(ns->dev.devt);
	woof_genl_ns_event(ns, true);
	mutex_unlock(&woof_global_lock);
	/* mounted: a failed copy-out does not undo it, as with other ioctls' out fields */
	return woof_copy_out(arg, &a, sizeof(a));
unlock:
	mutex_unlock(&woof_global_lock);
	/* the log was served: clear WOOF_STATE_KERNEL in it, release its inode */
	kwoof_retire(ns->log, 0, true);
put:
	put_device(&ns->dev);
	return ret;
}

static long woof_ioc_ns_umount(void __user *arg)
{
	struct woof_ns_umount a;
	struct woof_nsdev *ns;
	long ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if ((a.flags & ~WOOF_UMOUNT_ALL) || a.reserved[0] || a.reserved[1] || a.reserved[2])
		return -EINVAL;
	ret = woof_ns_name_valid(a.name, sizeof(a.name));
	if (ret)
		return ret;
	mutex_lock(&woof_global_lock);
	ns = ns_lookup(a.name);
	if (!ns) {
		ret = -ENOENT;
	} else if (!(a.flags & WOOF_UMOUNT_DETACH) && atomic_read(&ns->users)) {
		ret = -EBUSY;
	} else {
		list_del(&ns->node);
		woof_ns_kill(ns);
	}
	mutex_unlock(&woof_global_lock);
	return ret;
}

static void fill_ns_info(struct woof_nsdev *ns, struct woof_ns_info *info, char *buf)
{
	char *p;
	size_t n;

	memset(info, 0, sizeof(*info));
	strscpy(info->name, ns->name, sizeof(info->name));
	info->dev_major = MAJOR(ns->dev.devt);
	info->dev_minor = MINOR(ns->dev.devt);
	info->uid = from_kuid_munged(current_user_ns(), ns->uid);
	info->gid = from_kgid_munged(current_user_ns(), ns->gid);
	info->mode = ns->mode;
	info->woofs = READ_ONCE(ns->nr_woofs);
	info->users = atomic_read(&ns->users);
	p = d_path(&ns->dir, buf, PATH_MAX);
	if (IS_ERR(p)) {
		info->flags |= WOOF_NSI_PATH_TRUNC;
		return;
	}
	n = strlen(p);
	if (n >= sizeof(info->path)) {
		info->flags |= WOOF_NSI_PATH_TRUNC;
		n = sizeof(info->path) - 1;
	}
	memcpy(info->path, p, n);
}

static long woof_ioc_ns_list(void __user *arg)
{
	struct woof_ns_info *info;
	struct woof_ns_list a;
	struct woof_nsdev *ns;
	u32 i = 0;
	char *buf;
	long ret;

	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if (a.flags || a.reserved[0] || a.reserved[1])
		return -EINVAL;
	if (a.count && (a.entry_size < sizeof(*info) || a.entry_size > PAGE_SIZE))
		return -EINVAL;
	info = kmalloc(sizeof(*info), GFP_KERNEL);
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!info || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	mutex_lock(&woof_global_lock);
	list_for_each_entry(ns, &woof_namespaces, node) {
		if (i < a.count) {
			void __user *dst = u64_to_user_ptr(a.entries) + (u64)i * a.entry_size;

			fill_ns_info(ns, info, buf);
			if (copy_to_user(dst, info, sizeof(*info)) ||
			    clear_user(dst + sizeof(*info), a.entry_size - sizeof(*info))) {
				ret = -EFAULT;
				break;
			}
		}
		i++;
	}
	mutex_unlock(&woof_global_lock);
	if (!ret) {
		a.count = i;
		ret = woof_copy_out(arg, &a, sizeof(a));
	}
out:
	kfree(buf);
	kfree(info);
	return ret;
}

static long woof_ioc_version(void __user *arg)
{
	struct woof_version a;
	long ret;

	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if (a.flags || a.reserved[0] || a.reserved[1] || a.reserved[2] || a.reserved[3])
		return -EINVAL;
	a.api_version = WOOF_KAPI_VERSION;
	a.format_version = WOOF_FORMAT_VERSION;
	a.features = woof_features();
	a.ns_max = WOOF_NS_MAX;
	mutex_lock(&woof_global_lock);
	a.ns_count = woof_ns_count;
	mutex_unlock(&woof_global_lock);
	return woof_copy_out(arg, &a, sizeof(a));
}

/* ---- /dev/woof/control ---------------------------------------------------------------- */

static long woof_control_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case WOOF_IOC_VERSION:
		return woof_ioc_version(uarg);
	case WOOF_IOC_NS_MOUNT:
		return woof_ioc_ns_mount(uarg);
	case WOOF_IOC_NS_UMOUNT:
		return woof_ioc_ns_umount(uarg);
	case WOOF_IOC_NS_LIST:
		return woof_ioc_ns_list(uarg);
	default:
		return -ENOIOCTLCMD;
	}
}

static const struct file_operations woof_control_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = woof_control_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice woof_control = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "woof-control",
	.nodename = "woof/control",
	.mode = 0666,
	.fops = &woof_control_fops,
};

static int __init woof_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&woof_devt, 0, WOOF_NS_MAX, "woof");
	if (ret)
		return ret;
	woof_class = class_create(THIS_MODULE, "woof");
	if (IS_ERR(woof_class)) {
		ret = PTR_ERR(woof_class);
		goto unregister;
	}
	ret = woof_genl_init();
	if (ret)
		goto destroy;
	ret = misc_register(&woof_control);
	if (ret)
		goto genl;
	pr_info("woof: /dev/woof/control ready (api %u, format %u)\n", WOOF_KAPI_VERSION,
		WOOF_FORMAT_VERSION);
	return 0;
genl:
	woof_genl_exit();
destroy:
	class_destroy(woof_class);
unregister:
	unregister_chrdev_region(woof_devt, WOOF_NS_MAX);
	return ret;
}

static void __exit woof_exit(void)
{
	struct woof_nsdev *ns, *tmp;

	misc_deregister(&woof_control);
	mutex_lock(&woof_global_lock);
	list_for_each_entry_safe(ns, tmp, &woof_namespaces, node) {
		list_del(&ns->node);
		woof_ns_kill(ns);
	}
	mutex_unlock(&woof_global_lock);
	woof_genl_exit();
	class_destroy(woof_class);
	unregister_chrdev_region(woof_devt, WOOF_NS_MAX);
	ida_destroy(&woof_minors);
}

module_init(woof_init);
module_exit(woof_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("woof: append-only logs (WOOFs) with kernel-assigned sequence numbers");
MODULE_AUTHOR("the woof project");
