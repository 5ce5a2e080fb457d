/*
 * hw-client.c - puts another string into an existing hello-world WOOF,
 * triggering hw again.
 */
#include "woofc.h"
#include "hw.h"
#include "hw-common.h"

int main(int argc, char **argv)
{
	struct hw_args a;
	unsigned long seq;
	HW_EL el;

	hw_parse_args(argc, argv, "hw-client", &a);
	memset(&el, 0, sizeof(el));
	snprintf(el.string, sizeof(el.string), "%s", "my second bark");
	seq = WooFPut(a.woof, "hw", &el);
	if (WooFInvalid(seq)) {
		fprintf(stderr, "hw-client: put to %s failed\n", a.woof);
		return 1;
	}
	printf("successfully appended %s to %s at seq_no %lu\n", el.string, a.woof, seq);
	return 0;
}
