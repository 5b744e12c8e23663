/*
 * bench_lmdb.c - the key-value workloads on LMDB.
 *
 * Keys are the rowid as 8 bytes big-endian (so byte order is id order);
 * values are the packed row: the 6 area bytes, then age and active as one
 * byte each. The environment is one file (MDB_NOSUBDIR). Writers use
 * MDB_NOSYNC, the nearest match to synchronous=NORMAL (no sync at commit).
 */
#include "bench.h"

#include <lmdb.h>
#include <stdio.h>
#include <string.h>

#define LMDB_MAP_BYTES ((size_t)64 << 30) /* address space only; the file grows as needed */

static int lm_report(const char *where, const char *what, int rc)
{
    bench_fail("lmdb %s: %s failed: %d %s", where, what, rc, mdb_strerror(rc));
    return -1;
}

#define LM_TRY(call)                                                                               \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != MDB_SUCCESS) {                                                                  \
            lm_report(__func__, #call, rc_);                                                       \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

static void put_be64(unsigned char out[8], int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--) {
        out[i] = (unsigned char)u;
        u >>= 8;
    }
}

static int64_t get_be64(const unsigned char *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)u;
}

static void pack_row(unsigned char out[LMDB_VAL_LEN], const bench_row *r)
{
    memcpy(out, r->area, AREA_LEN);
    out[AREA_LEN] = (unsigned char)r->age;
    out[AREA_LEN + 1] = (unsigned char)r->active;
}

static int lm_digest(const MDB_val *k, const MDB_val *v, uint64_t *sum)
{
    if (k->mv_size != 8 || v->mv_size != LMDB_VAL_LEN) {
        bench_fail("lmdb: entry with key %zu bytes, value %zu bytes", k->mv_size, v->mv_size);
        return -1;
    }
    const unsigned char *p = v->mv_data;
    *sum += row_digest(get_be64(k->mv_data), p, AREA_LEN, p[AREA_LEN], p[AREA_LEN + 1]);
    return 0;
}

static int lm_open(MDB_env **out, const char *path, unsigned flags)
{
    MDB_env *env = NULL;
    *out = NULL;
    LM_TRY(mdb_env_create(&env));
    LM_TRY(mdb_env_set_mapsize(env, LMDB_MAP_BYTES));
    LM_TRY(mdb_env_open(env, path, MDB_NOSUBDIR | flags, 0644));
    *out = env;
    return 0;
fail:
    if (env)
        mdb_env_close(env);
    return -1;
}

int lm_bulk(const char *path, int64_t n, int64_t step, bulk_result *out)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    unsigned char kb[8], vb[LMDB_VAL_LEN];
    MDB_val k = {8, kb}, v = {LMDB_VAL_LEN, vb};
    bench_row r;
    memset(out, 0, sizeof *out);
    double t0 = now_s();
    if (lm_open(&env, path, MDB_NOSYNC) < 0)
        return -1;
    LM_TRY(mdb_txn_begin(env, NULL, 0, &txn));
    LM_TRY(mdb_dbi_open(txn, NULL, 0, &dbi));
    for (int64_t i = 1; i <= n; i++) {
        gen_row(&r, i * step);
        put_be64(kb, r.id);
        pack_row(vb, &r);
        LM_TRY(mdb_put(txn, dbi, &k, &v, MDB_APPEND));
    }
    MDB_txn *done = txn;
    txn = NULL;
    LM_TRY(mdb_txn_commit(done));
    LM_TRY(mdb_env_sync(env, 1));
    mdb_env_close(env);
    out->load_s = out->total_s = now_s() - t0;
    out->file_bytes = file_bytes(path);
    return 0;
fail:
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    return -1;
}

/* n rows, per_txn a transaction, with the keys ids[0..n) (random: they must
 * not exist yet) or, with ids NULL, 1..n (ascending: MDB_APPEND, as in
 * lm_bulk; it fails with MDB_KEYEXIST on a key not above the last one). */
static int lm_insert_txns(const char *path, const int64_t *ids, int64_t n, int per_txn,
                          double *secs)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    unsigned char kb[8], vb[LMDB_VAL_LEN];
    MDB_val k = {8, kb}, v = {LMDB_VAL_LEN, vb};
    bench_row r;
    unsigned flags = ids ? MDB_NOOVERWRITE : MDB_APPEND;
    if (lm_open(&env, path, MDB_NOSYNC) < 0)
        return -1;
    double t0 = now_s();
    for (int64_t first = 0; first < n; first += per_txn) {
        int64_t end = n - first < per_txn ? n : first + per_txn;
        LM_TRY(mdb_txn_begin(env, NULL, 0, &txn));
        LM_TRY(mdb_dbi_open(txn, NULL, 0, &dbi));
        for (int64_t i = first; i < end; i++) {
            gen_row(&r, ids ? ids[i] : i + 1);
            put_be64(kb, r.id);
            pack_row(vb, &r);
            LM_TRY(mdb_put(txn, dbi, &k, &v, flags));
        }
        MDB_txn *done = txn;
        txn = NULL;
        LM_TRY(mdb_txn_commit(done));
    }
    *secs = now_s() - t0;
    mdb_env_close(env);
    return 0;
