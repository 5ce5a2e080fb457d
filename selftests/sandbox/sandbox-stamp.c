/* SPDX-License-Identifier: MIT */
/*
 * sandbox-stamp.c - benchmark helper for test-sandbox --bench: a trivial
 * dynamically linked "handler" that writes the CLOCK_MONOTONIC time at
 * which its main() started (a double, microseconds) to fd 3 and exits.
 */
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	double us = t.tv_sec * 1e6 + t.tv_nsec / 1e3;
	return write(3, &us, sizeof us) == sizeof us ? 0 : 1;
}
