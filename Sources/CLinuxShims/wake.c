// eventfd wrappers: Swift's Glibc overlay does not reliably export <sys/eventfd.h>, and the flags
// are macros.
#include "CLinuxShims.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int rpl_wake_fd_new(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int rpl_wake_fd_signal(int fd) {
    uint64_t one = 1;
    return write(fd, &one, sizeof(one)) == (ssize_t)sizeof(one) ? 0 : -1;
}

int rpl_wake_fd_drain(int fd) {
    uint64_t value;
    if (read(fd, &value, sizeof(value)) < 0 && errno != EAGAIN) return -1;
    return 0;
}
