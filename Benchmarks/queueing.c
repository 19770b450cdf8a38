/*
 * queueing: how many reports per second SQLite commits to the outbox, the way replenishd's store
 * does it and the plain way, on the same disk, with the same schema and journal settings.
 *
 *   queueing TEMPLATE_DB OUT_DB MODE COUNT [OUTBOX_LIMIT_BYTES]
 *
 * TEMPLATE_DB is a state database written by replenishd itself: its schema (sqlite_master) is
 * copied verbatim, and its rows give the bytes to write (one real status report payload, the real
 * slot_state blobs, the day-accounting and policy values). OUT_DB is created afresh.
 * Every mode opens OUT_DB like Sources/ReplenishStore does: NOMUTEX, journal_mode=WAL,
 * synchronous=FULL, foreign_keys=ON; statements are prepared once and reused.
 *
 * MODE
 *   daemon   one transaction per report with the statements LedgerKeeper.commitOnce runs for a
 *            status report: BEGIN IMMEDIATE; UPDATE seq_counter ... RETURNING; INSERT INTO outbox
 *            ... SELECT ... FROM seq_counter; the eviction DELETE ... RETURNING against
 *            OUTBOX_LIMIT_BYTES; an upsert per slot_state row; upserts of day.accounting and each
 *            policy.* value; COMMIT. (No JSON encoding: the payload bytes are fixed.)
 *   daemon-noevict  the same without the eviction query, to show what that query costs.
 *   plain    one transaction per report: BEGIN IMMEDIATE; INSERT INTO outbox VALUES (...); COMMIT.
 *   batched  100 reports per transaction: BEGIN IMMEDIATE; 100 x INSERT; COMMIT.
 *
 * Prints one JSON object: mode, count, seconds, rate, and the seconds of each 1000 reports.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sqlite3 *db;

static void die(const char *what) {
    fprintf(stderr, "queueing: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
    exit(1);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void exec(const char *sql) {
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) die(sql);
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) die(sql);
    return s;
}

static void run(sqlite3_stmt *s) {
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {}
    if (rc != SQLITE_DONE) die(sqlite3_sql(s));
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

typedef struct { char *key; void *blob; int len; } Row;

static Row *load_rows(sqlite3 *src, const char *sql, int *count) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(src, sql, -1, &s, NULL) != SQLITE_OK) { db = src; die(sql); }
    Row *rows = NULL;
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        rows = realloc(rows, sizeof(Row) * (n + 1));
        rows[n].key = strdup((const char *)sqlite3_column_text(s, 0));
        rows[n].len = sqlite3_column_bytes(s, 1);
        rows[n].blob = calloc(1, rows[n].len + 1);  /* NUL-terminated: schema rows are SQL text */
        memcpy(rows[n].blob, sqlite3_column_blob(s, 1), rows[n].len);
        n++;
    }
    sqlite3_finalize(s);
    *count = n;
    return rows;
}

