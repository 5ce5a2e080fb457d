/* SPDX-License-Identifier: MIT */
/*
 * error.c - messages for the errno values libwoof returns, in the words of
 * WOOFs rather than of files.
 */
#include <errno.h>
#include <string.h>

#include "woof-internal.h"

const char *woof_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:		return "success";
	case EINVAL:	return "invalid argument (name, size, flag or reserved field)";
	case ENAMETOOLONG: return "name too long (a WOOF name has at most 255 bytes)";
	case ENOENT:	return "no such WOOF or namespace";
	case EEXIST:	return "a WOOF (of another geometry) or another file already has that name";
	case EBADMSG:	return "not a WOOF (missing or corrupt header)";
	case ENODATA:	return "no such element (the WOOF is empty or the element is no longer retained)";
	case ERANGE:	return "sequence number not assigned yet";
	case ESTALE:	return "the WOOF was re-created or removed; open it again";
	case EREMOTE:	return "remote namespaces are not available yet (only this host's woof:// names resolve)";
	case EFBIG:	return "element size times history size is too large";
	case EUSERS:	return "too many appending processes in this namespace";
	case EBUSY:	return "the WOOF is served by the kernel module; use its device";
	case ELOOP:	return "the name is a symbolic link; WOOFs are never followed through links";
	case ETIMEDOUT:	return "timed out";
	default:	return strerror(err < 0 ? -err : err);
	}
}

const char *woof_version(void)
{
	return WOOF_VERSION_STRING;
}
