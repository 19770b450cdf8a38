// GPIO over libgpiod, one API for 1.6 and 2.x (see include/CLinuxShims.h for why).
#define _GNU_SOURCE
#include "CLinuxShims.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gpiod.h>

// libgpiod 1.x defines GPIOD_API in its public header; 2.x moved it into the library's private
// internal.h and ships no version macro, so its absence identifies 2.x headers.
#if defined(REPLENISH_GPIOD_V2) || !defined(GPIOD_API)
#define RPL_GPIOD_V2 1
#else
#define RPL_GPIOD_V2 0
#endif

struct rpl_gpio_chip {
    struct gpiod_chip *chip;
    char path[PATH_MAX];
    char name[64];
    char label[64];
};

#if RPL_GPIOD_V2
struct rpl_gpio_request {
    struct gpiod_line_request *request;
    struct gpiod_edge_event_buffer *events; // NULL unless requested for edge events
    unsigned int offset;
};
#else
struct rpl_gpio_request {
    struct gpiod_line *line; // owned by the chip in 1.6
};
#endif

// Frees memory without letting free() or a cleanup call clobber the errno being reported.
static void *fail_keeping_errno(void *allocated) {
    int saved = errno;
    free(allocated);
    errno = saved;
    return NULL;
}

static void copy_string(char *dst, size_t len, const char *src) {
    if (len == 0) return;
    snprintf(dst, len, "%s", src ? src : "");
}

int rpl_gpio_api_major(void) { return RPL_GPIOD_V2 ? 2 : 1; }

// MARK: chips

// Opens one device path and caches name and label, so both versions answer the same getters.
static rpl_gpio_chip *open_path(const char *path) {
    rpl_gpio_chip *chip = calloc(1, sizeof(*chip));
    if (!chip) return NULL;
    chip->chip = gpiod_chip_open(path);
    if (!chip->chip) return fail_keeping_errno(chip);
    copy_string(chip->path, sizeof(chip->path), path);
#if RPL_GPIOD_V2
    struct gpiod_chip_info *info = gpiod_chip_get_info(chip->chip);
    if (!info) {
        int saved = errno;
        gpiod_chip_close(chip->chip);
        errno = saved;
        return fail_keeping_errno(chip);
    }
    copy_string(chip->name, sizeof(chip->name), gpiod_chip_info_get_name(info));
    copy_string(chip->label, sizeof(chip->label), gpiod_chip_info_get_label(info));
    gpiod_chip_info_free(info);
#else
    copy_string(chip->name, sizeof(chip->name), gpiod_chip_name(chip->chip));
    copy_string(chip->label, sizeof(chip->label), gpiod_chip_label(chip->chip));
#endif
    return chip;
}

static int is_gpiochip_entry(const struct dirent *entry) {
    return strncmp(entry->d_name, "gpiochip", 8) == 0;
}

// Our own lookup instead of 1.6's gpiod_chip_open_lookup (gone in 2.x): it keeps EACCES visible
// so the caller can say which group grants access, instead of a bare "not found".
rpl_gpio_chip *rpl_gpio_chip_open(const char *spec) {
    if (!spec || !*spec) {
        errno = EINVAL;
        return NULL;
    }
    if (spec[0] == '/') return open_path(spec);

    char path[PATH_MAX];
    if (!strchr(spec, '/')) {
        snprintf(path, sizeof(path), "/dev/%s", spec);
        if (access(path, F_OK) == 0) return open_path(path);
    }

    struct dirent **entries = NULL;
    int count = scandir("/dev", &entries, is_gpiochip_entry, versionsort);
    if (count < 0) return NULL;
    bool denied = false;
    rpl_gpio_chip *found = NULL;
    for (int i = 0; i < count; i++) {
        if (!found) {
            snprintf(path, sizeof(path), "/dev/%s", entries[i]->d_name);
            rpl_gpio_chip *chip = open_path(path);
            if (!chip) {
                if (errno == EACCES || errno == EPERM) denied = true;
            } else if (strcmp(chip->label, spec) == 0) {
                found = chip;
            } else {
                rpl_gpio_chip_close(chip);
            }
        }
        free(entries[i]);
    }
    free(entries);
    if (!found) errno = denied ? EACCES : ENOENT;
    return found;
}

void rpl_gpio_chip_close(rpl_gpio_chip *chip) {
    if (!chip) return;
    gpiod_chip_close(chip->chip);
    free(chip);
}

