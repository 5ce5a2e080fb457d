/* SPDX-License-Identifier: MIT */
/*
 * format.c - the on-disk format and ABI of include/uapi/linux/woof.h.
 *
 * Checks at run time the sizes and offsets the header asserts at compile
 * time, the WOOF_SLOT_SIZE / WOOF_FILE_SIZE arithmetic and the constants;
 * then that what the library writes is exactly what the header promises,
 * by reading WOOF files back with plain read()/pread(): the file size, every
 * header field, the reserved space, the ring slots (stamp == seq number, at
 * slot (seq - 1) % history_size) before and after a wrap; and the reverse:
 * a WOOF file written by hand with write() is read and appended to by the
 * library.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

TestSuite(format, .init = tu_setup, .fini = tu_teardown, .timeout = 30);

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The header of the WOOF @name in tu_dir, read with read(). */
static void read_header(const char *name, struct woof_header *h)
{
	char *path = tu_path(tu_dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	cr_assert(fd >= 0, "open(%s): %s", path, strerror(errno));
	memset(h, 0xcc, sizeof(*h));
	ssize_t n = read(fd, h, sizeof(*h));
	cr_assert(n == (ssize_t)sizeof(*h), "read(%s) header: %zd", path, n);
	close(fd);
}

/* Slot @idx (head and element) of a WOOF file, read with pread(). */
static void read_slot(const char *name, uint64_t element_size, uint64_t idx,
		      struct woof_slot *slot, void *element)
{
	char *path = tu_path(tu_dir, name);
	off_t off = (off_t)(WOOF_HEADER_SIZE + idx * WOOF_SLOT_SIZE(element_size));
	ssize_t n;

	n = tu_pread_file(path, slot, sizeof(*slot), off);
	cr_assert(n == (ssize_t)sizeof(*slot), "pread slot %llu head: %zd",
		  (unsigned long long)idx, n);
	n = tu_pread_file(path, element, element_size, off + WOOF_SLOT_HEADER_SIZE);
	cr_assert(n == (ssize_t)element_size, "pread slot %llu element: %zd",
		  (unsigned long long)idx, n);
}

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < len; i++)
		if (c[i])
			return false;
	return true;
}

Test(format, struct_sizes_and_offsets)
{
	tu_assert_u64(sizeof(struct woof_header), 4096);
	tu_assert_u64(sizeof(struct woof_header), WOOF_HEADER_SIZE);
	tu_assert_u64(offsetof(struct woof_header, magic), 0);
	tu_assert_u64(offsetof(struct woof_header, version), 8);
	tu_assert_u64(offsetof(struct woof_header, header_size), 12);
	tu_assert_u64(offsetof(struct woof_header, element_size), 16);
	tu_assert_u64(offsetof(struct woof_header, history_size), 24);
	tu_assert_u64(offsetof(struct woof_header, slot_size), 32);
	tu_assert_u64(offsetof(struct woof_header, create_time_ns), 40);
	tu_assert_u64(offsetof(struct woof_header, flags), 48);
	tu_assert_u64(offsetof(struct woof_header, reserved0), 52);
	tu_assert_u64(offsetof(struct woof_header, reserved1), 56);
	tu_assert_u64(offsetof(struct woof_header, seq_no), 64);
	tu_assert_u64(offsetof(struct woof_header, lock), 72);
	tu_assert_u64(offsetof(struct woof_header, state), 80);
	tu_assert_u64(offsetof(struct woof_header, wait_flag), 84);
	tu_assert_u64(offsetof(struct woof_header, overruns), 88);
	tu_assert_u64(offsetof(struct woof_header, reserved2), 96);
	tu_assert_u64(offsetof(struct woof_header, done_floor), 128);
	tu_assert_u64(offsetof(struct woof_header, consumer_wait), 136);
	tu_assert_u64(offsetof(struct woof_header, floor_wait), 140);
	tu_assert_u64(offsetof(struct woof_header, reserved3), 144);
	tu_assert_u64(offsetof(struct woof_header, reserved5), 192);
	tu_assert_u64(offsetof(struct woof_header, filename), 256);
	tu_assert_u64(sizeof(((struct woof_header *)0)->filename), 256);
	tu_assert_u64(offsetof(struct woof_header, reserved4), 512);
	tu_assert_u64(sizeof(((struct woof_header *)0)->reserved4), 4096 - 512);
	/* seq_no and done_floor, futex words, start their own cache lines */
	tu_assert_u64(offsetof(struct woof_header, seq_no) % 64, 0);
	tu_assert_u64(offsetof(struct woof_header, done_floor) % 64, 0);

	tu_assert_u64(sizeof(struct woof_slot), 16);
	tu_assert_u64(sizeof(struct woof_slot), WOOF_SLOT_HEADER_SIZE);
	tu_assert_u64(offsetof(struct woof_slot, stamp), 0);
	tu_assert_u64(offsetof(struct woof_slot, flags), 8);
	tu_assert_u64(offsetof(struct woof_slot, trigger), 12);

	tu_assert_u64(sizeof(struct woof_trigger), 64 + 2 * 256);
	tu_assert_u64(offsetof(struct woof_trigger, woof_seq), 0);
	tu_assert_u64(offsetof(struct woof_trigger, woof_ctime), 8);
	tu_assert_u64(offsetof(struct woof_trigger, put_time_ns), 16);
	tu_assert_u64(offsetof(struct woof_trigger, flags), 24);
	tu_assert_u64(offsetof(struct woof_trigger, woof), 64);
	tu_assert_u64(offsetof(struct woof_trigger, handler), 64 + 256);

	tu_assert_u64(offsetof(struct woof_owners, magic), 0);
	tu_assert_u64(offsetof(struct woof_owners, version), 8);
	tu_assert_u64(offsetof(struct woof_owners, gen), 64);
	tu_assert_u64(sizeof(struct woof_owners), 64 + 8ULL * 65536);
}

