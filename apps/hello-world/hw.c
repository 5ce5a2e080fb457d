/*
 * hw.c - the hello-world handler: greets, then names the WOOF, the
 * sequence number and the string it was triggered with.
 */
#include <stdio.h>

#include "woofc.h"
#include "hw.h"

int hw(WOOF *wf, unsigned long seq_no, void *ptr);

int hw(WOOF *wf, unsigned long seq_no, void *ptr)
{
	const HW_EL *el = ptr;

	printf("hello world\n");
	printf("from woof %s at %lu with string: %s\n", wf->shared->filename, seq_no,
	       el->string);
	fflush(stdout);
	return 1;
}
