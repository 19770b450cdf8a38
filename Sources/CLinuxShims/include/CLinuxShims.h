// CLinuxShims: the one C API that ReplenishHardware imports for GPIO (libgpiod) and I2C (i2c-dev).
//
// Why a shim at all: libgpiod 1.6 and 2.x are incompatible APIs (the 1.x -> 2.x break crashed
// other daemons), and Swift cannot import i2c-dev's ioctl request numbers or use the kernel's
// `union i2c_smbus_data` safely by re-declaring it. Everything here is chosen at build time:
// libgpiod 1.6 by default, 2.x with -DREPLENISH_GPIOD_V2 (or when gpiod.h lacks 1.x's GPIOD_API).
//
// Conventions: functions returning int return -1 and set errno on failure; functions returning a
// pointer return NULL and set errno. Every call may block the calling thread (callers run them on
// a dedicated thread, never on Swift's cooperative pool).
#ifndef REPLENISH_CLINUXSHIMS_H
#define REPLENISH_CLINUXSHIMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - GPIO (libgpiod)

/// An open GPIO chip (wraps `struct gpiod_chip`).
typedef struct rpl_gpio_chip rpl_gpio_chip;
/// A requested line (1.6: a `struct gpiod_line` in requested state; 2.x: a `gpiod_line_request`).
typedef struct rpl_gpio_request rpl_gpio_request;

typedef enum {
    RPL_GPIO_BIAS_AS_IS = 0,
    RPL_GPIO_BIAS_DISABLE = 1,
    RPL_GPIO_BIAS_PULL_UP = 2,
    RPL_GPIO_BIAS_PULL_DOWN = 3,
} rpl_gpio_bias;

typedef enum {
    RPL_GPIO_EDGE_RISING = 1,
    RPL_GPIO_EDGE_FALLING = 2,
    RPL_GPIO_EDGE_BOTH = 3,
} rpl_gpio_edge;

/// One edge event, independent of the libgpiod version.
typedef struct {
    /// RPL_GPIO_EDGE_RISING or RPL_GPIO_EDGE_FALLING.
    int32_t edge;
    /// Kernel timestamp in nanoseconds (CLOCK_MONOTONIC by default in both versions).
    uint64_t timestamp_ns;
} rpl_gpio_edge_event;

/// Events read per read() from the line's fd: more than the kernel's 16-event per-line queue,
/// so one batch drains a full queue.
#define RPL_GPIO_EVENT_BATCH 64

/// 1 when built against libgpiod 2.x, 0 for 1.6 (for messages and logs).
int rpl_gpio_api_major(void);

/// Opens a chip by path ("/dev/gpiochip0"), name ("gpiochip0") or label ("gpio-sim.0-node0",
/// found by scanning /dev/gpiochip*). Unknown name or label: NULL with errno ENOENT; a label not
/// found while some chip could not be opened for lack of permission: EACCES.
rpl_gpio_chip *rpl_gpio_chip_open(const char *spec);
void rpl_gpio_chip_close(rpl_gpio_chip *chip);
/// Kernel name ("gpiochip0"), label ("pinctrl-bcm2835") and device path; owned by the chip.
const char *rpl_gpio_chip_name(rpl_gpio_chip *chip);
const char *rpl_gpio_chip_label(rpl_gpio_chip *chip);
const char *rpl_gpio_chip_path(rpl_gpio_chip *chip);
int rpl_gpio_chip_num_lines(rpl_gpio_chip *chip);

/// Offset of the line named `name` on this chip, or -1 with errno ENOENT.
int rpl_gpio_chip_find_line(rpl_gpio_chip *chip, const char *name);
/// Copies the line's consumer into `buf` (empty when none). Returns 1 when the line is in use,
/// 0 when free, -1 on error (EINVAL: offset out of range).
int rpl_gpio_line_consumer(rpl_gpio_chip *chip, unsigned int offset, char *buf, size_t len);

rpl_gpio_request *rpl_gpio_request_input(rpl_gpio_chip *chip, unsigned int offset,
                                         const char *consumer, bool active_low, rpl_gpio_bias bias);
rpl_gpio_request *rpl_gpio_request_output(rpl_gpio_chip *chip, unsigned int offset,
                                          const char *consumer, bool active_low, int initial_value);
rpl_gpio_request *rpl_gpio_request_events(rpl_gpio_chip *chip, unsigned int offset,
                                          const char *consumer, rpl_gpio_edge edge,
                                          bool active_low, rpl_gpio_bias bias);
/// Logical value (active-low applied): 0 or 1, or -1.
int rpl_gpio_get_value(rpl_gpio_request *request);
int rpl_gpio_set_value(rpl_gpio_request *request, int value);
/// The fd that becomes readable when edge events are queued.
int rpl_gpio_request_fd(rpl_gpio_request *request);
/// Waits up to timeout_ns (negative: forever) for events, or for `wake_fd` (ignored when < 0) to
/// become readable, in one poll() as gpiomon does with its signalfd. Returns 1 when events are
/// queued, 2 when only wake_fd is readable, 0 on timeout, -1 on error (EINTR included: retry).
int rpl_gpio_wait_events(rpl_gpio_request *request, int64_t timeout_ns, int wake_fd);
/// Reads up to `max` queued events (blocks if none are queued). Returns the count or -1.
int rpl_gpio_read_events(rpl_gpio_request *request, rpl_gpio_edge_event *events, unsigned int max);
/// Releases the line. The request must not be used afterwards. With libgpiod 1.6 the chip must
/// still be open (the line belongs to it).
void rpl_gpio_request_release(rpl_gpio_request *request);

// MARK: - Wake-ups

/// A non-blocking, close-on-exec eventfd used to wake a thread blocked in rpl_gpio_wait_events.
int rpl_wake_fd_new(void);
/// Makes the wake fd readable (idempotent until drained).
int rpl_wake_fd_signal(int fd);
/// Drains the wake fd.
int rpl_wake_fd_drain(int fd);

// MARK: - I2C (i2c-dev)

/// Opens /dev/i2c-<bus> read-write, close-on-exec. Returns the fd or -1.
int rpl_i2c_open(int bus);
/// Selects the 7-bit device address for following transfers (ioctl I2C_SLAVE; EBUSY when a
/// kernel driver has claimed the address).
int rpl_i2c_set_address(int fd, uint16_t address);
/// SMBus "read byte data": returns the byte (0...255) or -1.
int rpl_i2c_smbus_read_byte_data(int fd, uint8_t command);
/// SMBus "read word data": returns the word (0...65535, low byte first on the wire) or -1.
int32_t rpl_i2c_smbus_read_word_data(int fd, uint8_t command);
int rpl_i2c_smbus_write_word_data(int fd, uint8_t command, uint16_t value);

// MARK: - Device access (for error messages)

/// Copies the name of the group owning `path` (e.g. "gpio", "i2c") into `buf`. Returns 0, or -1
/// (ENOENT when the path does not exist; the gid as a number when the group has no name).
int rpl_device_group(const char *path, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
