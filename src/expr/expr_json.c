/*
 * expr_json.c - SQLite 3.40's scalar JSON functions: json, json_array,
 * json_array_length, json_extract, json_insert, json_object, json_patch,
 * json_quote, json_remove, json_replace, json_set, json_type, json_valid,
 * and the functions behind the -> and ->> operators.
 *
 * What SQLite 3.40 does, and so what this file does:
 *   - JSON text is parsed into a flat array of nodes, a container followed
 *     by everything inside it; numbers and strings keep the text as written
 *     (1.0e5 stays 1.0e5, "\u0041" stays "\u0041"), so output is the input
 *     minified. RFC 8259 only (JSON5 came in 3.42); whitespace is space, tab,
 *     LF and CR; control characters inside strings, leading zeros, "1.",
 *     ".5" and more than 2000 levels of nesting are malformed. The text ends
 *     at its first NUL.
 *   - Edits never rewrite the array: removed, replaced and patched nodes are
 *     flagged, and members created by json_set/json_insert/json_patch are
 *     new nodes appended after the parse and chained from their container;
 *     output follows the flags and chains. Lookups that come after an edit
 *     in the same call see it the way SQLite's do (a path below a replaced
 *     node finds nothing; $[N] over a container with appended elements skips
 *     to them: json_set('[1,2]','$[#]',3,'$[0]',9) is [1,2,9] in 3.40 too).
 *   - Paths: $, .key, ."key", [N] and [#-N]. Syntax errors are found only
 *     as far as the lookup goes: '$.a[' is an error when $.a exists and
 *     NULL otherwise. The array index wraps as an unsigned 32-bit number.
 *   - An object's member may be named by any value whose last node is a
 *     string ('{["a"]:1}' is valid in 3.40); such members are rendered and
 *     looked up with SQLite's node arithmetic. Where SQLite would read past
 *     the nodes of the parse (garbage) or follow a null pointer (a crash),
 *     this file stops or finds nothing instead.
 *   - Arguments: NULL JSON or path gives NULL; numbers are read as their
 *     text; a text argument carrying EX_SUBTYPE_JSON is inserted as JSON,
 *     other text as a string; a BLOB value is an error. Results that are
 *     JSON text carry EX_SUBTYPE_JSON. Reals extracted from JSON are
 *     converted by strtod (correctly rounded, as the Debian build of 3.40
 *     does); reals given as arguments are written as SQLite writes them
 *     ("%!.15g", sch_real_to_text).
 *
 * Memory: every node array, output buffer and stack comes from ex_scratch,
 * sized before use from the lengths of the arguments (a parse of n bytes
 * has at most (n+1)/2 nodes: see parse_node_bound), so nothing is allocated
 * from the heap per call. Nothing recurses: parsing, rendering, lookups and
 * merge-patching keep explicit stacks, so deep nesting (which json_set can
 * build beyond the parser's 2000 levels) cannot overflow the C stack.
 * Output is produced in two passes over the same code, one that measures
 * and one that writes into a buffer of exactly that size.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_fn.h"
#include "schema/affinity.h"

/* Node types, in SQLite's order (json_type names them); 0 marks the slot
 * after the last node, node[count], which is kept zeroed: every read past
 * a container's nodes lands there at most (see the file comment). */
enum { JT_UNUSED = 0, JT_NULL, JT_TRUE, JT_FALSE, JT_INT, JT_REAL, JT_STRING, JT_ARRAY, JT_OBJECT };

/* Node flags. */
enum {
    JF_RAW = 0x01,     /* a string node whose text is unquoted (a key from a path) */
    JF_ESCAPE = 0x02,  /* a string with backslash escapes */
    JF_REMOVE = 0x04,  /* not written */
    JF_REPLACE = 0x08, /* written as argument u.replace */
    JF_PATCH = 0x10,   /* written as node u.patch */
    JF_APPEND = 0x20,  /* more members or elements at this + u.append */
    JF_LABEL = 0x40    /* the name of an object member */
};

/* SQLite's JSON_MAX_DEPTH: containers nested deeper are malformed JSON. */
#define JSON_DEPTH_MAX 2000
/* Node indexes are 32-bit: longer texts are refused. */
#define JSON_TEXT_BYTES_MAX ((size_t)INT32_MAX)
/* Slots kept past the bound: node[count], always unused, and one that
 * absorbs writes should a bound ever be wrong (the call then fails). */
#define JSON_SPARE_NODES 2
/* Text of an INTEGER or REAL argument. */
#define JSON_NUMBER_TEXT_BYTES 64

typedef struct jnode {
    uint8_t type;
    uint8_t flags;
    uint32_t n; /* bytes of text for leaves, nodes inside for containers */
    union {
        const uint8_t *text; /* INT, REAL, STRING: as written (strings with quotes) */
        uint32_t append;     /* JF_APPEND: offset of the continuation */
        uint32_t replace;    /* JF_REPLACE: index of the argument */
        struct jnode *patch; /* JF_PATCH */
    } u;
} jnode;

typedef struct jparse {
    jnode *node;
    uint32_t count;     /* nodes in use */
    uint32_t cap;       /* slots, JSON_SPARE_NODES of them past the bound */
    uint32_t parse_max; /* nodes a well-formed text can have (parse_node_bound) */
    int full;           /* a bound was wrong: the call fails */
    const uint8_t *z;
    size_t len; /* z[len] and beyond read as 0 */
} jparse;

static const char *const json_type_name[] = {"",     "null", "true",  "false", "integer",
                                             "real", "text", "array", "object"};