/* ?1 seq, ?2 topic, ?3 kind, ?4 payload, ?5 created_at: the outbox row of one status report. */
static void bind_report(sqlite3_stmt *s, sqlite3_int64 seq, const Row *payload, double created) {
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_text(s, 2, payload->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, "status", -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, payload->blob, payload->len, SQLITE_STATIC);
    sqlite3_bind_double(s, 5, created);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: queueing TEMPLATE_DB OUT_DB daemon|daemon-noevict|plain|batched COUNT [OUTBOX_LIMIT_BYTES]\n");
        return 2;
    }
    const char *template = argv[1], *out = argv[2], *mode = argv[3];
    long count = atol(argv[4]);
    long long limit = argc > 5 ? atoll(argv[5]) : 4LL << 20;

    sqlite3 *src;
    if (sqlite3_open_v2(template, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) { db = src; die("open template"); }
    int nschema, npayload, nslots, nvalues;
    Row *schema = load_rows(src, "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid", &nschema);
    Row *payload = load_rows(src, "SELECT topic, payload FROM outbox WHERE kind = 'status' ORDER BY seq DESC LIMIT 1",
                             &npayload);
    Row *slots = load_rows(src, "SELECT slot_id, state FROM slot_state ORDER BY slot_id", &nslots);
    Row *values = load_rows(src,
        "SELECT key, value FROM agent_value WHERE key = 'day.accounting' OR key LIKE 'policy.%' ORDER BY key", &nvalues);
    sqlite3_close(src);
    if (npayload != 1) { fprintf(stderr, "queueing: the template has no status report in its outbox\n"); return 1; }

    char path[4096];
    unlink(out);
    snprintf(path, sizeof path, "%s-wal", out); unlink(path);
    snprintf(path, sizeof path, "%s-shm", out); unlink(path);
    if (sqlite3_open_v2(out, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        die("open");
    exec("PRAGMA journal_mode = WAL");
    exec("PRAGMA synchronous = FULL");
    exec("PRAGMA foreign_keys = ON");
    exec("BEGIN IMMEDIATE");
    for (int i = 0; i < nschema; i++) exec((const char *)schema[i].blob);
    exec("INSERT INTO seq_counter (id, last_seq) VALUES (1, 0)");
    exec("PRAGMA user_version = 1");
    exec("COMMIT");

    /* The statements of Sources/ReplenishStore/StoreTransaction.swift, verbatim. */
    sqlite3_stmt *begin = prepare("BEGIN IMMEDIATE"), *commit = prepare("COMMIT");
    sqlite3_stmt *next_seq = prepare("UPDATE seq_counter SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq");
    sqlite3_stmt *enqueue = prepare(
        "INSERT INTO outbox (seq, topic, kind, payload, created_at)\n"
        "SELECT ?1, ?2, ?3, ?4, ?5 FROM seq_counter WHERE id = 1 AND ?1 <= last_seq");
    sqlite3_stmt *evict = prepare(
        "DELETE FROM outbox WHERE seq IN (\n"
        "    SELECT seq FROM (\n"
        "        SELECT seq, sum(length(payload)) OVER (ORDER BY seq) - length(payload) AS before\n"
        "        FROM outbox WHERE kind = ?1 AND seq != ?3)\n"
        "    WHERE before < (SELECT total(length(payload)) FROM outbox) - ?2)\n"
        "RETURNING seq");
    sqlite3_stmt *slot_state = prepare(
        "INSERT INTO slot_state (slot_id, state) VALUES (?1, ?2)\n"
        "ON CONFLICT (slot_id) DO UPDATE SET state = excluded.state");
    sqlite3_stmt *agent_value = prepare(
        "INSERT INTO agent_value (key, value) VALUES (?1, ?2)\n"
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    sqlite3_stmt *plain = prepare("INSERT INTO outbox (seq, topic, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");

    int batched = strcmp(mode, "batched") == 0, noevict = strcmp(mode, "daemon-noevict") == 0;
    int daemon = noevict || strcmp(mode, "daemon") == 0;
    if (!batched && !daemon && strcmp(mode, "plain") != 0) { fprintf(stderr, "queueing: unknown mode %s\n", mode); return 2; }
    long chunks = (count + 999) / 1000;
    double *chunk = calloc(chunks, sizeof(double));
    double start = now(), mark = start;
    for (long i = 1; i <= count; i++) {
        double created = (double)time(NULL);
        if (!batched || i % 100 == 1) run(begin);
        if (daemon) {
            sqlite3_int64 seq = 0;
            int rc;
            while ((rc = sqlite3_step(next_seq)) == SQLITE_ROW) seq = sqlite3_column_int64(next_seq, 0);
            if (rc != SQLITE_DONE) die("next seq");
            sqlite3_reset(next_seq);
            bind_report(enqueue, seq, payload, created);
            run(enqueue);
            if (sqlite3_changes(db) != 1) die("enqueue inserted nothing");
            if (!noevict) {
                sqlite3_bind_text(evict, 1, "status", -1, SQLITE_STATIC);
                sqlite3_bind_int64(evict, 2, limit);
                sqlite3_bind_int64(evict, 3, seq);
                run(evict);
            }
            for (int k = 0; k < nslots; k++) {
                sqlite3_bind_text(slot_state, 1, slots[k].key, -1, SQLITE_STATIC);
                sqlite3_bind_blob(slot_state, 2, slots[k].blob, slots[k].len, SQLITE_STATIC);
                run(slot_state);
            }
            for (int k = 0; k < nvalues; k++) {
                sqlite3_bind_text(agent_value, 1, values[k].key, -1, SQLITE_STATIC);
                sqlite3_bind_blob(agent_value, 2, values[k].blob, values[k].len, SQLITE_STATIC);
                run(agent_value);
            }
        } else {
            bind_report(plain, i, payload, created);
            run(plain);
        }
        if (!batched || i % 100 == 0 || i == count) run(commit);
        if (i % 1000 == 0 || i == count) {
            double t = now();
            chunk[(i - 1) / 1000] = t - mark;
            mark = t;
        }
    }
    double seconds = now() - start;
    sqlite3_int64 rows = 0;
    sqlite3_stmt *c = prepare("SELECT count(*) FROM outbox");
    if (sqlite3_step(c) == SQLITE_ROW) rows = sqlite3_column_int64(c, 0);
    sqlite3_finalize(c);
    printf("{\"mode\": \"%s\", \"count\": %ld, \"seconds\": %.6f, \"rate\": %.1f, \"payload_bytes\": %d, "
           "\"slot_rows\": %d, \"value_rows\": %d, \"outbox_limit\": %lld, \"outbox_rows_at_end\": %lld, "
           "\"sqlite\": \"%s\", \"per_1000_seconds\": [",
           mode, count, seconds, count / seconds, payload->len, nslots, nvalues, limit, (long long)rows,
           sqlite3_libversion());
    for (long k = 0; k < chunks; k++) printf("%s%.6f", k ? ", " : "", chunk[k]);
    printf("]}\n");
    sqlite3_close_v2(db);
    return 0;
}