Test(format, constants)
{
	uint64_t magic = WOOF_FORMAT_MAGIC, omagic = WOOF_OWNERS_MAGIC;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	cr_assert(memcmp(&magic, "WOOFLOG1", 8) == 0, "magic is not \"WOOFLOG1\" in memory");
	cr_assert(memcmp(&omagic, "WOOWNRS1", 8) == 0, "owners magic is not \"WOOWNRS1\"");
#else
	(void)magic; (void)omagic;
#endif
	tu_assert_u64(WOOF_FORMAT_VERSION, 1);
	tu_assert_u64(WOOF_HEADER_SIZE, 4096);
	tu_assert_u64(WOOF_NAME_MAX, 255);
	tu_assert_u64(WOOF_ELEMENT_SIZE_MAX, 1ULL << 30);
	tu_assert_u64(WOOF_HISTORY_MAX, 1ULL << 40);
	tu_assert_u64(WOOF_FILE_SIZE_MAX, 1ULL << 46);
	tu_assert_u64(WOOF_F_ALL, WOOF_F_DURABLE | WOOF_F_OVERWRITE);
	tu_assert_u64(WOOF_F_DURABLE & WOOF_F_OVERWRITE, 0);
	tu_assert_u64(WOOF_STATE_REPLACED & WOOF_STATE_REMOVED, 0);
	tu_assert_u64(WOOF_STATE_REPLACED & WOOF_STATE_KERNEL, 0);
	tu_assert_u64(WOOF_STATE_REMOVED & WOOF_STATE_KERNEL, 0);
	tu_assert_u64(WOOF_SLOT_PENDING & WOOF_SLOT_WAITER, 0);
	cr_assert_str_eq(WOOF_TRIGGERS_FILE, "triggers");
	cr_assert(WOOF_TRIGGERS_HISTORY >= 1 && WOOF_TRIGGERS_HISTORY <= WOOF_HISTORY_MAX);
	cr_assert_str_eq(WOOF_NS_META_DIR, ".woof");
	cr_assert_str_eq(WOOF_OWNERS_FILE, "owners");
	tu_assert_u64(WOOF_TOKEN_ID((5ULL << 16) | 7), 7);
	tu_assert_u64(WOOF_TOKEN_GEN((5ULL << 16) | 7), 5);
	tu_assert_u64(WOOF_TOKEN_ID(0xffffULL | (1ULL << 40)), 0xffff);
	tu_assert_u64(WOOF_TOKEN_GEN(0xffffULL | (1ULL << 40)), 1ULL << 24);
	/* the largest owner id still fits the id field */
	tu_assert_u64(WOOF_TOKEN_ID(WOOF_OWNERS_MAX - 1), WOOF_OWNERS_MAX - 1);
}