fail:
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    return -1;
}

int lm_random_insert(const char *path, const int64_t *ids, int ntxn, int per_txn, double *secs)
{
    return lm_insert_txns(path, ids, (int64_t)ntxn * per_txn, per_txn, secs);
}

int lm_batch_insert(const char *path, int64_t n, int per_txn, double *secs)
{
    return lm_insert_txns(path, NULL, n, per_txn, secs);
}

int lm_read(const char *path, read_kind kind, const read_plan *p, read_result *out)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_dbi dbi;
    unsigned char kb[8];
    MDB_val k = {8, kb}, v;
    int rc;
    memset(out, 0, sizeof *out);
    if (lm_open(&env, path, MDB_RDONLY) < 0)
        return -1;
    LM_TRY(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
    LM_TRY(mdb_dbi_open(txn, NULL, 0, &dbi));
    double t0 = now_s();
    if (kind == READ_LOOKUP) {
        for (size_t i = 0; i < p->nids; i++) {
            put_be64(kb, p->ids[i]);
            LM_TRY(mdb_get(txn, dbi, &k, &v));
            if (lm_digest(&k, &v, &out->sum) < 0)
                goto fail;
            out->rows++;
        }
    } else if (kind == READ_SCAN) {
        LM_TRY(mdb_cursor_open(txn, dbi, &cur));
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (lm_digest(&k, &v, &out->sum) < 0)
                goto fail;
            out->rows++;
        }
        if (rc != MDB_NOTFOUND) {
            lm_report(__func__, "mdb_cursor_get", rc);
            goto fail;
        }
        mdb_cursor_close(cur);
        cur = NULL;
    } else {
        bench_fail("lmdb: no secondary index: read kind %d not supported", (int)kind);
        goto fail;
    }
    out->secs = now_s() - t0;
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return 0;
fail:
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    return -1;
}

int lm_mixed(const char *path, const mixed_op *ops, int ntxn, int per_txn, mixed_result *out)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    unsigned char kb[8], vb[LMDB_VAL_LEN];
    MDB_val k = {8, kb}, v;
    bench_row r;
    memset(out, 0, sizeof *out);
    if (lm_open(&env, path, MDB_NOSYNC) < 0)
        return -1;
    double t0 = now_s();
    for (int t = 0; t < ntxn; t++) {
        LM_TRY(mdb_txn_begin(env, NULL, 0, &txn));
        LM_TRY(mdb_dbi_open(txn, NULL, 0, &dbi));
        for (int j = 0; j < per_txn; j++) {
            const mixed_op *op = &ops[(size_t)t * (size_t)per_txn + (size_t)j];
            put_be64(kb, op->id);
            switch (op->kind) {
            case MIXED_READ:
                LM_TRY(mdb_get(txn, dbi, &k, &v));
                if (lm_digest(&k, &v, &out->sum) < 0)
                    goto fail;
                break;
            case MIXED_UPDATE:
                LM_TRY(mdb_get(txn, dbi, &k, &v));
                if (v.mv_size != LMDB_VAL_LEN) {
                    bench_fail("lmdb: value of %lld has %zu bytes", (long long)op->id, v.mv_size);
                    goto fail;
                }
                memcpy(vb, v.mv_data, LMDB_VAL_LEN);
                vb[AREA_LEN] = (unsigned char)op->age;
                vb[AREA_LEN + 1] = (unsigned char)op->active;
                v.mv_size = LMDB_VAL_LEN;
                v.mv_data = vb;
                LM_TRY(mdb_put(txn, dbi, &k, &v, 0));
                break;
            default:
                gen_row(&r, op->id);
                pack_row(vb, &r);
                v.mv_size = LMDB_VAL_LEN;
                v.mv_data = vb;
                LM_TRY(mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE));
                break;
            }
        }
        MDB_txn *done = txn;
        txn = NULL;
        LM_TRY(mdb_txn_commit(done));
    }
    out->secs = now_s() - t0;
    mdb_env_close(env);
    return 0;
fail:
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    return -1;
}
