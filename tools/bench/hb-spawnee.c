/* SPDX-License-Identifier: MIT */
/*
 * hb-spawnee.c - woof-bench's fork+exec floor: the smallest dynamically
 * linked program. Its main() stamps CLOCK_MONOTONIC first thing and writes
 * it to fd 3 (when there is one), so the bench can tell how long
 * posix_spawn() took until main() ran.
 */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec ts;
	uint64_t t;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (write(3, &t, sizeof(t)) < 0)
		return 0;
	return 0;
}