Test(format, slot_and_file_size_arithmetic)
{
	/* slot = 16-byte head + element rounded up to 8 */
	tu_assert_u64(WOOF_SLOT_SIZE(0), 16);
	tu_assert_u64(WOOF_SLOT_SIZE(1), 24);
	tu_assert_u64(WOOF_SLOT_SIZE(7), 24);
	tu_assert_u64(WOOF_SLOT_SIZE(8), 24);
	tu_assert_u64(WOOF_SLOT_SIZE(9), 32);
	tu_assert_u64(WOOF_SLOT_SIZE(255), 16 + 256);
	tu_assert_u64(WOOF_SLOT_SIZE(4096), 16 + 4096);
	tu_assert_u64(WOOF_SLOT_SIZE(WOOF_ELEMENT_SIZE_MAX), 16 + (1ULL << 30));
	for (uint64_t e = 1; e < 200; e++) {
		uint64_t s = WOOF_SLOT_SIZE(e);
		cr_assert(s % 8 == 0 && s >= e + 16 && s < e + 24,
			  "WOOF_SLOT_SIZE(%llu) = %llu", (unsigned long long)e,
			  (unsigned long long)s);
	}
	/* an int argument must not overflow in the macro */
	int big = 0x7ffffff9;
	tu_assert_u64(WOOF_SLOT_SIZE(big), 16ULL + 0x80000000ULL);

	/* file = header + (history + 1 redo) slots */
	tu_assert_u64(WOOF_FILE_SIZE(1, 1), 4096 + 2 * 24);
	tu_assert_u64(WOOF_FILE_SIZE(8, 4), 4096 + 5 * 24);
	tu_assert_u64(WOOF_FILE_SIZE(13, 7), 4096 + 8 * 32);
	tu_assert_u64(WOOF_FILE_SIZE(255, 5), 4096 + 6 * 272);
	tu_assert_u64(WOOF_FILE_SIZE(1ULL << 30, 1), 4096 + 2 * (16 + (1ULL << 30)));
	/* no 32-bit overflow with int arguments */
	int h = 0x7fffffff;
	tu_assert_u64(WOOF_FILE_SIZE(1, h), 4096 + 0x80000000ULL * 24);
	cr_assert(WOOF_FILE_SIZE(1, WOOF_HISTORY_MAX) <= WOOF_FILE_SIZE_MAX,
		  "the largest history of 1-byte elements must fit the file limit");
}

Test(format, created_file_has_exact_size)
{
	static const uint64_t geo[][2] = {
		{1, 1}, {8, 4}, {13, 7}, {100, 3}, {255, 5}, {4096, 2}, {5000, 9},
		{64, 1000},
	};

	for (size_t i = 0; i < sizeof(geo) / sizeof(geo[0]); i++) {
		char name[32];
		struct woof_stat st;

		snprintf(name, sizeof(name), "w%zu", i);
		struct woof *w = tu_create(tu_ns, name, geo[i][0], geo[i][1]);
		long long size = tu_file_size(tu_path(tu_dir, name));
		cr_assert(size == (long long)WOOF_FILE_SIZE(geo[i][0], geo[i][1]),
			  "%s (element %llu, history %llu): file size %lld, expected %llu",
			  name, (unsigned long long)geo[i][0],
			  (unsigned long long)geo[i][1], size,
			  (unsigned long long)WOOF_FILE_SIZE(geo[i][0], geo[i][1]));
		tu_assert_ok(woof_stat(w, &st));
		tu_assert_u64(st.file_size, WOOF_FILE_SIZE(geo[i][0], geo[i][1]));
		woof_close(w);
	}
}

