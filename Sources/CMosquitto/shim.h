#include <mosquitto.h>
// MQTT 5 property identifiers (MQTT_PROP_*) and reason codes.
#include <mqtt_protocol.h>
// OpenSSL, for the one thing libmosquitto does not tell: why the broker's certificate failed
// verification (X509 verify result), read in an info callback on our own SSL_CTX; and whether a
// client key belongs to its certificate, for `check`.
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/err.h>
