/* SPDX-License-Identifier: MIT */
/*
 * cmd-ns-repair.c - "woofctl ns repair DIR": bring a fenced namespace back
 * (the rules below). "ns init" is in cmd-ns.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <woof-dispatch.h>

#include "woofctl.h"

/*
 * "woofctl ns repair DIR": bring back a namespace whose files
 * were damaged under dispatcherd (which fenced it), keeping every element
 * that is still there and putting back every trigger that can still be
 * known. The rules are in Documentation/dispatcherd.md ("Fenced
 * namespaces and their repair"); in short:
 *
 *   WOOFs        a WOOF cut shorter than its geometry (header intact) is
 *                extended to its size again: the slots that survived keep
 *                their elements, the lost ones read as empty. A file whose
 *                header is gone is reported and left alone.
 *   calls, log   the same; one whose header is gone is moved aside
 *                (<name>.damaged-<time>) and dispatcherd makes a new one.
 *   triggers     a damaged trigger log is rebuilt at the same numbers from
 *                (1) its entries that survive, (2) .woof/recovery, the
 *                unfinished entries dispatcherd had read when it fenced
 *                the namespace, (3) RUNNING records in .woof/calls without
 *                a final record, and (4) elements still marked PENDING whose
 *                WOOF is named with --handler WOOF=HANDLER. Numbers no source
 *                knows become holes, which dispatcherd passes. PENDING
 *                elements whose trigger is lost and whose WOOF has no
 *                --handler are released (puts may overwrite them again) and
 *                reported: their handler's name was only in the lost entry.
 *
 * Nothing here maps a file: everything is read and written with pread and
 * pwrite, so a file truncated while repair runs gives an error, not SIGBUS
 * (releasing a PENDING slot maps its page for the futex wake alone).
 *
 * Who may run: nobody else may be serving the namespace. repair takes
 * .woof/dispatcherd.lock; if a dispatcherd holds it, that dispatcherd must
 * have fenced the namespace and ended its calls (its status file says so):
 * a fenced namespace's files are not touched by the daemon. Afterwards a
 * fenced daemon gets SIGHUP, which makes it open the namespace again.
 */

struct rtrig {
	uint64_t t;
	struct woof_trigger tr;
	const char *from;	/* "log", "recovery", "calls", "pending" */
};

struct hmap {			/* --handler WOOF=HANDLER */
	char woof[WOOF_NAME_MAX + 1];
	char handler[WOOF_NAME_MAX + 1];
};

struct pend {			/* a PENDING slot */
	char woof[WOOF_NAME_MAX + 1];
	uint64_t seq, ctime;
	uint32_t trig32;
	off_t off;		/* of the slot's flags word */
};

struct repair {
	struct woofctl *ctx;
	const char *path;
	int dirfd, metafd;
	struct hmap *hmap;
	size_t nhmap;
	struct rtrig *tr;
	size_t ntr;
	struct pend *pend;
	size_t npend;
	/* what was done */
	unsigned woofs, extended, broken, records_moved;
	uint64_t from_log, from_recovery, from_calls, from_pending, holes, released;
	bool log_rebuilt, log_healthy;
	uint64_t floor, latest;
	long daemon_pid;
	bool signalled;
};

static bool grow(void **v, size_t n, size_t size)
{
	void *p;

	if (n && (n < 16 || (n & (n - 1))))
		return true;	/* room left: capacities are 16, 32, 64 ... */
	p = realloc(*v, (n ? 2 * n : 16) * size);
	if (!p)
		return false;
	*v = p;
	return true;
}

static struct rtrig *find_trig(struct repair *r, uint64_t t)
{
	for (size_t i = 0; i < r->ntr; i++)
		if (r->tr[i].t == t)
			return &r->tr[i];
	return NULL;
}

/* Add entry @t unless a better source had it already (sources come in order of trust). */
static int add_trig(struct repair *r, uint64_t t, const struct woof_trigger *tr, const char *from)
{
	if (!t || find_trig(r, t))
		return 0;
	if (!grow((void **)&r->tr, r->ntr, sizeof(*r->tr)))
		return -ENOMEM;
	r->tr[r->ntr].t = t;
	r->tr[r->ntr].tr = *tr;
	r->tr[r->ntr].tr.woof[WOOF_NAME_MAX] = r->tr[r->ntr].tr.handler[WOOF_NAME_MAX] = '\0';
	r->tr[r->ntr].from = from;
	r->ntr++;
	return 0;
}