Test(format, header_fields_on_disk)
{
	struct woof_header h;
	uint64_t t0 = realtime_ns();
	struct woof *w = tu_create(tu_ns, "fmt", 100, 7);
	uint64_t t1 = realtime_ns();

	read_header("fmt", &h);
	tu_assert_u64(h.magic, WOOF_FORMAT_MAGIC);
	tu_assert_u64(h.version, WOOF_FORMAT_VERSION);
	tu_assert_u64(h.header_size, WOOF_HEADER_SIZE);
	tu_assert_u64(h.element_size, 100);
	tu_assert_u64(h.history_size, 7);
	tu_assert_u64(h.slot_size, WOOF_SLOT_SIZE(100));
	tu_assert_u64(h.flags, 0);
	tu_assert_u64(h.seq_no, 0);
	tu_assert_u64(h.lock, 0);
	/* woof.ko marks the files it serves */
	tu_assert_u64(h.state, tu_kernel() ? WOOF_STATE_KERNEL : 0);
	tu_assert_u64(h.wait_flag, 0);
	tu_assert_u64(h.overruns, 0);
	tu_assert_u64(h.done_floor, 0);
	tu_assert_u64(h.consumer_wait, 0);
	tu_assert_u64(h.floor_wait, 0);
	cr_assert(h.create_time_ns >= t0 - 1000000000ULL && h.create_time_ns <= t1 + 1000000000ULL,
		  "create_time_ns %llu is not CLOCK_REALTIME at creation [%llu, %llu]",
		  (unsigned long long)h.create_time_ns, (unsigned long long)t0,
		  (unsigned long long)t1);
	cr_assert(memchr(h.filename, 0, sizeof(h.filename)) != NULL, "filename not NUL-terminated");
	cr_assert_str_eq(h.filename, "fmt");
	/* writers zero the reserved space */
	cr_assert(h.reserved0 == 0 && h.reserved1 == 0, "reserved0/1 not zero");
	cr_assert(all_zero(h.reserved2, sizeof(h.reserved2)), "reserved2 not zero");
	cr_assert(all_zero(h.reserved3, sizeof(h.reserved3)), "reserved3 not zero");
	cr_assert(all_zero(h.reserved5, sizeof(h.reserved5)), "reserved5 not zero");
	cr_assert(all_zero(h.reserved4, sizeof(h.reserved4)), "reserved4 not zero");
	cr_assert(all_zero(h.filename + 4, sizeof(h.filename) - 4),
		  "filename not zero-padded after its NUL");

	/* the stat view agrees */
	struct woof_stat st;
	tu_assert_ok(woof_stat(w, &st));
	tu_assert_u64(st.create_time_ns, h.create_time_ns);
	woof_close(w);
}

Test(format, seq_no_and_slots_on_disk)
{
	enum { ES = 20, HS = 5 };
	struct woof *w = tu_create(tu_ns, "slots", ES, HS);
	unsigned char el[ES], got[ES];
	struct woof_header h;
	struct woof_slot slot;

	/* 12 appends wrap the ring twice */
	for (uint64_t s = 1; s <= 12; s++) {
		uint64_t seq = 0;
		memset(el, (int)(0x40 + s), sizeof(el));
		memcpy(el, &s, sizeof(s));
		tu_assert_ok(woof_append(w, el, NULL, &seq));
		tu_assert_u64(seq, s);

		read_header("slots", &h);
		tu_assert_u64(h.seq_no, s);
		tu_assert_u64(h.lock, 0);

		/* slot (s - 1) % history_size holds s, stamp == s */
		read_slot("slots", ES, (s - 1) % HS, &slot, got);
		tu_assert_u64(slot.stamp, s);
		tu_assert_u64(slot.flags, 0);	/* no handler: no trigger */
		tu_assert_u64(slot.trigger, 0);
		cr_assert(memcmp(got, el, ES) == 0, "slot %llu element bytes differ after append %llu",
			  (unsigned long long)((s - 1) % HS), (unsigned long long)s);
	}
	/* after 12 appends the ring holds 8..12 */
	for (uint64_t i = 0; i < HS; i++) {
		read_slot("slots", ES, i, &slot, got);
		uint64_t want = 12 - ((12 - 1 - i) % HS);
		/* slot i holds the largest s <= 12 with (s-1) % HS == i */
		tu_assert_u64(slot.stamp, want);
		uint64_t s;
		memcpy(&s, got, sizeof(s));
		tu_assert_u64(s, want);
	}
	/* the file did not grow */
	tu_assert_rc(tu_file_size(tu_path(tu_dir, "slots")), (long long)WOOF_FILE_SIZE(ES, HS));
	/* the mapped header (CSPOT's wf->shared) is the same bytes */
	const struct woof_header *mh = woof_header(w);
	cr_assert_not_null(mh);
	tu_assert_u64(mh->magic, WOOF_FORMAT_MAGIC);
	tu_assert_u64(mh->seq_no, 12);
	tu_assert_u64(mh->element_size, ES);
	tu_assert_u64(mh->history_size, HS);
	cr_assert_str_eq(mh->filename, "slots");
	woof_close(w);
}

