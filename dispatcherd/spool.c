/* SPDX-License-Identifier: MIT */
/*
 * spool.c - the copies of claimed elements, kept until their call's final
 * record is written, so that a call can run again after a crash of
 * dispatcherd even when its element's slot in the WOOF was overwritten
 * since (the claim releases the slot to the puts).
 *
 * Small elements (up to SPOOL_SLOT_DATA bytes) go to a slot of the ring
 * file .woof/spool/ring-v1: one slot of SPOOL_SLOT_SIZE bytes per entry of
 * the trigger log (16384: 8 MiB, allocated in full when it is made, so
 * that a full disk fails dispatcherd's start, not a copy), mapped shared.
 * Trigger T uses slot T % history. Unfinished triggers never share a slot:
 * the trigger log does not wrap over an entry above done_floor, so at most
 * `history` of them exist at once. A copy is a memcpy into the page cache:
 * no file is created and removed per call, which cost 56-101 us on ext4 -
 * more than half of dispatcherd's CPU time per warm call, growing with the
 * number of recently deleted inodes. The slot's header is written after
 * its data and its trigger number last (a release store), so a crash in
 * the middle leaves a slot that matches no trigger.
 *
 * Larger elements go to a file .woof/spool/T, as every element did before
 * the ring.
 *
 * Both kinds survive a SIGKILL of dispatcherd (they are in the page
 * cache); neither is synced, so neither survives a power loss.
 *
 * What a runtime gets: c->el points at the ring copy (NULL for a file
 * copy); spool_call_fd() gives a file descriptor for the element (a sealed
 * memfd made from the ring copy, or the file), which the exec runtime
 * passes as the handler's fd 3.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dispatcherd.h"

#define SPOOL_RING_FILE	"ring-v1"

struct spool_slot {
	uint64_t trigger;	/* 0: empty; written last */
	uint64_t put_time_ns;	/* the trigger's: tells an earlier log's copy apart */
	uint64_t size;		/* bytes of element that follow the header */
	uint64_t reserved[5];
};
_Static_assert(sizeof(struct spool_slot) == 64, "spool slot header");
_Static_assert(SPOOL_SLOT_DATA + sizeof(struct spool_slot) == SPOOL_SLOT_SIZE, "spool slot");

static struct spool_slot *slot_at(struct nsd *n, size_t i)
{
	return (struct spool_slot *)(n->spool_ring + (size_t)i * SPOOL_SLOT_SIZE);
}

/*
 * Allocate every block of the ring (@len bytes; @kept: the file has that
 * size already and holds copies), so that a full filesystem fails here,
 * with -ENOSPC, and never as a SIGBUS when a copy is stored through the
 * mapping. fallocate() fills holes without touching data; without it a new
 * ring is written with zeros, and a kept one stays as it is.
 */
static int ring_reserve(int fd, size_t len, bool kept)
{
	static const char zeros[65536];
	size_t off;
	ssize_t w;

	do {
		if (fallocate(fd, 0, 0, (off_t)len) == 0)
			return 0;
	} while (errno == EINTR);
	if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
		return -errno;
	if (kept)
		return 0;
	for (off = 0; off < len; off += (size_t)w) {
		w = pwrite(fd, zeros, len - off < sizeof(zeros) ? len - off : sizeof(zeros),
			   (off_t)off);
		if (w < 0 && errno == EINTR)
			w = 0;
		else if (w <= 0)
			return w < 0 ? -errno : -EIO;
	}
	return 0;
}