static bool header_ok(const struct woof_header *h)
{
	return h->magic == WOOF_FORMAT_MAGIC && h->version == WOOF_FORMAT_VERSION &&
	       h->header_size == WOOF_HEADER_SIZE && h->element_size >= 1 &&
	       h->element_size <= WOOF_ELEMENT_SIZE_MAX && h->history_size >= 1 &&
	       h->history_size <= WOOF_HISTORY_MAX &&
	       h->slot_size == WOOF_SLOT_SIZE(h->element_size) &&
	       WOOF_FILE_SIZE(h->element_size, h->history_size) <= WOOF_FILE_SIZE_MAX;
}

/*
 * Open @name below @dirfd and read its header. 1: a WOOF header (maybe
 * cut short: *@size tells), 0: not a WOOF at all, -errno.
 */
static int read_header(int dirfd, const char *name, int *fdp, struct woof_header *h,
		       uint64_t *size, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	*size = 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return 0;
	}
	*size = (uint64_t)st->st_size;
	memset(h, 0, sizeof(*h));
	if (pread(fd, h, sizeof(h->magic), 0) != (ssize_t)sizeof(h->magic) ||
	    h->magic != WOOF_FORMAT_MAGIC) {
		close(fd);
		return 0;
	}
	if (*size < WOOF_HEADER_SIZE || pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h) ||
	    !header_ok(h)) {
		*fdp = fd;
		return 2;	/* it was a WOOF; its header is gone */
	}
	*fdp = fd;
	return 1;
}

/* Extend a WOOF cut short; 1 if it was, 0 if whole, -errno. */
static int extend(int fd, const struct woof_header *h, uint64_t size)
{
	uint64_t need = WOOF_FILE_SIZE(h->element_size, h->history_size);

	if (size >= need)
		return 0;
	if (ftruncate(fd, (off_t)need) < 0)
		return -errno;
	return 1;
}

/* Note the PENDING slots of the WOOF @name (header @h) open on @fd. */
static int scan_pending(struct repair *r, int fd, const char *name, const struct woof_header *h,
			uint64_t size)
{
	uint64_t H = h->history_size, n = h->seq_no < H ? h->seq_no : H;

	for (uint64_t i = 0; i < n; i++) {
		struct woof_slot sl;
		off_t off = (off_t)(WOOF_HEADER_SIZE + i * h->slot_size);

		if ((uint64_t)off + sizeof(sl) > size)
			break;	/* cut off: that element is lost */
		if (pread(fd, &sl, sizeof(sl), off) != (ssize_t)sizeof(sl))
			return -EIO;
		if (!(sl.flags & WOOF_SLOT_PENDING) || !sl.stamp || !sl.trigger)
			continue;
		if (!grow((void **)&r->pend, r->npend, sizeof(*r->pend)))
			return -ENOMEM;
		snprintf(r->pend[r->npend].woof, sizeof(r->pend[r->npend].woof), "%s", name);
		r->pend[r->npend].seq = sl.stamp;
		r->pend[r->npend].ctime = h->create_time_ns;
		r->pend[r->npend].trig32 = sl.trigger;
		r->pend[r->npend].off = off + (off_t)offsetof(struct woof_slot, flags);
		r->npend++;
	}
	return 0;
}

