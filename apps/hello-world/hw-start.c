/*
 * hw-start.c - starts hello-world: creates the WOOF (history 5) and puts
 * the first string into it with the hw handler named.
 */
#include "woofc.h"
#include "hw.h"
#include "hw-common.h"

int main(int argc, char **argv)
{
	struct hw_args a;
	unsigned long seq;
	HW_EL el;

	hw_parse_args(argc, argv, "hw-start", &a);
	WooFInit();
	if (WooFCreate(a.woof, sizeof(HW_EL), 5) < 0) {
		fprintf(stderr, "hw-start: cannot create WOOF %s\n", a.woof);
		return 1;
	}
	memset(&el, 0, sizeof(el));
	snprintf(el.string, sizeof(el.string), "%s", "my first bark");
	seq = WooFPut(a.woof, "hw", &el);
	if (WooFInvalid(seq)) {
		fprintf(stderr, "hw-start: put to %s failed\n", a.woof);
		return 1;
	}
	printf("successfully appended %s to %s at seq_no %lu\n", el.string, a.woof, seq);
	return 0;
}