int spool_init(struct nsd *n)
{
	size_t len = (size_t)n->hist * SPOOL_SLOT_SIZE;
	struct stat st;
	void *p;
	int fd, ret;

	n->spool_owner = calloc(n->hist, sizeof(*n->spool_owner));
	if (!n->spool_owner)
		return -ENOMEM;
	fd = openat(n->spooldir, SPOOL_RING_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EBADF;
	}
	/* a file of another size is not ours to read: start it afresh */
	if ((uint64_t)st.st_size != len && ftruncate(fd, 0) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	/* a whole ring is left alone (XFS wants free space even for that) */
	ret = (uint64_t)st.st_size == len && (uint64_t)st.st_blocks * 512 >= len ? 0 :
	      ring_reserve(fd, len, (uint64_t)st.st_size == len);
	if (ret) {
		if ((uint64_t)st.st_size != len)
			(void)!ftruncate(fd, 0);	/* give back what we got */
		close(fd);
		return ret;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	n->spool_ring = p;
	return 0;
}

void spool_fini(struct nsd *n)
{
	if (n->spool_ring)
		munmap(n->spool_ring, (size_t)n->hist * SPOOL_SLOT_SIZE);
	n->spool_ring = NULL;
	free(n->spool_owner);
	n->spool_owner = NULL;
}

static void file_name(char *name, size_t len, uint64_t tseq)
{
	snprintf(name, len, "%llu", (unsigned long long)tseq);
}

static int file_write(struct nsd *n, uint64_t tseq, const void *el, size_t len)
{
	char name[32];
	const char *p = el;
	int fd, ret = 0;

	file_name(name, sizeof(name), tseq);
	fd = openat(n->spooldir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	close(fd);
	if (ret)
		unlinkat(n->spooldir, name, 0);
	return ret;
}

static int file_open(struct nsd *n, uint64_t tseq, uint64_t *size)
{
	char name[32];
	struct stat st;
	int fd;

	file_name(name, sizeof(name), tseq);
	fd = openat(n->spooldir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EBADF;
	}
	if (size)
		*size = (uint64_t)st.st_size;
	return fd;
}

/* @stale: one an earlier run left (counted by spool_clean) */
static void file_unlink(struct nsd *n, uint64_t tseq, bool stale)
{
	char name[32];

	file_name(name, sizeof(name), tseq);
	if (unlinkat(n->spooldir, name, 0) == 0) {
		if (stale && n->spool_stale_files)
			n->spool_stale_files--;
	} else if (errno != ENOENT) {
		log_warn("%s: spool/%s: %s", n->path, name, strerror(errno));
	}
}

int spool_put(struct nsd *n, struct call *c, const void *el, size_t len)
{
	size_t i = (size_t)(c->tseq % n->hist);
	int ret;

	c->el = NULL;
	c->spool_slot = 0;
	if (n->spool_ring && len <= SPOOL_SLOT_DATA && !n->spool_owner[i]) {
		struct spool_slot *s = slot_at(n, i);

		__atomic_store_n(&s->trigger, 0, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		memcpy(s + 1, el, len);
		s->put_time_ns = c->tr.put_time_ns;
		s->size = len;
		__atomic_store_n(&s->trigger, c->tseq, __ATOMIC_RELEASE);
		n->spool_owner[i] = c->tseq;
		c->spool_slot = i + 1;
		c->el = s + 1;
		return 0;
	}
	ret = file_write(n, c->tseq, el, len);
	if (!ret)
		c->spool_file = true;
	return ret;
}

int spool_find(struct nsd *n, struct call *c, uint64_t *size)
{
	size_t i = (size_t)(c->tseq % n->hist);
	int fd;

	if (n->spool_ring && (!n->spool_owner[i] || n->spool_owner[i] == c->tseq)) {
		struct spool_slot *s = slot_at(n, i);

		if (__atomic_load_n(&s->trigger, __ATOMIC_ACQUIRE) == c->tseq &&
		    s->put_time_ns == c->tr.put_time_ns && s->size <= SPOOL_SLOT_DATA) {
			n->spool_owner[i] = c->tseq;
			c->spool_slot = i + 1;
			c->el = s + 1;
			*size = s->size;
			return 0;
		}
	}
	fd = file_open(n, c->tseq, size);
	if (fd < 0)
		return fd;
	close(fd);	/* an earlier run's file: spool_drop removes it as a stale one */
	return 0;
}

/* A sealed memfd holding the ring copy: what a file copy would give, minus the file. */
static int memfd_copy(const void *el, size_t len)
{
	const char *p = el;
	int fd = memfd_create("woof-element", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			int ret = -errno;

			if (errno == EINTR)
				continue;
			close(fd);
			return ret;
		}
		p += w;
		len -= (size_t)w;
	}
	/* the handler gets this very file: it can read it, not change it */
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	return fd;
}

int spool_call_fd(struct nsd *n, struct call *c)
{
	if (c->el)
		return memfd_copy(c->el, (size_t)c->el_size);
	return file_open(n, c->tseq, NULL);
}

void spool_drop(struct nsd *n, struct call *c)
{
	if (c->spool_slot) {
		size_t i = c->spool_slot - 1;

		if (n->spool_owner[i] == c->tseq) {
			n->spool_owner[i] = 0;
			/* no stale match at the next start */
			__atomic_store_n(&slot_at(n, i)->trigger, 0, __ATOMIC_RELEASE);
		}
		c->spool_slot = 0;
		c->el = NULL;
	}
	if (c->spool_file)
		file_unlink(n, c->tseq, false);
	else if (n->spool_stale_files)
		file_unlink(n, c->tseq, true);	/* one an earlier run left for this trigger */
	c->spool_file = false;
}

void spool_forget(struct nsd *n, uint64_t tseq)
{
	if (n->spool_stale_files)
		file_unlink(n, tseq, true);
}

/* At start-up: drop file copies of triggers at or below done_floor, count the rest. */
void spool_clean(struct nsd *n)
{
	int fd = dup(n->spooldir);
	DIR *dir;
	struct dirent *de;

	n->spool_stale_files = 0;
	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		char *end;
		unsigned long long t;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, SPOOL_RING_FILE))
			continue;
		t = strtoull(de->d_name, &end, 10);
		if (*end || t <= n->floor)
			unlinkat(n->spooldir, de->d_name, 0);
		else
			n->spool_stale_files++;
	}
	closedir(dir);
}