const char *rpl_gpio_chip_name(rpl_gpio_chip *chip) { return chip->name; }
const char *rpl_gpio_chip_label(rpl_gpio_chip *chip) { return chip->label; }
const char *rpl_gpio_chip_path(rpl_gpio_chip *chip) { return chip->path; }

int rpl_gpio_chip_num_lines(rpl_gpio_chip *chip) {
#if RPL_GPIOD_V2
    struct gpiod_chip_info *info = gpiod_chip_get_info(chip->chip);
    if (!info) return -1;
    int count = (int)gpiod_chip_info_get_num_lines(info);
    gpiod_chip_info_free(info);
    return count;
#else
    return (int)gpiod_chip_num_lines(chip->chip);
#endif
}

int rpl_gpio_chip_find_line(rpl_gpio_chip *chip, const char *name) {
#if RPL_GPIOD_V2
    return gpiod_chip_get_line_offset_from_name(chip->chip, name);
#else
    struct gpiod_line *line = gpiod_chip_find_line(chip->chip, name);
    if (!line) {
        if (errno == 0) errno = ENOENT;
        return -1;
    }
    return (int)gpiod_line_offset(line);
#endif
}

int rpl_gpio_line_consumer(rpl_gpio_chip *chip, unsigned int offset, char *buf, size_t len) {
    copy_string(buf, len, "");
#if RPL_GPIOD_V2
    struct gpiod_line_info *info = gpiod_chip_get_line_info(chip->chip, offset);
    if (!info) return -1;
    int used = gpiod_line_info_is_used(info) ? 1 : 0;
    copy_string(buf, len, gpiod_line_info_get_consumer(info));
    gpiod_line_info_free(info);
    return used;
#else
    struct gpiod_line *line = gpiod_chip_get_line(chip->chip, offset);
    if (!line) return -1;
    if (gpiod_line_update(line) < 0) return -1;
    copy_string(buf, len, gpiod_line_consumer(line));
    return gpiod_line_is_used(line) ? 1 : 0;
#endif
}

// MARK: requests

#if RPL_GPIOD_V2

enum request_kind { REQUEST_INPUT, REQUEST_OUTPUT, REQUEST_EVENTS };

// libgpiod 2.x builds a request from three config objects; this folds them into one call and
// frees them on every path.
static rpl_gpio_request *request_line(rpl_gpio_chip *chip, unsigned int offset, const char *consumer,
                                      enum request_kind kind, rpl_gpio_edge edge, bool active_low,
                                      rpl_gpio_bias bias, int initial_value) {
    rpl_gpio_request *result = NULL;
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    struct gpiod_line_config *line_config = gpiod_line_config_new();
    struct gpiod_request_config *request_config = gpiod_request_config_new();
    rpl_gpio_request *request = calloc(1, sizeof(*request));
    int failed = !settings || !line_config || !request_config || !request;

    if (!failed) {
        static const enum gpiod_line_bias biases[] = {
            GPIOD_LINE_BIAS_AS_IS, GPIOD_LINE_BIAS_DISABLED,
            GPIOD_LINE_BIAS_PULL_UP, GPIOD_LINE_BIAS_PULL_DOWN,
        };
        request->offset = offset;
        gpiod_line_settings_set_active_low(settings, active_low);
        if (kind == REQUEST_OUTPUT) {
            failed |= gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT);
            failed |= gpiod_line_settings_set_output_value(
                settings, initial_value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
        } else {
            failed |= gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT);
            if ((unsigned)bias > RPL_GPIO_BIAS_PULL_DOWN) {
                errno = EINVAL;
                failed = 1;
            } else {
                failed |= gpiod_line_settings_set_bias(settings, biases[bias]);
            }
        }
        if (kind == REQUEST_EVENTS) {
            enum gpiod_line_edge mode = edge == RPL_GPIO_EDGE_RISING    ? GPIOD_LINE_EDGE_RISING
                                        : edge == RPL_GPIO_EDGE_FALLING ? GPIOD_LINE_EDGE_FALLING
                                                                        : GPIOD_LINE_EDGE_BOTH;
            failed |= gpiod_line_settings_set_edge_detection(settings, mode);
            // The uAPI v2 kernel queue can be deeper than 1.6's fixed 16; ask for the most.
            gpiod_request_config_set_event_buffer_size(request_config, 1024);
            request->events = gpiod_edge_event_buffer_new(RPL_GPIO_EVENT_BATCH);
            failed |= request->events == NULL;
        }
    }
    if (!failed) failed = gpiod_line_config_add_line_settings(line_config, &offset, 1, settings) < 0;
    if (!failed) {
        gpiod_request_config_set_consumer(request_config, consumer);
        request->request = gpiod_chip_request_lines(chip->chip, request_config, line_config);
        failed = request->request == NULL;
    }

    int saved = errno;
    if (failed) {
        if (request && request->events) gpiod_edge_event_buffer_free(request->events);
        free(request);
    } else {
        result = request;
    }
    gpiod_request_config_free(request_config);
    gpiod_line_config_free(line_config);
    gpiod_line_settings_free(settings);
    errno = saved;
    return result;
}

