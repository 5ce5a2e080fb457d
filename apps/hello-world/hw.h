/* hw.h - the element of the hello-world WOOF: one NUL-terminated string. */
#ifndef HW_H
#define HW_H

#define HW_STRING_MAX 255

typedef struct hw_element {
	char string[HW_STRING_MAX];
} HW_EL;

#endif