static int is_json_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_xdigit(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_alnum(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned hex_value(int c)
{
    return is_digit(c) ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

static uint32_t node_size(const jnode *nd)
{
    return nd->type >= JT_ARRAY ? nd->n + 1 : 1;
}

static int node_has_text(const jnode *nd)
{
    return nd->type == JT_INT || nd->type == JT_REAL || nd->type == JT_STRING;
}

static void set_text(ex_value *out, const void *p, size_t n, unsigned subtype)
{
    out->type = EX_TEXT;
    out->subtype = subtype;
    out->u.s.p = (const uint8_t *)p;
    out->u.s.n = n;
}

/* ---------------------------------------------------------------------------
 * Arguments as text, as sqlite3_value_text gives them.
 */

/*
 * The text of `v`: numbers rendered as SQLite renders them, TEXT and BLOB
 * bytes as they are (up to the first NUL when `c_string`: SQLite reads JSON
 * and paths as C strings). *present is 0 for NULL. Returns 0 or an error.
 */
static int arg_text(ex_ctx *cx, const ex_value *v, int c_string, const uint8_t **p, size_t *n,
                    int *present)
{
    *present = 1;
    switch (v->type) {
    case EX_NULL:
        *present = 0;
        *p = NULL;
        *n = 0;
        return 0;
    case EX_INTEGER:
    case EX_REAL: {
        char *buf = (char *)ex_scratch(cx, JSON_NUMBER_TEXT_BYTES);
        if (!buf)
            return ex_nomem(cx);
        if (v->type == EX_INTEGER)
            *n = (size_t)snprintf(buf, JSON_NUMBER_TEXT_BYTES, "%lld", (long long)v->u.i);
        else
            *n = sch_real_to_text(v->u.r, buf, JSON_NUMBER_TEXT_BYTES);
        *p = (const uint8_t *)buf;
        return 0;
    }
    default:
        *p = v->u.s.p;
        *n = (size_t)v->u.s.n;
        if (c_string && *n > 0) {
            const uint8_t *nul = memchr(*p, 0, *n);
            if (nul)
                *n = (size_t)(nul - *p);
        }
        if (*n > JSON_TEXT_BYTES_MAX)
            return ex_error(cx, "string or blob too big");
        return 0;
    }
}

/* A path argument as a C string in scratch memory; *path is NULL for NULL. */
static int arg_path(ex_ctx *cx, const ex_value *v, const char **path)
{
    const uint8_t *p = NULL; /* (set when present: initialised for gcc's -O2) */
    size_t n = 0;
    int present, rc = arg_text(cx, v, 1, &p, &n, &present);
    *path = NULL;
    if (rc != 0 || !present)
        return rc;
    char *copy = (char *)ex_scratch(cx, n + 1);
    if (!copy)
        return ex_nomem(cx);
    if (n > 0)
        memcpy(copy, p, n);
    copy[n] = 0;
    *path = copy;
    return 0;
}

/* Nodes a json_set/json_insert path may append: at most 3 per step, and
 * every step takes at least 2 characters of the path. */
static uint32_t path_node_bound(const char *path)
{
    return path ? (uint32_t)(2 * strlen(path) + 4) : 0;
}

/* ---------------------------------------------------------------------------
 * Node arrays and the parser.
 */

/*
 * A parse of n bytes has at most (n+1)/2 nodes: a leaf takes at least one
 * byte, and a container with k nodes directly inside takes k+1 more (its
 * brackets and k-1 separators), so N nodes need at least 2N-1 bytes.
 */
static uint32_t parse_node_bound(size_t len)
{
    return (uint32_t)((len + 1) / 2);
}

static int parse_alloc(ex_ctx *cx, jparse *ps, const uint8_t *z, size_t len, uint64_t extra)
{
    uint64_t cap = (uint64_t)parse_node_bound(len) + extra + JSON_SPARE_NODES;
    if (cap > UINT32_MAX / 2)
        return ex_error(cx, "string or blob too big");
    memset(ps, 0, sizeof *ps);
    ps->node = (jnode *)ex_scratch(cx, (size_t)cap * sizeof(jnode));
    if (!ps->node)
        return ex_nomem(cx);
    memset(ps->node, 0, sizeof(jnode)); /* node[count] is always JT_UNUSED */
    ps->cap = (uint32_t)cap;
    ps->parse_max = parse_node_bound(len);
    ps->z = z;
    ps->len = len;
    return 0;
}

static uint32_t add_node(jparse *ps, int type, uint32_t n, const uint8_t *text)
{
    uint32_t at = ps->count;
    if (at >= ps->cap - JSON_SPARE_NODES) {
        assert(!"json node bound");
        ps->full = 1;
        at = ps->cap - 1;
    } else {
        ps->count++;
        memset(&ps->node[ps->count], 0, sizeof(jnode));
    }
    jnode *nd = &ps->node[at];
    nd->type = (uint8_t)type;
    nd->flags = 0;
    nd->n = n;
    nd->u.text = text;
    return at;
}

/* A parse that needs more nodes than a well-formed text of its length can
 * have is of a malformed text (it fails later anyway): stop it here. */
static int parse_has_room(const jparse *ps)
{
    return ps->count < ps->parse_max;
}

static int at(const jparse *ps, size_t i)
{
    return i < ps->len ? ps->z[i] : 0;
}

static size_t skip_space(const jparse *ps, size_t i)
{
    while (is_json_space(at(ps, i)))
        i++;
    return i;
}

/* A string starting at the quote at i: returns the index after it, 0 if
 * malformed. */
static size_t parse_string(jparse *ps, size_t i)
{
    uint8_t flags = 0;
    size_t j = i + 1;
    for (;;) {
        int c = at(ps, j);
        if (c < 0x20) /* control characters, and the end of the text */
            return 0;
        if (c == '\\') {
            c = at(ps, ++j);
            if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
                c == 't' ||
                (c == 'u' && is_xdigit(at(ps, j + 1)) && is_xdigit(at(ps, j + 2)) &&
                 is_xdigit(at(ps, j + 3)) && is_xdigit(at(ps, j + 4))))
                flags = JF_ESCAPE;
            else
                return 0;
        } else if (c == '"') {
            break;
        }
        j++;
    }
    if (!parse_has_room(ps))
        return 0;
    uint32_t k = add_node(ps, JT_STRING, (uint32_t)(j + 1 - i), ps->z + i);
    ps->node[k].flags = flags;
    return j + 1;
}

/* A number starting at i (a '-' or a digit): the index after it, or 0. */
static size_t parse_number(jparse *ps, size_t i)
{
    int c = at(ps, i);
    if (c <= '0') {
        size_t d = c == '-' ? i + 1 : i;
        if (at(ps, d) == '0' && is_digit(at(ps, d + 1)))
            return 0; /* a leading zero */
    }
    int seen_point = 0, seen_exp = 0;
    size_t j = i + 1;
    for (;; j++) {
        c = at(ps, j);
        if (is_digit(c))
            continue;
        if (c == '.') {
            if (at(ps, j - 1) == '-' || seen_point)
                return 0;
            seen_point = 1;
            continue;
        }
        if (c == 'e' || c == 'E') {
            if (at(ps, j - 1) < '0' || seen_exp)
                return 0;
            seen_point = seen_exp = 1;
            c = at(ps, j + 1);
            if (c == '+' || c == '-') {
                j++;
                c = at(ps, j + 1);
            }
            if (!is_digit(c))
                return 0;
            continue;
        }
        break;
    }
    if (at(ps, j - 1) < '0' || !parse_has_room(ps)) /* ends with '-' or '.' */
        return 0;
    add_node(ps, seen_point ? JT_REAL : JT_INT, (uint32_t)(j - i), ps->z + i);
    return j;
}

static size_t parse_word(jparse *ps, size_t i, const char *word, int type)
{
    size_t n = strlen(word);
    for (size_t k = 0; k < n; k++)
        if (at(ps, i + k) != word[k])
            return 0;
    if (is_alnum(at(ps, i + n)) || !parse_has_room(ps))
        return 0;
    add_node(ps, type, 0, NULL);
    return i + n;
}

/* A leaf value at i: the index after it, or 0 if there is none. */
static size_t parse_leaf(jparse *ps, size_t i)
{
    int c = at(ps, i);
    if (c == '"')
        return parse_string(ps, i);
    if (c == 'n')
        return parse_word(ps, i, "null", JT_NULL);
    if (c == 't')
        return parse_word(ps, i, "true", JT_TRUE);
    if (c == 'f')
        return parse_word(ps, i, "false", JT_FALSE);
    if (c == '-' || is_digit(c))
        return parse_number(ps, i);
    return 0;
}

/* The container stack of the parser: the node index, and two bits. */
#define PSTACK_OBJECT 0x80000000u
#define PSTACK_VALUE  0x40000000u /* an object's member name has been read */
#define PSTACK_INDEX  0x3fffffffu

/*
 * Parse ps->z into ps->node. Returns 1 when the text is well-formed JSON,
 * else 0. This is SQLite's recursive descent turned into a loop over an
 * explicit stack of open containers; a value that is a member's name must
 * end with a string node (the name is then flagged JF_LABEL).
 */
static int parse_json_text(jparse *ps, uint32_t *stack)
{
    size_t pos = 0;
    uint32_t depth = 0;
    for (;;) {
        /* A value starts at pos. */
        pos = skip_space(ps, pos);
        int c = at(ps, pos);
        if (c == '{' || c == '[') {
            if (depth == JSON_DEPTH_MAX || !parse_has_room(ps))
                return 0;
            uint32_t k = add_node(ps, c == '{' ? JT_OBJECT : JT_ARRAY, 0, NULL);
            pos = skip_space(ps, pos + 1);
            if (at(ps, pos) != (c == '{' ? '}' : ']')) {
                stack[depth++] = k | (c == '{' ? PSTACK_OBJECT : 0);
                continue; /* the first element, or the first member's name */
            }
            pos++; /* an empty container */
        } else {
            pos = parse_leaf(ps, pos);
            if (pos == 0)
                return 0;
        }
        /* A value has ended: continue the containers it closes. */
        for (;;) {
            if (depth == 0)
                return at(ps, skip_space(ps, pos)) == 0;
            uint32_t *top = &stack[depth - 1];
            uint32_t k = *top & PSTACK_INDEX;
            pos = skip_space(ps, pos);
            c = at(ps, pos);
            if ((*top & PSTACK_OBJECT) && !(*top & PSTACK_VALUE)) {
                jnode *name = &ps->node[ps->count - 1];
                if (name->type != JT_STRING || c != ':')
                    return 0;
                name->flags |= JF_LABEL;
                *top |= PSTACK_VALUE;
                pos++;
                break;
            }
            if (c == ',') {
                *top &= ~PSTACK_VALUE;
                pos++;
                break;
            }
            if (c != ((*top & PSTACK_OBJECT) ? '}' : ']'))
                return 0;
            ps->node[k].n = ps->count - k - 1;
            depth--;
            pos++;
        }
    }
}

/*
 * Parse argument `v` as JSON with room for `extra` appended nodes.
 * *present is 0 when v is NULL (nothing parsed). Malformed JSON is an error
 * when `report`, else *valid is 0.
 */
static int parse_arg(ex_ctx *cx, const ex_value *v, uint64_t extra, int report, jparse *ps,
                     int *present, int *valid)
{
    const uint8_t *z = NULL;
    size_t len = 0;
    int rc = arg_text(cx, v, 1, &z, &len, present);
    *valid = 0;
    if (rc != 0 || !*present)
        return rc;
    if ((rc = parse_alloc(cx, ps, z, len, extra)) != 0)
        return rc;
    uint32_t depth_max = parse_node_bound(len) + 1;
    if (depth_max > JSON_DEPTH_MAX + 1)
        depth_max = JSON_DEPTH_MAX + 1;
    uint32_t *stack = (uint32_t *)ex_scratch(cx, depth_max * sizeof(uint32_t));
    if (!stack)
        return ex_nomem(cx);
    *valid = parse_json_text(ps, stack);
    if (ps->full)
        return ex_error(cx, "JSON parse exceeded its node bound");
    if (!*valid && report)
        return ex_error(cx, "malformed JSON");
    return 0;
}

/* ---------------------------------------------------------------------------
 * Output: a writer that measures (buf NULL) or writes.
 */

typedef struct jout {
    uint8_t *buf;
    size_t len;
    uint8_t last; /* the last byte written: SQLite's separator rule reads it */
    int blob;     /* a BLOB value was met */
} jout;

static void out_bytes(jout *o, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (o->buf)
        memcpy(o->buf + o->len, p, n);
    o->len += n;
    o->last = ((const uint8_t *)p)[n - 1];
}

static void out_byte(jout *o, uint8_t c)
{
    out_bytes(o, &c, 1);
}

static void out_separator(jout *o)
{
    if (o->len > 0 && o->last != '[' && o->last != '{')
        out_byte(o, ',');
}

/* Text as a JSON string: quotes and backslashes escaped, control characters
 * as \b \t \n \f \r or \u00XX; everything else (bytes >= 0x7f too) as is. */
static void out_string(jout *o, const uint8_t *p, size_t n)
{
    static const char special[32] = {
        ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};
    out_byte(o, '"');
    size_t run = 0; /* bytes copied as they are, written in one go */
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c != '"' && c != '\\' && c >= 0x20)
            continue;
        out_bytes(o, p + run, i - run);
        run = i + 1;
        if (c >= 0x20 || special[c]) {
            uint8_t esc[2] = {'\\', c >= 0x20 ? c : (uint8_t)special[c]};
            out_bytes(o, esc, 2);
        } else {
            uint8_t esc[6] = {'\\',
                              'u',
                              '0',
                              '0',
                              (uint8_t)('0' + (c >> 4)),
                              (uint8_t) "0123456789abcdef"[c & 0xf]};
            out_bytes(o, esc, 6);
        }
    }
    out_bytes(o, p + run, n - run);
    out_byte(o, '"');
}

