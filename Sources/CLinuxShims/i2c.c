// i2c-dev: ioctl request numbers (I2C_SLAVE, I2C_SMBUS) are macros Swift cannot import, and the
// transfer structs come from the kernel's own <linux/i2c.h> and <linux/i2c-dev.h>.
#include "CLinuxShims.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/i2c-dev.h>
#include <linux/i2c.h>

int rpl_i2c_open(int bus) {
    if (bus < 0) {
        errno = EINVAL;
        return -1;
    }
    char path[32];
    snprintf(path, sizeof(path), "/dev/i2c-%d", bus);
    return open(path, O_RDWR | O_CLOEXEC);
}

int rpl_i2c_set_address(int fd, uint16_t address) {
    return ioctl(fd, I2C_SLAVE, (unsigned long)address) < 0 ? -1 : 0;
}

// The SMBus transfer as i2c-tools' i2c_smbus_access does it, with the kernel's own structs.
static int smbus_access(int fd, uint8_t read_write, uint8_t command, uint32_t size,
                        union i2c_smbus_data *data) {
    struct i2c_smbus_ioctl_data args = {
        .read_write = read_write, .command = command, .size = size, .data = data,
    };
    return ioctl(fd, I2C_SMBUS, &args) < 0 ? -1 : 0;
}

int rpl_i2c_smbus_read_byte_data(int fd, uint8_t command) {
    union i2c_smbus_data data;
    if (smbus_access(fd, I2C_SMBUS_READ, command, I2C_SMBUS_BYTE_DATA, &data) < 0) return -1;
    return data.byte;
}

int32_t rpl_i2c_smbus_read_word_data(int fd, uint8_t command) {
    union i2c_smbus_data data;
    if (smbus_access(fd, I2C_SMBUS_READ, command, I2C_SMBUS_WORD_DATA, &data) < 0) return -1;
    return data.word;
}

int rpl_i2c_smbus_write_word_data(int fd, uint8_t command, uint16_t value) {
    union i2c_smbus_data data = {.word = value};
    return smbus_access(fd, I2C_SMBUS_WRITE, command, I2C_SMBUS_WORD_DATA, &data);
}