Test(format, flags_on_disk)
{
	struct woof_create_opts o = tu_opts(8, 4, WOOF_CREATE_EXCL);
	struct woof_header h;
	struct woof_stat st;
	struct woof *w;

	o.flags = WOOF_F_DURABLE;
	tu_assert_ok(woof_create(tu_ns, "durable", &o, &w));
	read_header("durable", &h);
	tu_assert_u64(h.flags, WOOF_F_DURABLE);
	tu_assert_ok(woof_stat(w, &st));
	tu_assert_u64(st.flags, WOOF_F_DURABLE);
	woof_close(w);

	o.flags = WOOF_F_OVERWRITE;
	tu_assert_ok(woof_create(tu_ns, "overwrite", &o, &w));
	read_header("overwrite", &h);
	tu_assert_u64(h.flags, WOOF_F_OVERWRITE);
	tu_assert_ok(woof_stat(w, &st));
	tu_assert_u64(st.flags, WOOF_F_OVERWRITE);
	woof_close(w);

	o.flags = WOOF_F_ALL;
	tu_assert_ok(woof_create(tu_ns, "both", &o, NULL));
	read_header("both", &h);
	tu_assert_u64(h.flags, WOOF_F_ALL);
}

Test(format, long_name_on_disk)
{
	char name[WOOF_NAME_MAX + 1];
	struct woof_header h;

	memset(name, 'n', WOOF_NAME_MAX);
	name[WOOF_NAME_MAX] = 0;
	struct woof *w = tu_create(tu_ns, name, 8, 2);
	read_header(name, &h);
	tu_assert_u64(h.filename[WOOF_NAME_MAX], 0);
	cr_assert(memcmp(h.filename, name, WOOF_NAME_MAX + 1) == 0,
		  "255-byte name not stored whole in the header");
	woof_close(w);
}

Test(format, create_time_differs_after_reset)
{
	struct woof_create_opts o = tu_opts(8, 4, WOOF_CREATE_RESET);
	struct woof_header h1, h2;

	tu_assert_ok(woof_create(tu_ns, "r", &o, NULL));
	read_header("r", &h1);
	/* until the clock has moved past the first creation (it does within ns) */
	for (uint64_t t0 = tu_now_ns(); tu_ms_since(t0) < 1000;) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		if ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec > h1.create_time_ns)
			break;
	}
	tu_assert_ok(woof_create(tu_ns, "r", &o, NULL));
	read_header("r", &h2);
	cr_assert(h2.create_time_ns > h1.create_time_ns,
		  "a reset WOOF must carry a new create_time_ns (%llu then %llu)",
		  (unsigned long long)h1.create_time_ns,
		  (unsigned long long)h2.create_time_ns);
	tu_assert_u64(h2.seq_no, 0);
}

/*
 * A WOOF file written by hand from the header alone: element 24 bytes,
 * history 4, seq_no 6 (so 3..6 are retained, at slots 2, 3, 0, 1).
 */