rpl_gpio_request *rpl_gpio_request_input(rpl_gpio_chip *chip, unsigned int offset,
                                         const char *consumer, bool active_low, rpl_gpio_bias bias) {
    return request_line(chip, offset, consumer, REQUEST_INPUT, RPL_GPIO_EDGE_BOTH, active_low, bias, 0);
}

rpl_gpio_request *rpl_gpio_request_output(rpl_gpio_chip *chip, unsigned int offset,
                                          const char *consumer, bool active_low, int initial_value) {
    return request_line(chip, offset, consumer, REQUEST_OUTPUT, RPL_GPIO_EDGE_BOTH, active_low,
                        RPL_GPIO_BIAS_AS_IS, initial_value);
}

rpl_gpio_request *rpl_gpio_request_events(rpl_gpio_chip *chip, unsigned int offset,
                                          const char *consumer, rpl_gpio_edge edge,
                                          bool active_low, rpl_gpio_bias bias) {
    return request_line(chip, offset, consumer, REQUEST_EVENTS, edge, active_low, bias, 0);
}

int rpl_gpio_get_value(rpl_gpio_request *request) {
    enum gpiod_line_value value = gpiod_line_request_get_value(request->request, request->offset);
    return value == GPIOD_LINE_VALUE_ERROR ? -1 : (value == GPIOD_LINE_VALUE_ACTIVE ? 1 : 0);
}

