/* SPDX-License-Identifier: MIT */
/*
 * hexdump.c - element bytes to and from hex: the hex+ASCII dump that
 * "woof get" and "woof tail" print for people (the layout of hexdump -C:
 * offset, 16 bytes in two groups of 8, printable ASCII between bars, runs
 * of identical lines folded into one '*', the total length last), and the
 * parser of "woof put --hex".
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "woofctl.h"

#define LINE 16

static void dump_line(FILE *f, size_t off, const unsigned char *p, size_t n)
{
	fprintf(f, "%08zx ", off);
	for (size_t i = 0; i < LINE; i++) {
		if (i == 8)
			fputc(' ', f);
		if (i < n)
			fprintf(f, " %02x", p[i]);
		else
			fputs("   ", f);
	}
	fputs("  |", f);
	for (size_t i = 0; i < n; i++)
		fputc(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.', f);
	fputs("|\n", f);
}

void hexdump(FILE *f, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	bool folded = false;

	for (size_t off = 0; off < len; off += LINE) {
		size_t n = len - off < LINE ? len - off : LINE;

		/* a full line equal to the one before is folded */
		if (off > 0 && n == LINE && memcmp(p + off, p + off - LINE, LINE) == 0) {
			if (!folded)
				fputs("*\n", f);
			folded = true;
			continue;
		}
		folded = false;
		dump_line(f, off, p + off, n);
	}
	fprintf(f, "%08zx\n", len);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

long long hex_parse(const char *s, void *buf, size_t cap, long *bad)
{
	unsigned char *out = buf;
	long long n = 0;
	int hi = -1;

	for (const char *p = s; *p; p++) {
		int v;

		if (isspace((unsigned char)*p)) {
			if (hi >= 0)		/* a space inside a digit pair */
				goto bad_char;
			continue;
		}
		v = hexval((unsigned char)*p);
		if (v < 0)
			goto bad_char;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if ((size_t)n < cap)
			out[n] = (unsigned char)(hi << 4 | v);
		n++;
		hi = -1;
		continue;
bad_char:
		*bad = p - s;
		return -EINVAL;
	}
	if (hi >= 0) {
		*bad = -1;
		return -EINVAL;
	}
	return n;
}