/* An SQL value inside JSON (SQLite's jsonAppendValue). */
static void out_value(jout *o, const ex_value *v)
{
    char num[JSON_NUMBER_TEXT_BYTES];
    switch (v->type) {
    case EX_NULL:
        out_bytes(o, "null", 4);
        break;
    case EX_INTEGER:
        out_bytes(o, num, (size_t)snprintf(num, sizeof num, "%lld", (long long)v->u.i));
        break;
    case EX_REAL:
        out_bytes(o, num, sch_real_to_text(v->u.r, num, sizeof num));
        break;
    case EX_TEXT:
        if (v->subtype == EX_SUBTYPE_JSON)
            out_bytes(o, v->u.s.p, (size_t)v->u.s.n);
        else
            out_string(o, v->u.s.p, (size_t)v->u.s.n);
        break;
    default:
        o->blob = 1;
        break;
    }
}

/* Something that writes JSON; write_json calls it twice with the same state. */
typedef void (*json_writer)(jout *o, const void *state);

/*
 * The text `write` makes, as a result with the JSON subtype: the first call
 * measures it, the second writes it into scratch memory of exactly that
 * size. A BLOB value met on the way is SQLite's error.
 */
static int write_json(ex_ctx *cx, json_writer write, const void *state, ex_value *out)
{
    jout o = {0};
    write(&o, state);
    if (o.blob)
        return ex_error(cx, "JSON cannot hold BLOB values");
    size_t n = o.len;
    memset(&o, 0, sizeof o);
    if (!(o.buf = ex_scratch(cx, n + 1)))
        return ex_nomem(cx);
    write(&o, state);
    assert(o.len == n);
    set_text(out, o.buf, n, EX_SUBTYPE_JSON);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Rendering nodes as JSON text.
 */

typedef struct rframe {
    const jnode *c; /* the container, or the piece of its chain being written */
    uint32_t j;     /* the next node inside it */
    uint8_t value;  /* objects: the member's name is written, its value is next */
} rframe;

typedef struct jrender {
    jout *o;
    const ex_value *argv; /* values of JF_REPLACE nodes */
    rframe *stack;        /* room for every container of the parses involved */
    uint32_t sp;
} jrender;

/* Write a leaf, or open a container on the stack. */
static void render_open(jrender *r, const jnode *nd)
{
    if (nd->flags & JF_REPLACE) {
        out_value(r->o, &r->argv[nd->u.replace]);
        return;
    }
    if (nd->flags & JF_PATCH)
        nd = nd->u.patch;
    switch (nd->type) {
    case JT_TRUE:
        out_bytes(r->o, "true", 4);
        break;
    case JT_FALSE:
        out_bytes(r->o, "false", 5);
        break;
    case JT_STRING:
        if (nd->flags & JF_RAW)
            out_string(r->o, nd->u.text, nd->n);
        else
            out_bytes(r->o, nd->u.text, nd->n);
        break;
    case JT_INT:
    case JT_REAL:
        out_bytes(r->o, nd->u.text, nd->n);
        break;
    case JT_ARRAY:
    case JT_OBJECT:
        out_byte(r->o, nd->type == JT_ARRAY ? '[' : '{');
        r->stack[r->sp].c = nd;
        r->stack[r->sp].j = 1;
        r->stack[r->sp].value = 0;
        r->sp++;
        break;
    default:
        out_bytes(r->o, "null", 4);
        break;
    }
}

/* One step inside the container on top of the stack. */
static void render_step(jrender *r)
{
    rframe *f = &r->stack[r->sp - 1];
    const jnode *c = f->c;
    if (c->type == JT_ARRAY) {
        if (f->j <= c->n) {
            const jnode *child = c + f->j;
            f->j += node_size(child);
            if (!(child->flags & JF_REMOVE)) {
                out_separator(r->o);
                render_open(r, child);
            }
            return;
        }
    } else if (f->value) {
        const jnode *v = c + f->j + 1;
        f->j += 1 + node_size(v);
        f->value = 0;
        out_byte(r->o, ':');
        render_open(r, v);
        return;
    } else if (f->j <= c->n && c[f->j + 1].type != JT_UNUSED) {
        if (c[f->j + 1].flags & JF_REMOVE) {
            f->j += 1 + node_size(&c[f->j + 1]);
        } else {
            out_separator(r->o);
            f->value = 1;
            render_open(r, c + f->j);
        }
        return;
    }
    if (c->flags & JF_APPEND) {
        f->c = c + c->u.append;
        f->j = 1;
        return;
    }
    out_byte(r->o, c->type == JT_ARRAY ? ']' : '}');
    r->sp--;
}

static void render(jrender *r, const jnode *root)
{
    r->sp = 0;
    render_open(r, root);
    while (r->sp > 0)
        render_step(r);
}

typedef struct render_job {
    jrender *r;
    const jnode *root;
} render_job;

static void write_rendered(jout *o, const void *state)
{
    const render_job *job = state;
    job->r->o = o;
    render(job->r, job->root);
}

/*
 * `root` as JSON text with the JSON subtype (SQLite's jsonReturnJson).
 * `frames` bounds the containers that can be open at once: the nodes of the
 * parses involved.
 */
static int return_json(ex_ctx *cx, const jnode *root, uint32_t frames, const ex_value *argv,
                       ex_value *out)
{
    jrender r = {NULL, argv, NULL, 0};
    r.stack = (rframe *)ex_scratch(cx, ((size_t)frames + 1) * sizeof(rframe));
    if (!r.stack)
        return ex_nomem(cx);
    render_job job = {&r, root};
    return write_json(cx, write_rendered, &job, out);
}

/* ---------------------------------------------------------------------------
 * A node as an SQL value (SQLite's jsonReturn).
 */

static int return_real(ex_ctx *cx, const uint8_t *text, size_t n, ex_value *out)
{
    char local[JSON_NUMBER_TEXT_BYTES];
    char *z = local;
    if (n >= sizeof local && !(z = (char *)ex_scratch(cx, n + 1)))
        return ex_nomem(cx);
    memcpy(z, text, n);
    z[n] = 0;
    out->type = EX_REAL;
    out->subtype = EX_SUBTYPE_NONE;
    out->u.r = strtod(z, NULL);
    return 0;
}

/* An integer as written; one that does not fit in 64 bits is a REAL. */
static int return_int(ex_ctx *cx, const jnode *nd, ex_value *out)
{
    const uint8_t *z = nd->u.text;
    size_t k = 0;
    int neg = z[0] == '-';
    int64_t i = 0;
    if (neg)
        k++;
    for (; k < nd->n && is_digit(z[k]); k++) {
        unsigned v = (unsigned)(z[k] - '0');
        if (i >= INT64_MAX / 10) {
            int more = k + 1 < nd->n && is_digit(z[k + 1]);
            if (i > INT64_MAX / 10 || more || v == 9 || (v == 8 && !neg))
                return return_real(cx, nd->u.text, nd->n, out);
            if (v == 8) {
                i = INT64_MIN;
                neg = 0;
                break;
            }
        }
        i = i * 10 + (int64_t)v;
    }
    out->type = EX_INTEGER;
    out->subtype = EX_SUBTYPE_NONE;
    out->u.i = neg ? -i : i;
    return 0;
}

static size_t put_utf8(uint8_t *o, uint32_t v)
{
    if (v <= 0x7f) {
        o[0] = (uint8_t)v;
        return 1;
    }
    if (v <= 0x7ff) {
        o[0] = (uint8_t)(0xc0 | (v >> 6));
        o[1] = (uint8_t)(0x80 | (v & 0x3f));
        return 2;
    }
    if (v <= 0xffff) {
        o[0] = (uint8_t)(0xe0 | (v >> 12));
        o[1] = (uint8_t)(0x80 | ((v >> 6) & 0x3f));
        o[2] = (uint8_t)(0x80 | (v & 0x3f));
        return 3;
    }
    o[0] = (uint8_t)(0xf0 | (v >> 18));
    o[1] = (uint8_t)(0x80 | ((v >> 12) & 0x3f));
    o[2] = (uint8_t)(0x80 | ((v >> 6) & 0x3f));
    o[3] = (uint8_t)(0x80 | (v & 0x3f));
    return 4;
}

static uint32_t hex4(const uint8_t *z)
{
    return hex_value(z[0]) << 12 | hex_value(z[1]) << 8 | hex_value(z[2]) << 4 | hex_value(z[3]);
}

/*
 * A string's escapes decoded: \uXXXX to UTF-8, a surrogate pair to one
 * character and a lone surrogate to its three bytes; \u0000 ends the
 * string there (SQLite's rule). Never longer than the escaped text.
 */
static int return_string(ex_ctx *cx, const jnode *nd, ex_value *out)
{
    const uint8_t *z = nd->u.text;
    size_t n = nd->n;
    if (!(nd->flags & JF_ESCAPE)) {
        set_text(out, z + 1, n - 2, EX_SUBTYPE_NONE);
        return 0;
    }
    uint8_t *o = ex_scratch(cx, n);
    if (!o)
        return ex_nomem(cx);
    size_t j = 0;
    for (size_t i = 1; i < n - 1; i++) {
        uint8_t c = z[i];
        if (c != '\\') {
            o[j++] = c;
            continue;
        }
        c = z[++i];
        if (c == 'u') {
            uint32_t v = hex4(z + i + 1);
            i += 4;
            if (v == 0)
                break;
            if ((v & 0xfc00) == 0xd800 && i + 6 < n && z[i + 1] == '\\' && z[i + 2] == 'u' &&
                (hex4(z + i + 3) & 0xfc00) == 0xdc00) {
                v = ((v & 0x3ff) << 10) + (hex4(z + i + 3) & 0x3ff) + 0x10000;
                i += 6;
            }
            j += put_utf8(o + j, v);
            continue;
        }
        static const char unescape[][2] = {
            {'b', '\b'}, {'f', '\f'}, {'n', '\n'}, {'r', '\r'}, {'t', '\t'}};
        for (size_t k = 0; k < sizeof unescape / sizeof unescape[0]; k++)
            if (c == unescape[k][0])
                c = (uint8_t)unescape[k][1];
        o[j++] = c;
    }
    set_text(out, o, j, EX_SUBTYPE_NONE);
    return 0;
}

static int return_sql(ex_ctx *cx, const jnode *nd, uint32_t frames, ex_value *out)
{
    out->subtype = EX_SUBTYPE_NONE;
    switch (nd->type) {
    case JT_TRUE:
    case JT_FALSE:
        out->type = EX_INTEGER;
        out->u.i = nd->type == JT_TRUE;
        return 0;
    case JT_INT:
        return return_int(cx, nd, out);
    case JT_REAL:
        return return_real(cx, nd->u.text, nd->n, out);
    case JT_STRING:
        return return_string(cx, nd, out);
    case JT_ARRAY:
    case JT_OBJECT:
        return return_json(cx, nd, frames, NULL, out);
    default:
        out->type = EX_NULL;
        return 0;
    }
}

/* ---------------------------------------------------------------------------
 * Paths.
 */

/* Does member name `nd` match a key from a path? */
static int label_matches(const jnode *nd, const char *key, uint32_t nkey)
{
    if (nd->flags & JF_RAW)
        return nd->n == nkey && (nkey == 0 || memcmp(nd->u.text, key, nkey) == 0);
    if (nd->n != nkey + 2)
        return 0;
    return nkey == 0 || (node_has_text(nd) && memcmp(nd->u.text + 1, key, nkey) == 0);
}

/* A container chained by json_set gets its continuation only once the path
 * has been created to its end. */
typedef struct jlink {
    uint32_t root, start, label; /* label is UINT32_MAX for arrays */
} jlink;

typedef struct jlookup {
    jparse *ps;
    int *append;     /* NULL, or create what is missing (set to 1 when it did) */
    const char *err; /* where the path's syntax failed */
    jlink *links;
    size_t nlinks;
} jlookup;

/* Read a member key after '.': returns its length in the path, 0 on a
 * syntax error. */
static size_t path_key(const char *z, const char **key, uint32_t *nkey)
{
    size_t i;
    if (z[0] == '"') {
        for (i = 1; z[i] && z[i] != '"'; i++) {
        }
        if (!z[i])
            return 0;
        *key = z + 1;
        *nkey = (uint32_t)(i - 1);
        return i + 1;
    }
    for (i = 0; z[i] && z[i] != '.' && z[i] != '['; i++) {
    }
    *key = z;
    *nkey = (uint32_t)i;
    return i;
}

/* The member named key in object `iroot` (along its chain), or 0. */
static uint32_t find_member(jparse *ps, uint32_t *iroot, const char *key, uint32_t nkey)
{
    const jnode *root = &ps->node[*iroot];
    uint32_t j = 1;
    for (;;) {
        while (j <= root->n) {
            if (label_matches(&root[j], key, nkey))
                return *iroot + j + 1;
            j++;
            if (root[j].type == JT_UNUSED)
                break;
            j += node_size(&root[j]);
        }
        if (!(root->flags & JF_APPEND))
            return 0;
        *iroot += root->u.append;
        root = &ps->node[*iroot];
        j = 1;
    }
}

/* Elements not removed in array `iroot` and its chain. */
static uint32_t count_elements(const jparse *ps, uint32_t iroot)
{
    const jnode *base = &ps->node[iroot];
    uint32_t count = 0, j = 1;
    for (;;) {
        for (; j <= base->n; j += node_size(&base[j]))
            if (!(base[j].flags & JF_REMOVE))
                count++;
        if (!(base->flags & JF_APPEND))
            return count;
        base += base->u.append;
        j = 1;
    }
}

/*
 * Parse "[N]" or "[#]" or "[#-N]" at z for array `iroot`. Returns the
 * characters taken, 0 when the lookup ends here (lk->err set on a syntax
 * error). The index is unsigned 32-bit and wraps, as in SQLite.
 */
static size_t path_index(jlookup *lk, uint32_t iroot, const char *z, uint32_t *index)
{
    const jnode *root = &lk->ps->node[iroot];
    uint32_t i = 0;
    size_t j = 1;
    while (is_digit(z[j]))
        i = i * 10 + (uint32_t)(z[j++] - '0');
    if (j < 2 || z[j] != ']') {
        if (z[1] != '#') {
            lk->err = z;
            return 0;
        }
        if (root->type != JT_ARRAY)
            return 0;
        i = count_elements(lk->ps, iroot);
        j = 2;
        if (z[2] == '-' && is_digit(z[3])) {
            uint32_t x = 0;
            for (j = 3; is_digit(z[j]); j++)
                x = x * 10 + (uint32_t)(z[j] - '0');
            if (x > i)
                return 0;
            i -= x;
        }
        if (z[j] != ']') {
            lk->err = z;
            return 0;
        }
    }
    if (root->type != JT_ARRAY)
        return 0;
    *index = i;
    return j + 1;
}

/* Element `i` of array `*iroot` (along its chain, skipping removed ones,
 * and, as SQLite does, continuing into the chain even when found), or 0;
 * *i is what remains of the index when not found. */
static uint32_t find_element(jparse *ps, uint32_t *iroot, uint32_t *i)
{
    const jnode *root = &ps->node[*iroot];
    uint32_t j = 1;
    for (;;) {
        while (j <= root->n && (*i > 0 || (root[j].flags & JF_REMOVE))) {
            if (!(root[j].flags & JF_REMOVE))
                (*i)--;
            j += node_size(&root[j]);
        }
        if (!(root->flags & JF_APPEND))
            break;
        *iroot += root->u.append;
        root = &ps->node[*iroot];
        j = 1;
    }
    return j <= root->n ? *iroot + j : 0;
}

/*
 * What remains of a path below a node json_set just created: a value
 * (JSON null, to be replaced), or a new object or array to continue in.
 * Returns the new node, or UINT32_MAX when the path cannot be created.
 */
static uint32_t append_rest(jlookup *lk, const char *z, int *done)
{
    *lk->append = 1;
    *done = 0;
    if (z[0] == 0) {
        *done = 1;
        return add_node(lk->ps, JT_NULL, 0, NULL);
    }
    if (z[0] == '.')
        return add_node(lk->ps, JT_OBJECT, 0, NULL);
    if (strncmp(z, "[0]", 3) == 0)
        return add_node(lk->ps, JT_ARRAY, 0, NULL);
    return UINT32_MAX;
}

static void apply_links(jlookup *lk)
{
    for (size_t k = 0; k < lk->nlinks; k++) {
        jnode *root = &lk->ps->node[lk->links[k].root];
        root->u.append = lk->links[k].start - lk->links[k].root;
        root->flags |= JF_APPEND;
        if (lk->links[k].label != UINT32_MAX)
            lk->ps->node[lk->links[k].label].flags |= JF_RAW;
    }
}

/*
 * Follow path z (after its '$') from the root: SQLite's jsonLookupStep as a
 * loop. Returns the node's index, or UINT32_MAX when there is none (with
 * lk->err set on a syntax error).
 */
static uint32_t lookup_steps(jlookup *lk, const char *z)
{
    jparse *ps = lk->ps;
    uint32_t iroot = 0;
    for (;;) {
        if (ps->full)
            return UINT32_MAX;
        const jnode *root = &ps->node[iroot];
        if (z[0] == 0)
            return iroot;
        if (root->flags & JF_REPLACE)
            return UINT32_MAX;
        uint32_t start, label = UINT32_MAX;
        if (z[0] == '.') {
            if (root->type != JT_OBJECT)
                return UINT32_MAX;
            z++;
            const char *key;
            uint32_t nkey;
            size_t taken = path_key(z, &key, &nkey);
            if (taken == 0) {
                lk->err = z;
                return UINT32_MAX;
            }
            uint32_t found = find_member(ps, &iroot, key, nkey);
            z += taken;
            if (found) {
                iroot = found;
                continue;
            }
            if (!lk->append)
                return UINT32_MAX;
            start = add_node(ps, JT_OBJECT, 2, NULL);
            label = add_node(ps, JT_STRING, nkey, (const uint8_t *)key);
        } else if (z[0] == '[') {
            uint32_t i;
            size_t taken = path_index(lk, iroot, z, &i);
            if (taken == 0)
                return UINT32_MAX;
            z += taken;
            uint32_t found = find_element(ps, &iroot, &i);
            if (found) {
                iroot = found;
                continue;
            }
            if (i != 0 || !lk->append)
                return UINT32_MAX;
            start = add_node(ps, JT_ARRAY, 1, NULL);
        } else {
            lk->err = z;
            return UINT32_MAX;
        }
        /* Create the member or element, and whatever the path says below. */
        lk->links[lk->nlinks].root = iroot;
        lk->links[lk->nlinks].start = start;
        lk->links[lk->nlinks].label = label;
        lk->nlinks++;
        int done;
        iroot = append_rest(lk, z, &done);
        if (iroot == UINT32_MAX || ps->full)
            return UINT32_MAX;
        if (done)
            return iroot;
    }
}

/* The message SQLite gives: the rest of the path, quotes doubled (%q). */
static int path_error(ex_ctx *cx, const char *rest)
{
    size_t n = strlen(rest), quotes = 0;
    for (size_t i = 0; i < n; i++)
        quotes += rest[i] == '\'';
    char *q = (char *)ex_scratch(cx, n + quotes + 1);
    if (!q)
        return ex_nomem(cx);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        q[k++] = rest[i];
        if (rest[i] == '\'')
            q[k++] = '\'';
    }
    q[k] = 0;
    return ex_error(cx, "JSON path error near '%s'", q);
}