Test(format, handmade_file_is_read_by_library)
{
	enum { ES = 24, HS = 4 };
	size_t size = WOOF_FILE_SIZE(ES, HS);
	unsigned char *file = calloc(1, size);
	struct woof_header *h = (struct woof_header *)file;
	unsigned char el[ES];
	struct woof *w;
	uint64_t seq_read;

	cr_assert_not_null(file);
	h->magic = WOOF_FORMAT_MAGIC;
	h->version = WOOF_FORMAT_VERSION;
	h->header_size = WOOF_HEADER_SIZE;
	h->element_size = ES;
	h->history_size = HS;
	h->slot_size = WOOF_SLOT_SIZE(ES);
	h->create_time_ns = realtime_ns();
	h->seq_no = 6;
	strcpy(h->filename, "handmade");
	for (uint64_t s = 3; s <= 6; s++) {
		unsigned char *p = file + WOOF_HEADER_SIZE + ((s - 1) % HS) * WOOF_SLOT_SIZE(ES);
		struct woof_slot slot = { .stamp = s };
		memcpy(p, &slot, sizeof(slot));
		memset(p + WOOF_SLOT_HEADER_SIZE, (int)('a' + s), ES);
	}
	tu_assert_ok(tu_write_file(tu_path(tu_dir, "handmade"), file, size));

	tu_assert_ok(woof_open(tu_ns, "handmade", &w));
	tu_assert_u64(woof_latest(w), 6);
	for (uint64_t s = 3; s <= 6; s++) {
		memset(el, 0, sizeof(el));
		tu_assert_ok(woof_read(w, s, el, &seq_read));
		tu_assert_u64(seq_read, s);
		for (int i = 0; i < ES; i++)
			cr_assert(el[i] == 'a' + s, "seq %llu byte %d: %02x",
				  (unsigned long long)s, i, el[i]);
	}
	tu_assert_rc(woof_read(w, 2, el, NULL), -ENODATA);
	tu_assert_rc(woof_read(w, 7, el, NULL), -ERANGE);

	struct woof_stat st;
	tu_assert_ok(woof_stat(w, &st));
	tu_assert_u64(st.oldest, 3);
	tu_assert_u64(st.latest, 6);

	/* the library's next append lands where the format says: seq 7 at slot 2 */
	uint64_t seq = 0;
	memset(el, 'Z', sizeof(el));
	tu_assert_ok(woof_append(w, el, NULL, &seq));
	tu_assert_u64(seq, 7);
	struct woof_slot slot;
	unsigned char got[ES];
	read_slot("handmade", ES, (7 - 1) % HS, &slot, got);
	tu_assert_u64(slot.stamp, 7);
	cr_assert(memcmp(got, el, ES) == 0, "seq 7 not written at slot 2");
	struct woof_header hh;
	read_header("handmade", &hh);
	tu_assert_u64(hh.seq_no, 7);
	woof_close(w);
	free(file);
}

Test(format, owners_file)
{
	struct woof_owners o;
	uint64_t x = 1;

	if (woof_ns_engine(tu_ns) != WOOF_ENGINE_USER)
		tu_skip("the owner table belongs to the user-space engine");
	struct woof *w = tu_create(tu_ns, "own", 8, 4);
	tu_assert_ok(woof_append(w, &x, NULL, NULL));
	char *path = tu_printf("%s/%s/%s", tu_dir, WOOF_NS_META_DIR, WOOF_OWNERS_FILE);
	ssize_t n = tu_pread_file(path, &o, 64, 0);
	cr_assert(n == 64, "read %s: %s", path, tu_err(n));
	tu_assert_u64(o.magic, WOOF_OWNERS_MAGIC);
	tu_assert_u64(o.version, WOOF_FORMAT_VERSION);
	cr_assert(tu_file_size(path) >= (long long)sizeof(struct woof_owners),
		  "%s is %lld bytes, smaller than struct woof_owners", path,
		  tu_file_size(path));
	woof_close(w);
}

/*
 * A put that names a handler appends a struct woof_trigger to
 * .woof/triggers (a WOOF of its own) and records the trigger's number in
 * the element's slot.
 */
