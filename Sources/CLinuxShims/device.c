// Device group lookup: getgrgid_r needs a sized scratch buffer, simpler to manage in C; used to
// say which group a non-root service user must join.
#include "CLinuxShims.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <sys/stat.h>

int rpl_device_group(const char *path, char *buf, size_t len) {
    struct stat st;
    if (stat(path, &st) < 0) return -1;
    struct group entry, *result = NULL;
    char scratch[4096];
    if (getgrgid_r(st.st_gid, &entry, scratch, sizeof(scratch), &result) == 0 && result) {
        snprintf(buf, len, "%s", result->gr_name);
    } else {
        snprintf(buf, len, "%u", (unsigned)st.st_gid);
    }
    return 0;
}