/*
 * SQLite's jsonLookup: the node at `path` (a C string, or NULL: no node),
 * *out NULL when there is none. With `append`, missing members and
 * elements are created (json_set, json_insert). Returns 0 or the error of a
 * malformed path.
 */
static int lookup(ex_ctx *cx, jparse *ps, const char *path, int *append, jnode **out)
{
    *out = NULL;
    if (!path)
        return 0;
    if (path[0] != '$')
        return path_error(cx, path);
    jlookup lk = {ps, append, NULL, NULL, 0};
    if (append) {
        lk.links = (jlink *)ex_scratch(cx, (strlen(path) / 2 + 2) * sizeof(jlink));
        if (!lk.links)
            return ex_nomem(cx);
    }
    uint32_t k = lookup_steps(&lk, path + 1);
    if (ps->full)
        return ex_error(cx, "JSON edit exceeded its node bound");
    if (lk.err)
        return path_error(cx, lk.err);
    if (k != UINT32_MAX) {
        apply_links(&lk);
        *out = &ps->node[k];
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * json_patch: RFC 7396 merge as SQLite 3.40 does it.
 */

typedef struct mframe {
    uint32_t target; /* the object being patched */
    jnode *patch;    /* the patch object */
    uint32_t i;      /* its next member */
    uint32_t root;   /* the last piece of the target's chain */
} mframe;

/* Flag the null members of `obj` removed, in nested objects too (not in
 * arrays). `stack` has room for every object of the parse. */
static void remove_all_nulls(jnode *obj, jnode **stack)
{
    uint32_t sp = 0;
    stack[sp++] = obj;
    while (sp > 0) {
        jnode *o = stack[--sp];
        for (uint32_t i = 2; i <= o->n; i += node_size(&o[i]) + 1) {
            if (o[i].type == JT_NULL)
                o[i].flags |= JF_REMOVE;
            else if (o[i].type == JT_OBJECT)
                stack[sp++] = &o[i];
        }
    }
}

/* Does target member name `t` equal patch member name `p`? Both are
 * compared as written; a name without text never matches (SQLite would
 * follow a null pointer). */
static int names_equal(const jnode *t, const jnode *p)
{
    if (t->n != p->n)
        return 0;
    if (t->n == 0)
        return 1;
    return node_has_text(t) && node_has_text(p) && memcmp(t->u.text, p->u.text, t->n) == 0;
}

/*
 * Apply the patch member at patch[i] to the target of frame f. Returns the
 * index of a target member that is an object to merge the member's object
 * value into (the caller descends), or 0.
 */
static uint32_t patch_member(jparse *x, mframe *f, uint32_t i, jnode **nulls)
{
    jnode *p = f->patch;
    jnode *t = &x->node[f->target];
    jnode *pv = &p[i + 1];
    uint32_t j;
    for (j = 1; j < t->n; j += node_size(&t[j + 1]) + 1)
        if (names_equal(&t[j], &p[i]))
            break;
    if (j < t->n) {
        jnode *tv = &t[j + 1];
        if (tv->flags & (JF_REMOVE | JF_PATCH))
            return 0;
        if (pv->type == JT_NULL) {
            tv->flags |= JF_REMOVE;
            return 0;
        }
        if (pv->type == JT_OBJECT && tv->type == JT_OBJECT)
            return f->target + j + 1; /* merged in place */
        if (pv->type == JT_OBJECT)
            remove_all_nulls(pv, nulls);
        tv->flags |= JF_PATCH;
        tv->u.patch = pv;
        return 0;
    }
    if (pv->type == JT_NULL)
        return 0;
    if (p[i].n > 0 && !node_has_text(&p[i]))
        return 0; /* a name SQLite would read through a null pointer */
    uint32_t start = add_node(x, JT_OBJECT, 2, NULL);
    add_node(x, JT_STRING, p[i].n, node_has_text(&p[i]) ? p[i].u.text : NULL);
    uint32_t value = add_node(x, JT_TRUE, 0, NULL);
    remove_all_nulls(p, nulls);
    x->node[f->root].flags |= JF_APPEND;
    x->node[f->root].u.append = start - f->root;
    f->root = start;
    x->node[value].flags |= JF_PATCH;
    x->node[value].u.patch = pv;
    return 0;
}

/* Merge patch y into x; returns the node to write (in x, or y's root). */
static jnode *merge_patch(jparse *x, jparse *y, mframe *stack, jnode **nulls)
{
    jnode *patch = &y->node[0];
    if (patch->type != JT_OBJECT)
        return patch;
    if (x->node[0].type != JT_OBJECT) {
        remove_all_nulls(patch, nulls);
        return patch;
    }
    uint32_t sp = 0;
    stack[sp++] = (mframe){0, patch, 1, 0};
    while (sp > 0 && !x->full) {
        mframe *f = &stack[sp - 1];
        if (f->i >= f->patch->n) {
            sp--;
            continue;
        }
        uint32_t i = f->i;
        f->i += node_size(&f->patch[i + 1]) + 1;
        uint32_t sub = patch_member(x, f, i, nulls);
        if (sub)
            stack[sp++] = (mframe){sub, &f->patch[i + 1], 1, sub};
    }
    return &x->node[0];
}

/* ---------------------------------------------------------------------------
 * The SQL functions.
 */

typedef struct arg_list {
    int argc;
    const ex_value *argv;
} arg_list;

static void write_array(jout *o, const void *state)
{
    const arg_list *a = state;
    out_byte(o, '[');
    for (int i = 0; i < a->argc; i++) {
        out_separator(o);
        out_value(o, &a->argv[i]);
    }
    out_byte(o, ']');
}

/* json_array(V...) */
static int fn_array(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    arg_list a = {argc, argv};
    return write_json(cx, write_array, &a, out);
}

static void write_object(jout *o, const void *state)
{
    const arg_list *a = state;
    out_byte(o, '{');
    for (int i = 0; i < a->argc; i += 2) {
        out_separator(o);
        out_string(o, a->argv[i].u.s.p, (size_t)a->argv[i].u.s.n);
        out_byte(o, ':');
        out_value(o, &a->argv[i + 1]);
    }
    out_byte(o, '}');
}

/* json_object(LABEL, V, ...) */
static int fn_object(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    if (argc & 1)
        return ex_error(cx, "json_object() requires an even number of arguments");
    /* SQLite stops at the first label that is not TEXT, with that message
     * even when a BLOB value came before it. */
    for (int i = 0; i < argc; i += 2)
        if (argv[i].type != EX_TEXT)
            return ex_error(cx, "json_object() labels must be TEXT");
    arg_list a = {argc, argv};
    return write_json(cx, write_object, &a, out);
}

static void write_quoted(jout *o, const void *state)
{
    out_value(o, state);
}

/* json_quote(V) */
static int fn_quote(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    return write_json(cx, write_quoted, &argv[0], out);
}

static void set_null(ex_value *out)
{
    memset(out, 0, sizeof *out);
    out->type = EX_NULL;
}

/* json(X), json_remove(X, P...) */
static int fn_remove(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    jparse ps;
    int present, valid, rc;
    set_null(out);
    if (argc < 1)
        return 0;
    if ((rc = parse_arg(cx, &argv[0], 0, 1, &ps, &present, &valid)) != 0 || !present)
        return rc;
    for (int i = 1; i < argc; i++) {
        const char *path;
        jnode *nd;
        if ((rc = arg_path(cx, &argv[i], &path)) != 0)
            return rc;
        if (!path)
            return 0;
        if ((rc = lookup(cx, &ps, path, NULL, &nd)) != 0)
            return rc;
        if (nd)
            nd->flags |= JF_REMOVE;
    }
    if (ps.node[0].flags & JF_REMOVE)
        return 0;
    return return_json(cx, &ps.node[0], ps.count, NULL, out);
}

/*
 * json_replace, json_set, json_insert (X, P, V, ...): `mode` says which.
 * When the root itself is replaced, the result is that argument as it is
 * (any type, its subtype too), as SQLite's sqlite3_result_value gives it.
 */
enum { EDIT_REPLACE, EDIT_SET, EDIT_INSERT };

static int edit(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out, int mode)
{
    static const char *const names[] = {"replace", "set", "insert"};
    set_null(out);
    if (argc < 1)
        return 0;
    if ((argc & 1) == 0)
        return ex_error(cx, "json_%s() needs an odd number of arguments", names[mode]);
    const char **paths = (const char **)ex_scratch(cx, (size_t)argc * sizeof(char *));
    if (!paths)
        return ex_nomem(cx);
    uint64_t extra = 0;
    int rc;
    for (int i = 1; i < argc; i += 2) {
        if ((rc = arg_path(cx, &argv[i], &paths[i])) != 0)
            return rc;
        if (mode != EDIT_REPLACE)
            extra += path_node_bound(paths[i]);
    }
    jparse ps;
    int present, valid;
    if ((rc = parse_arg(cx, &argv[0], extra, 1, &ps, &present, &valid)) != 0 || !present)
        return rc;
    for (int i = 1; i < argc; i += 2) {
        int appended = 0;
        jnode *nd;
        rc = lookup(cx, &ps, paths[i], mode == EDIT_REPLACE ? NULL : &appended, &nd);
        if (rc != 0)
            return rc;
        if (nd && (mode != EDIT_INSERT || appended)) {
            nd->flags |= JF_REPLACE;
            nd->u.replace = (uint32_t)i + 1;
        }
    }
    if (ps.node[0].flags & JF_REPLACE) {
        *out = argv[ps.node[0].u.replace];
        return 0;
    }
    return return_json(cx, &ps.node[0], ps.count, argv, out);
}

static int fn_replace(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    return edit(cx, argc, argv, out, EDIT_REPLACE);
}

static int fn_set(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    return edit(cx, argc, argv, out, EDIT_SET);
}

static int fn_insert(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    return edit(cx, argc, argv, out, EDIT_INSERT);
}

/* json_patch(T, P) */
static int fn_patch(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    set_null(out);
    const uint8_t *yz = NULL;
    size_t ylen = 0;
    int ypresent, rc;
    if ((rc = arg_text(cx, &argv[1], 1, &yz, &ylen, &ypresent)) != 0)
        return rc;
    /* Each member of the patch may append 3 nodes to the target. */
    uint64_t extra = 3 * ((uint64_t)parse_node_bound(ylen) + 1);
    jparse x, y;
    int present, valid;
    if ((rc = parse_arg(cx, &argv[0], extra, 1, &x, &present, &valid)) != 0 || !present)
        return rc;
    if ((rc = parse_arg(cx, &argv[1], 0, 1, &y, &present, &valid)) != 0 || !present)
        return rc;
    mframe *stack = (mframe *)ex_scratch(cx, ((size_t)y.count + 1) * sizeof(mframe));
    jnode **nulls = (jnode **)ex_scratch(cx, ((size_t)y.count + 1) * sizeof(jnode *));
    if (!stack || !nulls)
        return ex_nomem(cx);
    jnode *result = merge_patch(&x, &y, stack, nulls);
    if (x.full)
        return ex_error(cx, "JSON patch exceeded its node bound");
    return return_json(cx, result, x.count + y.count, NULL, out);
}

/* json_valid(X) */
static int fn_valid(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    jparse ps;
    int present, valid;
    int rc = parse_arg(cx, &argv[0], 0, 0, &ps, &present, &valid);
    if (rc != 0)
        return rc;
    out->type = EX_INTEGER;
    out->subtype = EX_SUBTYPE_NONE;
    out->u.i = present && valid;
    return 0;
}

/*
 * The node json_type and json_array_length look at: the root, or the node
 * at the path argv[1]; *nd is NULL when the result is NULL.
 */
static int node_arg(ex_ctx *cx, int argc, const ex_value *argv, jparse *ps, jnode **nd)
{
    int present, valid, rc;
    *nd = NULL;
    if ((rc = parse_arg(cx, &argv[0], 0, 1, ps, &present, &valid)) != 0 || !present)
        return rc;
    if (argc < 2) {
        *nd = &ps->node[0];
        return 0;
    }
    const char *path;
    if ((rc = arg_path(cx, &argv[1], &path)) != 0)
        return rc;
    return lookup(cx, ps, path, NULL, nd);
}

/* json_type(X[, P]) */
static int fn_type(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    jparse ps;
    jnode *nd;
    set_null(out);
    int rc = node_arg(cx, argc, argv, &ps, &nd);
    if (rc != 0 || !nd)
        return rc;
    const char *name = json_type_name[nd->type];
    set_text(out, name, strlen(name), EX_SUBTYPE_NONE);
    return 0;
}

/* json_array_length(X[, P]) */
static int fn_array_length(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    jparse ps;
    jnode *nd;
    set_null(out);
    int rc = node_arg(cx, argc, argv, &ps, &nd);
    if (rc != 0 || !nd)
        return rc;
    int64_t n = 0;
    if (nd->type == JT_ARRAY)
        for (uint32_t i = 1; i <= nd->n; n++)
            i += node_size(&nd[i]);
    out->type = EX_INTEGER;
    out->u.i = n;
    return 0;
}

typedef struct selection {
    jrender *r;
    int argc;
    const jnode **found; /* [1..argc-1]: the node each path selects, or NULL */
} selection;

static void write_selection(jout *o, const void *state)
{
    const selection *sel = state;
    sel->r->o = o;
    out_byte(o, '[');
    for (int i = 1; i < sel->argc; i++) {
        out_separator(o);
        if (sel->found[i])
            render(sel->r, sel->found[i]);
        else
            out_bytes(o, "null", 4);
    }
    out_byte(o, ']');
}

/* json_extract(X, P...) */
static int fn_extract(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    jparse ps;
    int present, valid, rc;
    set_null(out);
    if (argc < 2)
        return 0;
    if ((rc = parse_arg(cx, &argv[0], 0, 1, &ps, &present, &valid)) != 0 || !present)
        return rc;
    const char *path;
    jnode *nd;
    if (argc == 2) {
        if ((rc = arg_path(cx, &argv[1], &path)) != 0 || !path)
            return rc;
        if ((rc = lookup(cx, &ps, path, NULL, &nd)) != 0 || !nd)
            return rc;
        return return_sql(cx, nd, ps.count, out);
    }
    /* Several paths: an array of what each selects (null where nothing). */
    jrender r = {NULL, NULL, NULL, 0};
    selection sel = {&r, argc, (const jnode **)ex_scratch(cx, (size_t)argc * sizeof(jnode *))};
    r.stack = (rframe *)ex_scratch(cx, ((size_t)ps.count + 1) * sizeof(rframe));
    if (!sel.found || !r.stack)
        return ex_nomem(cx);
    for (int i = 1; i < argc; i++) {
        if ((rc = arg_path(cx, &argv[i], &path)) != 0)
            return rc;
        if ((rc = lookup(cx, &ps, path, NULL, &nd)) != 0)
            return rc;
        sel.found[i] = nd;
    }
    return write_json(cx, write_selection, &sel, out);
}

/*
 * The right operand of -> and ->> as a path: 'key' means $.key, a number N
 * (or text starting with a digit) $[N], '[...]' $[...]; text starting with
 * '$' is a path as it is.
 */
static int arrow_path(ex_ctx *cx, const char *operand, const char **path)
{
    size_t n = strlen(operand);
    if (operand[0] == '$') {
        *path = operand;
        return 0;
    }
    char *p = (char *)ex_scratch(cx, n + 4);
    if (!p)
        return ex_nomem(cx);
    if (is_digit(operand[0]))
        snprintf(p, n + 4, "$[%s]", operand);
    else
        snprintf(p, n + 4, "%s%s", operand[0] == '[' ? "$" : "$.", operand);
    *path = p;
    return 0;
}

/* X -> P (as_json) and X ->> P. */
static int arrow(ex_ctx *cx, const ex_value *argv, ex_value *out, int as_json)
{
    jparse ps;
    int present, valid, rc;
    set_null(out);
    if ((rc = parse_arg(cx, &argv[0], 0, 1, &ps, &present, &valid)) != 0 || !present)
        return rc;
    const char *operand, *path = NULL;
    jnode *nd;
    if ((rc = arg_path(cx, &argv[1], &operand)) != 0 || !operand)
        return rc;
    if ((rc = arrow_path(cx, operand, &path)) != 0)
        return rc;
    if ((rc = lookup(cx, &ps, path, NULL, &nd)) != 0 || !nd)
        return rc;
    if (as_json)
        return return_json(cx, nd, ps.count, NULL, out);
    rc = return_sql(cx, nd, ps.count, out);
    out->subtype = EX_SUBTYPE_NONE;
    return rc;
}

static int fn_arrow_json(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    return arrow(cx, argv, out, 1);
}

static int fn_arrow_sql(ex_ctx *cx, int argc, const ex_value *argv, ex_value *out)
{
    (void)argc;
    return arrow(cx, argv, out, 0);
}

const ex_fn_def ex_json_functions[] = {
    {"json", 1, 1, 0, fn_remove},
    {"json_array", 0, -1, 0, fn_array},
    {"json_array_length", 1, 2, 0, fn_array_length},
    {"json_extract", 0, -1, 0, fn_extract},
    {"json_insert", 0, -1, 0, fn_insert},
    {"json_object", 0, -1, 0, fn_object},
    {"json_patch", 2, 2, 0, fn_patch},
    {"json_quote", 1, 1, 0, fn_quote},
    {"json_remove", 0, -1, 0, fn_remove},
    {"json_replace", 0, -1, 0, fn_replace},
    {"json_set", 0, -1, 0, fn_set},
    {"json_type", 1, 2, 0, fn_type},
    {"json_valid", 1, 1, 0, fn_valid},
    {"->", 2, 2, 0, fn_arrow_json},
    {"->>", 2, 2, 0, fn_arrow_sql},
    {NULL, 0, 0, 0, NULL},
};