Test(format, trigger_log_on_disk)
{
	enum { ES = 16 };
	struct woof *w = tu_create(tu_ns, "tw", ES, 8);
	unsigned char el[ES] = "bark";
	uint64_t seq = 0;
	struct woof_header h, th;
	struct woof_slot slot;
	struct woof_trigger trig;
	unsigned char got[ES];

	tu_assert_ok(woof_append(w, el, NULL, &seq));
	tu_assert_ok(woof_append(w, el, "hw", &seq));
	tu_assert_u64(seq, 2);
	read_header("tw", &h);

	char *tpath = tu_printf("%s/%s/%s", tu_dir, WOOF_NS_META_DIR, WOOF_TRIGGERS_FILE);
	cr_assert(tu_exists(tpath), "a put naming a handler made no %s", tpath);
	tu_assert_rc(tu_pread_file(tpath, &th, sizeof(th), 0), sizeof(th));
	tu_assert_u64(th.magic, WOOF_FORMAT_MAGIC);
	tu_assert_u64(th.element_size, sizeof(struct woof_trigger));
	tu_assert_u64(th.history_size, WOOF_TRIGGERS_HISTORY);
	tu_assert_u64(tu_file_size(tpath),
		      WOOF_FILE_SIZE(sizeof(struct woof_trigger), WOOF_TRIGGERS_HISTORY));
	tu_assert_u64(th.seq_no, 1);

	/* trigger 1 sits in slot 0 of the log */
	off_t off = WOOF_HEADER_SIZE;
	struct woof_slot tslot;
	tu_assert_rc(tu_pread_file(tpath, &tslot, sizeof(tslot), off), sizeof(tslot));
	tu_assert_u64(tslot.stamp, 1);
	tu_assert_rc(tu_pread_file(tpath, &trig, sizeof(trig), off + WOOF_SLOT_HEADER_SIZE),
		     sizeof(trig));
	tu_assert_u64(trig.woof_seq, 2);
	tu_assert_u64(trig.woof_ctime, h.create_time_ns);
	cr_assert_str_eq(trig.woof, "tw");
	cr_assert_str_eq(trig.handler, "hw");
	tu_assert_u64(trig.flags, 0);
	cr_assert(trig.put_time_ns >= h.create_time_ns, "put_time_ns before the WOOF's creation");

	/* the element's slot carries the trigger's number; the first has none */
	read_slot("tw", ES, 1, &slot, got);
	tu_assert_u64(slot.stamp, 2);
	tu_assert_u64(slot.trigger, 1);
	/* no dispatcher runs here, so no handler has read it yet */
	tu_assert_u64(slot.flags & WOOF_SLOT_PENDING, WOOF_SLOT_PENDING);
	read_slot("tw", ES, 0, &slot, got);
	tu_assert_u64(slot.trigger, 0);
	woof_close(w);
}

/*
 * WOOF_F_OVERWRITE: a put that wraps over an element whose handler has not
 * read it overwrites it and counts an overrun in the header.
 */
Test(format, overwrite_counts_overruns)
{
	struct woof_create_opts o = tu_opts(8, 2, WOOF_CREATE_EXCL);
	struct woof_header h;
	struct woof *w;
	uint64_t x = 1, seq = 0;

	o.flags = WOOF_F_OVERWRITE;
	tu_assert_ok(woof_create(tu_ns, "ow", &o, &w));
	tu_assert_ok(woof_append(w, &x, "hw", &seq));
	tu_assert_ok(woof_append(w, &x, "hw", &seq));
	read_header("ow", &h);
	tu_assert_u64(h.overruns, 0);
	tu_assert_ok(woof_append(w, &x, "hw", &seq));	/* over seq 1, unread */
	tu_assert_u64(seq, 3);
	read_header("ow", &h);
	tu_assert_u64(h.overruns, 1);
	tu_assert_ok(woof_append(w, &x, NULL, &seq));	/* over seq 2, unread */
	read_header("ow", &h);
	tu_assert_u64(h.overruns, 2);
	woof_close(w);
}
