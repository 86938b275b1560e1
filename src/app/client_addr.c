/* Client address resolution and address lists (DESIGN §6). Every address is held as 16 bytes of
 * IPv6, IPv4 as IPv4-mapped (::ffff:a.b.c.d, prefix + 96), so "10.0.0.0/8" matches both
 * "10.1.2.3" and "::ffff:10.1.2.3" with one comparison. */
#include "app/client_addr.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct net {
    unsigned char addr[16]; /* host bits cleared */
    unsigned prefix;        /* 0..128, in IPv6 terms */
};

struct addr_list {
    struct net *nets; /* owned, n entries */
    size_t n;
};

static const unsigned char MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parses one address (no prefix) of len bytes into 16-byte form; false when it is not one. */
static bool parse_addr(const char *s, size_t len, unsigned char out[16], bool *v4)
{
    char tmp[64]; /* longer than any textual IPv6 address */
    if (len == 0 || len >= sizeof tmp) return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    struct in_addr a4;
    if (inet_pton(AF_INET, tmp, &a4) == 1) {
        memcpy(out, MAPPED, sizeof MAPPED);
        memcpy(out + 12, &a4, 4);
        *v4 = true;
        return true;
    }
    struct in6_addr a6;
    if (inet_pton(AF_INET6, tmp, &a6) == 1) {
        memcpy(out, &a6, 16);
        *v4 = false;
        return true;
    }
    return false;
}

static void mask(unsigned char a[16], unsigned prefix)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
        if (bits < 8) a[i] &= (unsigned char)(0xff00u >> bits);
    }
}

/* "addr" or "addr/prefix". Host bits after the prefix are ignored, as most tools do. */
static bool parse_net(const char *s, size_t len, struct net *n)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    bool v4;
    if (!parse_addr(s, alen, n->addr, &v4)) return false;
    unsigned max = v4 ? 32 : 128, prefix = max;
    if (slash) {
        const char *d = slash + 1, *end = s + len;
        if (d == end || end - d > 3) return false;
        prefix = 0;
        for (; d < end; d++) {
            if (*d < '0' || *d > '9') return false;
            prefix = prefix * 10 + (unsigned)(*d - '0');
        }
        if (prefix > max) return false;
    }
    n->prefix = v4 ? prefix + 96 : prefix;
    mask(n->addr, n->prefix);
    return true;
}

struct addr_list *addr_list_parse(const char *text, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    struct addr_list *l = calloc(1, sizeof *l);
    if (!l) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!text) return l;
    size_t cap = 1;
    for (const char *c = text; *c; c++)
        cap += *c == ',';
    l->nets = calloc(cap, sizeof *l->nets);
    if (!l->nets) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        free(l);
        return NULL;
    }
    const char *s = text;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        const char *e = s;
        while (len > 0 && is_space(*e))
            e++, len--;
        while (len > 0 && is_space(e[len - 1]))
            len--;
        if (len > 0) { /* empty items (",," or a trailing comma) are tolerated */
            if (!parse_net(e, len, &l->nets[l->n])) {
                if (err && errlen) snprintf(err, errlen, "%.*s", (int)(len > 200 ? 200 : len), e);
                addr_list_free(l);
                return NULL;
            }
            l->n++;
        }
        if (!comma) break;
        s = comma + 1;
    }
    return l;
}

void addr_list_free(struct addr_list *l)
{
    if (!l) return;
    free(l->nets);
    free(l);
}

static bool contains(const struct addr_list *l, const unsigned char a[16])
{
    if (!l) return false;
    for (size_t i = 0; i < l->n; i++) {
        unsigned char m[16];
        memcpy(m, a, 16);
        mask(m, l->nets[i].prefix);
        if (memcmp(m, l->nets[i].addr, 16) == 0) return true;
    }
    return false;
}

bool addr_list_contains(const struct addr_list *l, const char *addr)
{
    unsigned char a[16];
    bool v4;
    if (!l || !addr || !parse_addr(addr, strlen(addr), a, &v4)) return false;
    return contains(l, a);
}

/* One X-Forwarded-For hop: an address, possibly "[v6]", "[v6]:port" or "v4:port" as some
 * proxies write it. */
static bool parse_hop(const char *s, size_t len, unsigned char out[16])
{
    bool v4;
    while (len > 0 && is_space(*s))
        s++, len--;
    while (len > 0 && is_space(s[len - 1]))
        len--;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close) return false;
        size_t rest = len - (size_t)(close - s) - 1;
        if (rest > 0 && close[1] != ':') return false;
        return parse_addr(s + 1, (size_t)(close - s) - 1, out, &v4) && !v4;
    }
    if (parse_addr(s, len, out, &v4)) return true;
    const char *colon = memchr(s, ':', len);
    if (colon && !memchr(colon + 1, ':', len - (size_t)(colon - s) - 1))
        return parse_addr(s, (size_t)(colon - s), out, &v4) && v4;
    return false;
}

static void format_addr(const unsigned char a[16], char *out, size_t outlen)
{
    char tmp[INET6_ADDRSTRLEN];
    const char *r = memcmp(a, MAPPED, sizeof MAPPED) == 0
                        ? inet_ntop(AF_INET, a + 12, tmp, sizeof tmp)
                        : inet_ntop(AF_INET6, a, tmp, sizeof tmp);
    snprintf(out, outlen, "%s", r ? r : "");
}

void client_addr_resolve(const char *peer, const char *xff, const struct addr_list *trusted,
                         char *out, size_t outlen)
{
    if (!out || outlen == 0) return;
    unsigned char p[16];
    bool v4;
    if (!peer || !parse_addr(peer, strlen(peer), p, &v4)) {
        /* Not an IP peer (a unix socket, a test): keep the text so it still keys a quota. */
        snprintf(out, outlen, "%s", peer ? peer : "");
        return;
    }
    if (!xff || !contains(trusted, p)) {
        format_addr(p, out, outlen);
        return;
    }
    /* Right to left: each trusted proxy appended the address it saw. The first untrusted hop is
     * the client; anything left of it may be forged. A malformed hop ends the walk: no trusted
     * proxy wrote it, so nothing to its left can be believed either. */
    unsigned char pick[16], hop[16];
    memcpy(pick, p, 16);
    size_t end = strlen(xff);
    for (;;) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        if (!parse_hop(xff + start, end - start, hop)) break;
        memcpy(pick, hop, 16);
        if (!contains(trusted, hop) || start == 0) break;
        end = start - 1;
    }
    format_addr(pick, out, outlen);
}