int rpl_gpio_set_value(rpl_gpio_request *request, int value) {
    return gpiod_line_request_set_value(request->request, request->offset,
                                        value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
}

int rpl_gpio_request_fd(rpl_gpio_request *request) {
    return gpiod_line_request_get_fd(request->request);
}

int rpl_gpio_read_events(rpl_gpio_request *request, rpl_gpio_edge_event *events, unsigned int max) {
    if (!request->events) {
        errno = EINVAL;
        return -1;
    }
    if (max > RPL_GPIO_EVENT_BATCH) max = RPL_GPIO_EVENT_BATCH;
    int count = gpiod_line_request_read_edge_events(request->request, request->events, max);
    if (count < 0) return -1;
    for (int i = 0; i < count; i++) {
        struct gpiod_edge_event *event = gpiod_edge_event_buffer_get_event(request->events, (unsigned long)i);
        events[i].edge = gpiod_edge_event_get_event_type(event) == GPIOD_EDGE_EVENT_RISING_EDGE
                             ? RPL_GPIO_EDGE_RISING : RPL_GPIO_EDGE_FALLING;
        events[i].timestamp_ns = gpiod_edge_event_get_timestamp_ns(event);
    }
    return count;
}

void rpl_gpio_request_release(rpl_gpio_request *request) {
    if (!request) return;
    gpiod_line_request_release(request->request);
    if (request->events) gpiod_edge_event_buffer_free(request->events);
    free(request);
}

#else // libgpiod 1.6

static int bias_flags(rpl_gpio_bias bias) {
    switch (bias) {
    case RPL_GPIO_BIAS_DISABLE: return GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
    case RPL_GPIO_BIAS_PULL_UP: return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
    case RPL_GPIO_BIAS_PULL_DOWN: return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
    default: return 0;
    }
}

// 1.6 requests go through a config struct and a line object owned by the chip; this makes it one
// call with the same shape as the 2.x path.
static rpl_gpio_request *request_line(rpl_gpio_chip *chip, unsigned int offset, const char *consumer,
                                      int type, int flags, int initial_value) {
    struct gpiod_line *line = gpiod_chip_get_line(chip->chip, offset);
    if (!line) return NULL;
    rpl_gpio_request *request = calloc(1, sizeof(*request));
    if (!request) return NULL;
    struct gpiod_line_request_config config = {.consumer = consumer, .request_type = type, .flags = flags};
    if (gpiod_line_request(line, &config, initial_value) < 0) return fail_keeping_errno(request);
    request->line = line;
    return request;
}

rpl_gpio_request *rpl_gpio_request_input(rpl_gpio_chip *chip, unsigned int offset,
                                         const char *consumer, bool active_low, rpl_gpio_bias bias) {
    int flags = bias_flags(bias) | (active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0);
    return request_line(chip, offset, consumer, GPIOD_LINE_REQUEST_DIRECTION_INPUT, flags, 0);
}

rpl_gpio_request *rpl_gpio_request_output(rpl_gpio_chip *chip, unsigned int offset,
                                          const char *consumer, bool active_low, int initial_value) {
    int flags = active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
    return request_line(chip, offset, consumer, GPIOD_LINE_REQUEST_DIRECTION_OUTPUT, flags,
                        initial_value ? 1 : 0);
}

rpl_gpio_request *rpl_gpio_request_events(rpl_gpio_chip *chip, unsigned int offset,
                                          const char *consumer, rpl_gpio_edge edge,
                                          bool active_low, rpl_gpio_bias bias) {
    int type = edge == RPL_GPIO_EDGE_RISING    ? GPIOD_LINE_REQUEST_EVENT_RISING_EDGE
               : edge == RPL_GPIO_EDGE_FALLING ? GPIOD_LINE_REQUEST_EVENT_FALLING_EDGE
                                               : GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES;
    int flags = bias_flags(bias) | (active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0);
    return request_line(chip, offset, consumer, type, flags, 0);
}

int rpl_gpio_get_value(rpl_gpio_request *request) { return gpiod_line_get_value(request->line); }

int rpl_gpio_set_value(rpl_gpio_request *request, int value) {
    return gpiod_line_set_value(request->line, value ? 1 : 0);
}

int rpl_gpio_request_fd(rpl_gpio_request *request) { return gpiod_line_event_get_fd(request->line); }

int rpl_gpio_read_events(rpl_gpio_request *request, rpl_gpio_edge_event *events, unsigned int max) {
    struct gpiod_line_event batch[RPL_GPIO_EVENT_BATCH];
    if (max > RPL_GPIO_EVENT_BATCH) max = RPL_GPIO_EVENT_BATCH;
    int count = gpiod_line_event_read_multiple(request->line, batch, max);
    if (count < 0) return -1;
    for (int i = 0; i < count; i++) {
        events[i].edge = batch[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE
                             ? RPL_GPIO_EDGE_RISING : RPL_GPIO_EDGE_FALLING;
        events[i].timestamp_ns = (uint64_t)batch[i].ts.tv_sec * 1000000000ull + (uint64_t)batch[i].ts.tv_nsec;
    }
    return count;
}

void rpl_gpio_request_release(rpl_gpio_request *request) {
    if (!request) return;
    gpiod_line_release(request->line);
    free(request);
}

#endif

// MARK: waiting

// One ppoll() on the line fd and an optional wake fd (gpiomon's pattern): nanosecond timeouts,
// no spinning, and shutdown can interrupt a wait without a signal.
int rpl_gpio_wait_events(rpl_gpio_request *request, int64_t timeout_ns, int wake_fd) {
    int line_fd = rpl_gpio_request_fd(request);
    if (line_fd < 0) return -1;
    struct pollfd fds[2] = {
        {.fd = line_fd, .events = POLLIN | POLLPRI},
        {.fd = wake_fd, .events = POLLIN},
    };
    nfds_t count = wake_fd >= 0 ? 2 : 1;
    struct timespec timeout = {
        .tv_sec = (time_t)(timeout_ns / 1000000000),
        .tv_nsec = (long)(timeout_ns % 1000000000),
    };
    int ready = ppoll(fds, count, timeout_ns < 0 ? NULL : &timeout, NULL);
    if (ready <= 0) return ready;
    if (fds[0].revents & (POLLERR | POLLNVAL)) {
        errno = EIO;
        return -1;
    }
    if (fds[0].revents & (POLLIN | POLLPRI)) return 1;
    return 2;
}