static void say(struct repair *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct repair *r, const char *fmt, ...)
{
	va_list ap;

	if (r->ctx->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* Every WOOF of the namespace: extend the ones cut short, note PENDING slots. */
static int repair_woofs(struct repair *r)
{
	int fd2 = dup(r->dirfd);
	struct dirent *de;
	DIR *d;

	if (fd2 < 0)
		return -errno;
	d = fdopendir(fd2);
	if (!d) {
		close(fd2);
		return -errno;
	}
	while ((de = readdir(d))) {
		struct woof_header h;
		struct stat st;
		uint64_t size;
		int fd = -1, ret;

		if (de->d_name[0] == '.' || woof_name_check(de->d_name))
			continue;
		ret = read_header(r->dirfd, de->d_name, &fd, &h, &size, &st);
		if (ret <= 0)
			continue;
		r->woofs++;
		if (ret == 2) {
			r->broken++;
			say(r, "WOOF %s: cut to %" PRIu64 " bytes, its header is gone: its elements "
			    "are lost; left as it is (remove it, or create it anew)\n", de->d_name,
			    size);
			close(fd);
			continue;
		}
		ret = extend(fd, &h, size);
		if (ret < 0) {
			close(fd);
			closedir(d);
			return fail_sys(-ret, "ns repair: %s/%s", r->path, de->d_name), ret;
		}
		if (ret) {
			r->extended++;
			say(r, "WOOF %s: was cut to %" PRIu64 " of %" PRIu64 " bytes: extended; the "
			    "elements in the part cut off are lost, the others are kept\n", de->d_name,
			    size, (uint64_t)WOOF_FILE_SIZE(h.element_size, h.history_size));
		}
		ret = scan_pending(r, fd, de->d_name, &h, size);
		close(fd);
		if (ret) {
			closedir(d);
			return ret;
		}
	}
	closedir(d);
	return 0;
}

/*
 * .woof/calls or .woof/log: extend when cut short, move aside when its
 * header is gone. For calls, @fdp gets a descriptor to read the records.
 */
static int repair_record_woof(struct repair *r, const char *name, int *fdp,
			      struct woof_header *hp)
{
	struct woof_header h;
	struct stat st;
	uint64_t size;
	int fd = -1, ret;

	ret = read_header(r->metafd, name, &fd, &h, &size, &st);
	if (ret < 0)
		return ret;
	if (ret == 0 && size == 0 && fstatat(r->metafd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;	/* none: dispatcherd makes it */
	if (ret == 1) {
		ret = extend(fd, &h, size);
		if (ret < 0) {
			close(fd);
			return ret;
		}
		if (ret)
			say(r, ".woof/%s: was cut short: extended (records in the part cut off "
			    "are lost)\n", name);
		if (fdp) {
			*fdp = fd;
			*hp = h;
		} else {
			close(fd);
		}
		return 0;
	}
	if (fd >= 0)
		close(fd);
	{
		char aside[64];

		snprintf(aside, sizeof(aside), "%s.damaged-%lld", name, (long long)time(NULL));
		if (renameat(r->metafd, name, r->metafd, aside) < 0)
			return errno == ENOENT ? 0 : -errno;
		r->records_moved++;
		say(r, ".woof/%s: not a WOOF any more: moved to .woof/%s; dispatcherd starts a "
		    "new one\n", name, aside);
	}
	return 0;
}

/* 1: the trigger log is whole; 0: damaged (or missing), its header in @h if readable. */
static int log_state(struct repair *r, struct woof_header *h, bool *have_h, int *fdp,
		     uint64_t *size)
{
	struct stat st;
	int fd = -1, ret;

	*have_h = false;
	*fdp = -1;
	ret = read_header(r->metafd, WOOF_TRIGGERS_FILE, &fd, h, size, &st);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		*have_h = h->element_size == sizeof(struct woof_trigger);
		*fdp = fd;
		if (*have_h && *size >= WOOF_FILE_SIZE(h->element_size, h->history_size))
			return 1;
		return 0;
	}
	if (fd >= 0)
		close(fd);
	/* missing altogether: nothing to rebuild unless something is to be recovered */
	return fstatat(r->metafd, WOOF_TRIGGERS_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0 ? 1 : 0;
}

/* (1) the entries of the old log that survive */
static int from_old_log(struct repair *r, int fd, const struct woof_header *h, uint64_t size)
{
	uint64_t H = h->history_size, L = h->seq_no, F = h->done_floor;

	for (uint64_t t = F + 1; t <= L; t++) {
		struct {
			struct woof_slot sl;
			struct woof_trigger tr;
		} s;
		off_t off = (off_t)(WOOF_HEADER_SIZE + ((t - 1) % H) * h->slot_size);

		if ((uint64_t)off + sizeof(s) > size)
			continue;
		if (pread(fd, &s, sizeof(s), off) != (ssize_t)sizeof(s))
			return -EIO;
		if (s.sl.stamp != t)
			continue;
		if (add_trig(r, t, &s.tr, "log"))
			return -ENOMEM;
		r->from_log++;
	}
	return 0;
}

static void pct_decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		unsigned v;

		if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* (2) .woof/recovery: the entries dispatcherd had read when it fenced the namespace */
static int from_recovery(struct repair *r, uint64_t *floor, uint64_t *read_to, bool *have)
{
	char line[1024];
	FILE *f;
	int fd = openat(r->metafd, WOOF_RECOVERY_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	*have = false;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long t, seq, ctime, put, v;
		struct woof_trigger tr;
		char *hp, *wp;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "done_floor %llu", &v) == 1) {
			if (!*have || v > *floor)
				*floor = v;
			*have = true;
		} else if (sscanf(line, "read %llu", &v) == 1) {
			if (v > *read_to)
				*read_to = v;
		} else if (sscanf(line, "trigger %llu", &t) == 1) {
			char *p;

			hp = strstr(line, " handler=");
			wp = strstr(line, " woof=");
			p = strstr(line, " seq=");
			if (!hp || !wp || !p || sscanf(p, " seq=%llu ctime=%llu put_ns=%llu", &seq,
						       &ctime, &put) != 3)
				continue;
			*wp = '\0';
			hp += 9;
			wp += 6;
			pct_decode(hp);
			pct_decode(wp);
			memset(&tr, 0, sizeof(tr));
			tr.woof_seq = seq;
			tr.woof_ctime = ctime;
			tr.put_time_ns = put;
			snprintf(tr.woof, sizeof(tr.woof), "%s", wp);
			snprintf(tr.handler, sizeof(tr.handler), "%s", hp);
			if (woof_name_check(tr.woof) || woof_name_check(tr.handler) || !seq)
				continue;
			if (!find_trig(r, t))
				r->from_recovery++;
			if (add_trig(r, t, &tr, "recovery")) {
				fclose(f);
				return -ENOMEM;
			}
		}
	}
	fclose(f);
	return 0;
}

/* The create time of WOOF @name now, or 0. */
static uint64_t woof_ctime_now(struct repair *r, const char *name)
{
	struct woof_header h;
	struct stat st;
	uint64_t size;
	int fd = -1, ret = read_header(r->dirfd, name, &fd, &h, &size, &st);

	if (fd >= 0)
		close(fd);
	return ret == 1 ? h.create_time_ns : 0;
}

/*
 * (3) .woof/calls: triggers that had started (RUNNING/REDELIVERED) and have
 * no final record. Also the highest trigger number any record names.
 */
static int from_calls(struct repair *r, int fd, const struct woof_header *h, uint64_t floor,
		      uint64_t *max_t)
{
	uint64_t H = h->history_size, L = h->seq_no, first = L > H ? L - H + 1 : 1;
	struct woof_call_record *recs;
	size_t n = 0;

	if (!L || h->element_size != sizeof(*recs))
		return 0;
	recs = calloc((size_t)(L - first + 1), sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	for (uint64_t s = first; s <= L; s++) {
		struct woof_slot sl;
		off_t off = (off_t)(WOOF_HEADER_SIZE + ((s - 1) % H) * h->slot_size);

		if (pread(fd, &sl, sizeof(sl), off) != (ssize_t)sizeof(sl) || sl.stamp != s ||
		    pread(fd, &recs[n], sizeof(recs[n]), off + (off_t)sizeof(sl)) !=
			    (ssize_t)sizeof(recs[n]))
			continue;
		recs[n].woof[WOOF_NAME_MAX] = recs[n].handler[WOOF_NAME_MAX] = '\0';
		if (recs[n].trigger > *max_t)
			*max_t = recs[n].trigger;
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		const struct woof_call_record *c = &recs[i];
		struct woof_trigger tr;
		bool final = false;

		if (c->state != WOOF_CALL_RUNNING && c->state != WOOF_CALL_REDELIVERED)
			continue;
		if (c->trigger <= floor)
			continue;
		for (size_t k = i + 1; k < n && !final; k++)
			final = recs[k].trigger == c->trigger &&
				recs[k].put_time_ns == c->put_time_ns &&
				(recs[k].state == WOOF_CALL_DONE || recs[k].state == WOOF_CALL_FAILED ||
				 recs[k].state == WOOF_CALL_ORPHAN);
		if (final || find_trig(r, c->trigger))
			continue;
		memset(&tr, 0, sizeof(tr));
		tr.woof_seq = c->woof_seq;
		tr.put_time_ns = c->put_time_ns;
		memcpy(tr.woof, c->woof, sizeof(tr.woof));
		memcpy(tr.handler, c->handler, sizeof(tr.handler));
		tr.woof_ctime = woof_ctime_now(r, tr.woof);
		if (add_trig(r, c->trigger, &tr, "calls")) {
			free(recs);
			return -ENOMEM;
		}
		r->from_calls++;
	}
	free(recs);
	return 0;
}

/* The 64-bit trigger number whose low half is @t32, nearest to @ref. */
static uint64_t widen(uint32_t t32, uint64_t ref)
{
	uint64_t t = (ref & ~0xffffffffULL) | t32;

	if (t > ref + 0x80000000ULL && t >= 0x100000000ULL)
		t -= 0x100000000ULL;
	else if (t + 0x80000000ULL < ref)
		t += 0x100000000ULL;
	return t;
}

static const char *handler_for(struct repair *r, const char *woof)
{
	for (size_t i = 0; i < r->nhmap; i++)
		if (!strcmp(r->hmap[i].woof, woof))
			return r->hmap[i].handler;
	return NULL;
}

/* Clear PENDING (and WAITER) of the slot at @p->off, waking a put that waits on it. */
static int release_pending(struct repair *r, const struct pend *p)
{
	long pg = sysconf(_SC_PAGESIZE);
	off_t base = p->off & ~(off_t)(pg - 1);
	struct stat st;
	uint32_t *w, old;
	void *m;
	int fd = openat(r->dirfd, p->woof, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	/* mapped for the futex only; the size was checked just before */
	if (fstat(fd, &st) < 0 || st.st_size < p->off + 4) {
		close(fd);
		return -EIO;
	}
	m = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, base);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	w = (uint32_t *)((char *)m + (p->off - base));
	old = __atomic_fetch_and(w, ~(WOOF_SLOT_PENDING | WOOF_SLOT_WAITER), __ATOMIC_SEQ_CST);
	if (old & WOOF_SLOT_WAITER)
		syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	munmap(m, (size_t)pg);
	return 0;
}

/* Write the new trigger log (entries r->tr, floor..latest) and put it in place. */
static int write_log(struct repair *r, uint64_t H, uint64_t floor, uint64_t latest,
		     const struct stat *like)
{
	struct woof_header *h;
	struct timespec now;
	char tmp[64];
	uint64_t slot = WOOF_SLOT_SIZE(sizeof(struct woof_trigger));
	uint64_t size = WOOF_FILE_SIZE(sizeof(struct woof_trigger), H);
	int fd, ret = 0;

	snprintf(tmp, sizeof(tmp), "%s.repair.%d", WOOF_TRIGGERS_FILE, (int)getpid());
	fd = openat(r->metafd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0664);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 || (errno = posix_fallocate(fd, 0, (off_t)size)) > 0) {
		ret = -errno;
		if (ret != -EOPNOTSUPP && ret != -EINVAL)
			goto out;
		ret = 0;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		ret = -ENOMEM;
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	h->magic = WOOF_FORMAT_MAGIC;
	h->version = WOOF_FORMAT_VERSION;
	h->header_size = WOOF_HEADER_SIZE;
	h->element_size = sizeof(struct woof_trigger);
	h->history_size = H;
	h->slot_size = slot;
	h->create_time_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	h->seq_no = latest;
	h->done_floor = floor;
	snprintf(h->filename, sizeof(h->filename), "%s", WOOF_TRIGGERS_FILE);
	if (pwrite(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h))
		ret = -EIO;
	free(h);
	for (uint64_t t = floor + 1; !ret && t <= latest; t++) {
		struct {
			struct woof_slot sl;
			struct woof_trigger tr;
		} s;
		struct rtrig *e = find_trig(r, t);

		memset(&s, 0, sizeof(s));
		s.sl.stamp = t;
		if (e)
			s.tr = e->tr;
		else
			r->holes++;	/* woof_seq 0, no names: dispatcherd passes it */
		if (pwrite(fd, &s, sizeof(s), (off_t)(WOOF_HEADER_SIZE + ((t - 1) % H) * slot)) !=
		    (ssize_t)sizeof(s))
			ret = -EIO;
	}
	if (!ret && like && geteuid() == 0 &&
	    (fchown(fd, like->st_uid, like->st_gid) < 0 || fchmod(fd, like->st_mode & 0777) < 0))
		ret = -errno;
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (!ret) {
		char aside[64];
		struct stat st;

		snprintf(aside, sizeof(aside), "%s.damaged-%lld", WOOF_TRIGGERS_FILE,
			 (long long)time(NULL));
		if (fstatat(r->metafd, WOOF_TRIGGERS_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    renameat(r->metafd, WOOF_TRIGGERS_FILE, r->metafd, aside) < 0)
			ret = -errno;
		else if (renameat(r->metafd, tmp, r->metafd, WOOF_TRIGGERS_FILE) < 0)
			ret = -errno;
		else
			say(r, ".woof/%s: rebuilt (the damaged one is .woof/%s)\n", WOOF_TRIGGERS_FILE,
			    aside);
	}
out:
	close(fd);
	if (ret)
		unlinkat(r->metafd, tmp, 0);
	return ret;
}

static int cmp_trig(const void *a, const void *b)
{
	const struct rtrig *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

static int repair_triggers(struct repair *r)
{
	struct woof_header lh, ch;
	struct stat lst, *like = NULL;
	uint64_t lsize = 0, H = WOOF_TRIGGERS_HISTORY, floor = 0, latest = 0, max_t = 0;
	uint64_t rfloor = 0, rread = 0, max_released = 0;
	bool have_lh, have_rfloor, floor_known = false;
	int lfd = -1, cfd = -1, ret;

	ret = repair_record_woof(r, WOOF_CALLS_FILE, &cfd, &ch);
	if (!ret)
		ret = repair_record_woof(r, WOOF_LOG_FILE, NULL, NULL);
	if (ret)
		goto out;
	ret = log_state(r, &lh, &have_lh, &lfd, &lsize);
	if (ret < 0)
		goto out;
	if (ret == 1) {
		/* whole: its unfinished entries are all there; dispatcherd reads them again */
		r->log_healthy = true;
		ret = 0;
		if (!unlinkat(r->metafd, WOOF_RECOVERY_FILE, 0))
			say(r, ".woof/%s: not needed (the trigger log is whole): removed\n",
			    WOOF_RECOVERY_FILE);
		goto out;
	}
	if (lfd >= 0 ? fstat(lfd, &lst) == 0
		     : fstatat(r->metafd, WOOF_TRIGGERS_FILE, &lst, AT_SYMLINK_NOFOLLOW) == 0)
		like = &lst;	/* the new log gets the old one's owner and mode */
	if (have_lh) {
		H = lh.history_size;
		floor = lh.done_floor;
		latest = lh.seq_no;
		floor_known = true;
		ret = from_old_log(r, lfd, &lh, lsize);
		if (ret)
			goto out;
	}
	ret = from_recovery(r, &rfloor, &rread, &have_rfloor);
	if (ret)
		goto out;
	if (!floor_known && have_rfloor) {
		floor = rfloor;
		floor_known = true;
	}
	if (rread > latest)
		latest = rread;
	if (cfd >= 0) {
		ret = from_calls(r, cfd, &ch, floor, &max_t);
		if (ret)
			goto out;
	}
	/* (4) PENDING elements: with --handler they run, else they are released */
	for (size_t i = 0; i < r->ntr; i++)
		if (r->tr[i].t > max_t)
			max_t = r->tr[i].t;
	if (latest > max_t)
		max_t = latest;
	for (size_t i = 0; i < r->npend; i++) {
		struct pend *p = &r->pend[i];
		uint64_t t = widen(p->trig32, max_t);
		struct rtrig *e = find_trig(r, t);
		const char *hd;

		if (e && e->tr.woof_seq == p->seq && !strcmp(e->tr.woof, p->woof))
			continue;	/* its entry is known: it runs */
		hd = handler_for(r, p->woof);
		if (hd && !e && (!floor_known || t > floor)) {
			struct woof_trigger tr;

			memset(&tr, 0, sizeof(tr));
			tr.woof_seq = p->seq;
			tr.woof_ctime = p->ctime;
			tr.put_time_ns = (uint64_t)time(NULL) * 1000000000ULL;
			snprintf(tr.woof, sizeof(tr.woof), "%s", p->woof);
			snprintf(tr.handler, sizeof(tr.handler), "%s", hd);
			if (add_trig(r, t, &tr, "pending")) {
				ret = -ENOMEM;
				goto out;
			}
			r->from_pending++;
			say(r, "WOOF %s: element %" PRIu64 " (trigger %" PRIu64 ") runs %s "
			    "(--handler)\n", p->woof, p->seq, t, hd);
			continue;
		}
		ret = release_pending(r, p);
		if (ret) {
			fail_sys(-ret, "ns repair: releasing %s element %" PRIu64, p->woof, p->seq);
			goto out;
		}
		r->released++;
		if (t > max_released)
			max_released = t;	/* its number was handed out: not again */
		say(r, "WOOF %s: element %" PRIu64 " waited for trigger %" PRIu64 ", whose entry "
		    "(and handler name) is lost: released, its handler does not run (name it "
		    "with --handler %s=HANDLER to run it)\n", p->woof, p->seq, t, p->woof);
	}
	qsort(r->tr, r->ntr, sizeof(*r->tr), cmp_trig);
	for (size_t i = 0; i < r->ntr; i++)
		if (r->tr[i].t > latest)
			latest = r->tr[i].t;
	if (max_released > latest)
		latest = max_released;
	if (!floor_known)
		floor = r->ntr ? r->tr[0].t - 1 : latest;
	if (latest < floor)
		latest = floor;
	if (latest - floor > H) {
		/* cannot happen with a sane log: keep the newest H numbers */
		floor = latest - H;
	}
	{
		/* entries at or below the floor are finished: not again */
		size_t k = 0;

		for (size_t i = 0; i < r->ntr; i++)
			if (r->tr[i].t > floor)
				r->tr[k++] = r->tr[i];
		r->ntr = k;
	}
	ret = write_log(r, H, floor, latest, like);
	if (ret) {
		fail_sys(-ret, "ns repair: writing the new trigger log of %s", r->path);
		goto out;
	}
	r->log_rebuilt = true;
	r->floor = floor;
	r->latest = latest;
	{
		char used[64];

		snprintf(used, sizeof(used), "%s.used-%lld", WOOF_RECOVERY_FILE,
			 (long long)time(NULL));
		renameat(r->metafd, WOOF_RECOVERY_FILE, r->metafd, used);
	}
out:
	if (lfd >= 0)
		close(lfd);
	if (cfd >= 0)
		close(cfd);
	return ret;
}

/*
 * Nobody serves the namespace while we repair it: take dispatcherd.lock,
 * or find that its holder fenced the namespace and ended its calls.
 * Returns the lock's fd (or -1 when a fenced daemon holds it), -errno.
 */
static int take_lock(struct repair *r)
{
	struct status_file s = { 0 };
	struct stat lst, sst;
	struct woof_ns *ns;
	char buf[32];
	ssize_t n;
	int fd, ret;

	fd = openat(r->metafd, WOOF_DISPATCHERD_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	ret = errno == EWOULDBLOCK ? 0 : -errno;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	if (!ret && fstat(fd, &lst) < 0)
		ret = -errno;
	close(fd);
	if (ret)
		return ret;
	/* the status file must be the daemon's: a handler cannot make one of root's */
	if (fstatat(r->metafd, WOOF_STATUS_FILE, &sst, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(sst.st_mode) || sst.st_uid != lst.st_uid) {
		fail_msg("ns repair: %s/.woof/" WOOF_STATUS_FILE " is not the serving "
			 "dispatcherd's (owner): it does not say whether it fenced the namespace",
			 r->path);
		return -EBUSY;
	}
	r->daemon_pid = strtol(buf, NULL, 10);
	ret = woof_ns_open(r->path, &ns);
	if (ret)
		return ret;
	ret = status_read(ns, &s);
	woof_ns_close(ns);
	if (!ret && s.state && !strcmp(s.state, "fenced") && (long)s.pid == r->daemon_pid &&
	    s.fence_calls && !strcmp(s.fence_calls, "ended")) {
		status_free(&s);
		return -1;
	}
	if (!ret && s.state && !strcmp(s.state, "fenced"))
		fail_msg("ns repair: dispatcherd pid %ld fenced %s but its calls are still being "
			 "ended: try again in a moment", r->daemon_pid, r->path);
	else
		fail_msg("ns repair: dispatcherd pid %ld serves %s and has not fenced it: a "
			 "namespace is repaired while no dispatcherd serves it (stop it first)",
			 r->daemon_pid, r->path);
	status_free(&s);
	return -EBUSY;
}

/* woofctl ns repair DIR [--handler WOOF=HANDLER]... */
int cmd_ns_repair(struct woofctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "handler", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct repair r;
	char *rp = NULL;
	int c, ret, lockfd = -1, status = EXIT_OK;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.dirfd = r.metafd = -1;
	while ((c = cmd_getopt(ctx, argc, argv, "H:", longopts)) != -1) {
		switch (c) {
		case OPT_HELP:
			return EXIT_OK;
		case OPT_USAGE:
			return EXIT_USAGE;
		case 'H': {
			const char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg || !eq[1] ||
			    (size_t)(eq - optarg) > WOOF_NAME_MAX || strlen(eq + 1) > WOOF_NAME_MAX)
				return usage_error(ctx, "--handler takes WOOF=HANDLER");
			if (!grow((void **)&r.hmap, r.nhmap, sizeof(*r.hmap)))
				return fail_sys(ENOMEM, "ns repair");
			memcpy(r.hmap[r.nhmap].woof, optarg, (size_t)(eq - optarg));
			r.hmap[r.nhmap].woof[eq - optarg] = '\0';
			snprintf(r.hmap[r.nhmap].handler, sizeof(r.hmap[r.nhmap].handler), "%s",
				 eq + 1);
			if (woof_name_check(r.hmap[r.nhmap].woof) ||
			    woof_name_check(r.hmap[r.nhmap].handler))
				return usage_error(ctx, "--handler %s: not a WOOF and handler name",
						   optarg);
			r.nhmap++;
			break;
		}
		default:
			return EXIT_USAGE;
		}
	}
	if (!cmd_nargs(ctx, argc - optind, 1, 1))
		return EXIT_USAGE;
	rp = realpath(argv[optind], NULL);
	if (!rp)
		return fail_sys(errno, "ns repair %s", argv[optind]);
	r.path = rp;
	r.dirfd = open(rp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r.dirfd >= 0)
		r.metafd = openat(r.dirfd, WOOF_NS_META_DIR,
				  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r.dirfd < 0 || r.metafd < 0) {
		status = fail_sys(errno, "ns repair %s", rp);
		goto out;
	}
	{
		struct woof_ns *ns;

		if (woof_ns_open(rp, &ns) == 0) {
			bool kernel = woof_ns_engine(ns) == WOOF_ENGINE_KERNEL;

			woof_ns_close(ns);
			if (kernel) {
				status = fail_msg("ns repair: woof.ko serves %s: its files are the "
						  "module's while it is mounted (unmount it first)", rp);
				goto out;
			}
		}
	}
	lockfd = take_lock(&r);
	if (lockfd < -1) {
		status = lockfd == -EBUSY ? EXIT_FAIL
					  : fail_sys(-lockfd, "ns repair: %s/.woof/"
						     WOOF_DISPATCHERD_LOCK, rp);
		goto out;
	}

	ret = repair_woofs(&r);
	if (!ret)
		ret = repair_triggers(&r);
	if (ret) {
		status = EXIT_FAIL;
		if (ret != -EBUSY)
			fail_sys(-ret, "ns repair %s", rp);
		goto out;
	}
	if (lockfd >= 0) {
		close(lockfd);	/* the next dispatcherd may take it */
		lockfd = -1;
	} else if (r.daemon_pid > 0) {
		/* the fenced daemon opens it again on SIGHUP */
		r.signalled = kill((pid_t)r.daemon_pid, SIGHUP) == 0;
	}

	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_kv_str(j, "namespace", rp);
		json_kv_u64(j, "woofs", r.woofs);
		json_kv_u64(j, "woofs_extended", r.extended);
		json_kv_u64(j, "woofs_lost", r.broken);
		json_kv_u64(j, "record_files_moved", r.records_moved);
		json_kv_str(j, "trigger_log", r.log_rebuilt ? "rebuilt" : "whole");
		json_key(j, "recovered");
		json_obj_open(j);
		json_kv_u64(j, "from_log", r.from_log);
		json_kv_u64(j, "from_recovery", r.from_recovery);
		json_kv_u64(j, "from_calls", r.from_calls);
		json_kv_u64(j, "from_pending", r.from_pending);
		json_obj_close(j);
		json_kv_u64(j, "holes", r.holes);
		json_kv_u64(j, "released", r.released);
		json_kv_u64(j, "done_floor", r.floor);
		json_kv_u64(j, "latest", r.latest);
		json_key(j, "dispatcherd");
		if (r.daemon_pid > 0 && lockfd < 0 && r.signalled)
			json_u64(j, (uint64_t)r.daemon_pid);
		else
			json_null(j);
		out_json_end(ctx);
	} else {
		printf("repaired %s: %u WOOFs (%u extended, %u lost their header)\n", rp, r.woofs,
		       r.extended, r.broken);
		if (r.log_rebuilt)
			printf("trigger log: rebuilt, done_floor %" PRIu64 ", latest %" PRIu64 ": %"
			       PRIu64 " triggers put back (%" PRIu64 " surviving entries, %" PRIu64
			       " from .woof/recovery, %" PRIu64 " started calls from .woof/calls, %"
			       PRIu64 " pending elements with --handler), %" PRIu64 " lost (holes), %"
			       PRIu64 " pending elements released\n", r.floor, r.latest,
			       (uint64_t)r.ntr, r.from_log, r.from_recovery, r.from_calls,
			       r.from_pending, r.holes, r.released);
		else
			printf("trigger log: whole\n");
		if (r.daemon_pid > 0 && !r.signalled)
			printf("dispatcherd pid %ld fenced the namespace: send it SIGHUP to serve it "
			       "again (kill -HUP %ld)\n", r.daemon_pid, r.daemon_pid);
		else if (r.signalled)
			printf("dispatcherd pid %ld: sent SIGHUP; it serves the namespace again\n",
			       r.daemon_pid);
	}
out:
	if (lockfd >= 0)
		close(lockfd);
	if (r.metafd >= 0)
		close(r.metafd);
	if (r.dirfd >= 0)
		close(r.dirfd);
	free(r.tr);
	free(r.pend);
	free(r.hmap);
	free(rp);
	return status;
}
